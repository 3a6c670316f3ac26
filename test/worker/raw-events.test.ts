import { gunzipSync } from 'node:zlib';
import { RawEventWriter, type RawEvent } from '../../worker/metrics/raw-events';
import type { Store } from '../../worker/store/store';

/** A store that keeps parts in memory, optionally slow, and records how many puts overlap. */
function memoryStore(delayMs = 0) {
  const parts = new Map<string, Buffer>();
  let inFlight = 0;
  let maxInFlight = 0;
  const store: Store = {
    url: 'memory://',
    async put(key, body) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      parts.set(key, Buffer.from(body));
      inFlight--;
    },
    async putNew(key, body) {
      if (parts.has(key)) throw Object.assign(new Error(`${key} exists`), { code: 'STORE_EXISTS' });
      await store.put(key, body);
    },
    async get(key) {
      return parts.get(key);
    },
    async list(prefix) {
      return [...parts.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    async listFolders() {
      return [];
    },
    async putStream() {
      throw new Error('not used');
    },
  };
  const events = (): RawEvent[] =>
    [...parts.keys()].sort().flatMap((k) => gunzipSync(parts.get(k)!).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as RawEvent));
  return { store, parts, events, maxInFlight: () => maxInFlight };
}

describe('RawEventWriter', () => {
  it('writes every event, in order, as gzip NDJSON parts under the worker', async () => {
    const m = memoryStore();
    // Parts small and many; room for all of them in flight, since this loop never yields.
    const w = new RawEventWriter(m.store, 'run-1', 2, 2000, 1000);
    for (let i = 0; i < 500; i++) w.event(1000 + (i % 7), i % 2 ? 'http.GET /' : 'ws.echo', i / 10, 10, 20, i % 50 !== 0, i % 50 !== 0 ? undefined : 'HTTP 503');
    await w.close();
    const events = m.events();
    expect(events).toHaveLength(500);
    expect(w.written).toBe(500);
    expect(w.dropped).toBe(0);
    expect(events[3]).toMatchObject({ w: 2, u: 1003, m: 'http.GET /', ms: 0.3, out: 10, in: 20, ok: true });
    expect(events[0]).toMatchObject({ ok: false, code: 'HTTP 503' });
    expect(events.filter((e) => !e.ok)).toHaveLength(10);
    expect([...m.parts.keys()].sort()[0]).toBe('runs/run-1/workers/2/events-0000.ndjson.gz');
    expect(m.parts.size).toBeGreaterThan(10);
  });

  it('keeps memory bounded when the store is slower than the events: parts cut at size, at most 2 in flight, the rest dropped and counted', async () => {
    const m = memoryStore(30);
    const partBytes = 16 * 1024;
    const w = new RawEventWriter(m.store, 'run-2', 0, partBytes, 2);
    const total = 200_000;
    for (let i = 0; i < total; i++) w.event(i, 'http.GET /', 1.234, 0, 100, true);
    await w.close();
    // Two parts in flight, plus the last one close() cuts.
    expect(m.maxInFlight()).toBeLessThanOrEqual(3);
    for (const body of m.parts.values()) expect(gunzipSync(body).length).toBeLessThanOrEqual(partBytes + 200);
    expect(w.dropped).toBeGreaterThan(0);
    expect(w.written + w.dropped).toBe(total);
    expect(m.events()).toHaveLength(w.written);
  });

  it('a failing store is reported on close, and its events count as dropped', async () => {
    const m = memoryStore();
    m.store.put = async () => {
      throw new Error('s3 down');
    };
    const w = new RawEventWriter(m.store, 'run-3', 0, 100);
    for (let i = 0; i < 10; i++) w.event(i, 'x', 1, 0, 0, true);
    await expect(w.close()).rejects.toThrow('s3 down');
    expect(w.dropped).toBe(10);
  });
});
