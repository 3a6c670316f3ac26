import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { FileStore } from '../../../worker/store/file';
import { S3Store } from '../../../worker/store/s3';
import type { Store } from '../../../worker/store/store';
import { startS3Front, type S3Front } from '../../helpers/s3-front';
import { s3rverCredentials, startS3rver, type S3rverHandle } from '../../helpers/s3rver';

/**
 * One contract (worker/store/store.ts), every implementation: each test gets a store at a
 * fresh root, and `at(sub)` opens another store rooted at `sub` below that root.
 */
interface Subject {
  readonly name: string;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  fresh(): { store: Store; at(sub: string): Store };
}

function fileSubject(): Subject {
  let dir = '';
  let n = 0;
  return {
    name: 'FileStore',
    async setup() {
      dir = await mkdtemp(path.join(tmpdir(), 'loadfarm-store-'));
    },
    async teardown() {
      await rm(dir, { recursive: true, force: true });
    },
    fresh() {
      const root = path.join(dir, `case-${++n}`);
      const at = (sub: string) => new FileStore(path.join(root, ...sub.split('/').filter(Boolean)));
      return { store: at(''), at };
    },
  };
}

/** S3 pages of 7 keys, so that every list with more keys follows continuation tokens. */
const S3_PAGE_SIZE = 7;

/**
 * s3rver behind a front that honours If-None-Match as S3 does (s3rver 4.0.4 ignores it; see
 * test/helpers/s3-front.ts); every other request passes through unchanged.
 */
function s3Subject(): Subject {
  let server: S3rverHandle;
  let front: S3Front;
  let n = 0;
  const opened: S3Store[] = [];
  const savedEnv = { ...process.env };
  return {
    name: 'S3Store',
    async setup() {
      server = await startS3rver();
      front = await startS3Front({ upstream: server.endpoint, bucket: server.bucket, region: 'us-east-1', conditionalWrites: true });
      // The store takes credentials from the SDK's default chain, like in real use.
      process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = s3rverCredentials.secretAccessKey;
      process.env.AWS_EC2_METADATA_DISABLED = 'true';
    },
    async teardown() {
      process.env = savedEnv;
      for (const store of opened) store.destroy();
      await front?.close();
      await server?.close();
    },
    fresh() {
      const root = `case-${++n}`;
      const at = (sub: string) => {
        const store = S3Store.fromUrl(`s3://${server.bucket}/${root}/${sub}`, {
          endpoint: front.endpoint,
          pageSize: S3_PAGE_SIZE,
          env: {},
        });
        opened.push(store);
        return store;
      };
      return { store: at(''), at };
    },
  };
}

/** `bytes` of random data, produced chunk by chunk as it is read. */
function generated(bytes: number): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  let left = bytes;
  const stream = new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const chunk = randomBytes(Math.min(64 * 1024, left));
      left -= chunk.length;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

const sha256 = (body: Buffer) => createHash('sha256').update(body).digest('hex');

describe.each([fileSubject(), s3Subject()])('Store contract: $name', (subject) => {
  beforeAll(() => subject.setup());
  afterAll(() => subject.teardown());

  test('put then get returns the same string and the same bytes', async () => {
    const { store } = subject.fresh();
    await store.put('runs/r1/plan.json', '{"workers":3,"name":"dé"}');
    expect((await store.get('runs/r1/plan.json'))?.toString('utf8')).toBe('{"workers":3,"name":"dé"}');

    const binary = Uint8Array.from({ length: 512 }, (_, i) => (i * 7) % 256);
    await store.put('runs/r1/blob.bin', binary);
    const back = await store.get('runs/r1/blob.bin');
    expect(Buffer.isBuffer(back)).toBe(true);
    expect(back).toEqual(Buffer.from(binary));

    await store.put('empty', '');
    expect(await store.get('empty')).toEqual(Buffer.alloc(0));
  });

  test('get of an absent key resolves to undefined', async () => {
    const { store } = subject.fresh();
    expect(await store.get('runs/none/plan.json')).toBeUndefined();
    await store.put('runs/r1/plan.json', '{}');
    expect(await store.get('runs/r1/plan.jso')).toBeUndefined();
    expect(await store.get('runs/r1')).toBeUndefined();
  });

  test('listFolders names what is one level below a prefix, across pages', async () => {
    const { store } = subject.fresh();
    const runs = Array.from({ length: 12 }, (_, i) => `run-${String(i).padStart(2, '0')}`);
    for (const r of runs) {
      await store.put(`runs/${r}/plan.json`, '{}');
      await store.put(`runs/${r}/workers/0/status.json`, '{}');
    }
    await store.put('runs/loose.txt', 'x');
    expect(await store.listFolders('runs/')).toEqual(runs);
    expect(await store.listFolders('nothing/')).toEqual([]);
  });

  test('put replaces the whole object', async () => {
    const { store } = subject.fresh();
    await store.put('runs/r1/status.json', 'a much longer first body');
    await store.put('runs/r1/status.json', 'short');
    expect((await store.get('runs/r1/status.json'))?.toString()).toBe('short');
    expect(await store.list('runs/r1/')).toEqual(['runs/r1/status.json']);
  });

  test('putNew writes once: a second write of the key rejects with STORE_EXISTS and changes nothing', async () => {
    const { store } = subject.fresh();
    await store.putNew('runs/r1/workers/0/snapshots/000001.json', 'first');
    await expect(store.putNew('runs/r1/workers/0/snapshots/000001.json', 'second')).rejects.toMatchObject({
      name: 'StoreError',
      code: 'STORE_EXISTS',
      message: `${store.url}: cannot write runs/r1/workers/0/snapshots/000001.json: it already exists and is written once only`,
    });
    await store.put('runs/r1/plan.json', 'by put');
    await expect(store.putNew('runs/r1/plan.json', 'by putNew')).rejects.toMatchObject({ code: 'STORE_EXISTS' });
    expect((await store.get('runs/r1/workers/0/snapshots/000001.json'))?.toString()).toBe('first');
    expect((await store.get('runs/r1/plan.json'))?.toString()).toBe('by put');
    await store.putNew('runs/r1/workers/0/snapshots/000002.json', Uint8Array.from([1, 2, 3]));
    expect(await store.get('runs/r1/workers/0/snapshots/000002.json')).toEqual(Buffer.from([1, 2, 3]));
    // The same bytes again (a retried write whose first attempt landed) is no conflict.
    await store.putNew('runs/r1/workers/0/snapshots/000002.json', Buffer.from([1, 2, 3]));
    await store.putNew('runs/r1/workers/0/snapshots/000001.json', 'first');
    await expect(store.putNew('runs/r1/workers/0/snapshots/000002.json', Uint8Array.from([1, 2]))).rejects.toMatchObject({ code: 'STORE_EXISTS' });
    expect(await store.list('runs/r1/')).toEqual([
      'runs/r1/plan.json',
      'runs/r1/workers/0/snapshots/000001.json',
      'runs/r1/workers/0/snapshots/000002.json',
    ]);
  });

  test('putNew of one key by many writers at once: exactly one wins, whole', async () => {
    const { store } = subject.fresh();
    const bodies = Array.from({ length: 8 }, (_, i) => `writer ${i} `.repeat(2000));
    const results = await Promise.allSettled(bodies.map((body) => store.putNew('runs/r1/stop', body)));
    const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'STORE_EXISTS' });
    expect((await store.get('runs/r1/stop'))?.toString()).toBe(bodies[won[0]]);
    expect(await store.list('runs/r1/')).toEqual(['runs/r1/stop']);
  });

  test('list with startAfter returns only the keys after it, across pages', async () => {
    const { store } = subject.fresh();
    const keys = Array.from({ length: 20 }, (_, i) => `runs/a/workers/0/snapshots/${String(i).padStart(6, '0')}.json`);
    for (const key of [...keys, 'runs/a/workers/1/status.json', 'runs/a/plan.json']) await store.put(key, key);
    const prefix = 'runs/a/workers/0/snapshots/';
    expect(await store.list(prefix, { startAfter: keys[11] })).toEqual(keys.slice(12));
    expect(await store.list(prefix, { startAfter: `${prefix}000003.json.x` })).toEqual(keys.slice(4));
    expect(await store.list(prefix, { startAfter: keys[19] })).toEqual([]);
    expect(await store.list(prefix, { startAfter: 'runs/' })).toEqual(keys);
  });

  test('list returns every key under a prefix, sorted, whether the prefix ends mid-name or at /', async () => {
    const { store } = subject.fresh();
    const keys = [
      'runs/b/plan.json',
      'runs/a/workers/1/snapshots/000002.json',
      'runs/a/plan.json',
      'runs/ab/plan.json',
      'runs/a/workers/0/status.json',
      'runs/a/workers/1/snapshots/000001.json',
      'runsx',
      'other/x',
    ];
    for (const key of keys) await store.put(key, key);

    expect(await store.list('runs/a/')).toEqual([
      'runs/a/plan.json',
      'runs/a/workers/0/status.json',
      'runs/a/workers/1/snapshots/000001.json',
      'runs/a/workers/1/snapshots/000002.json',
    ]);
    expect(await store.list('runs/a')).toEqual([
      'runs/a/plan.json',
      'runs/a/workers/0/status.json',
      'runs/a/workers/1/snapshots/000001.json',
      'runs/a/workers/1/snapshots/000002.json',
      'runs/ab/plan.json',
    ]);
    expect(await store.list('runs/a/workers/1/snapshots/00000')).toEqual([
      'runs/a/workers/1/snapshots/000001.json',
      'runs/a/workers/1/snapshots/000002.json',
    ]);
    expect(await store.list('runs')).toEqual([...keys.filter((k) => k.startsWith('runs'))].sort());
    expect(await store.list('')).toEqual([...keys].sort());
    expect(await store.list('runs/c/')).toEqual([]);
    expect(await store.list('nothing')).toEqual([]);
  });

  test('list returns every key when there are many (several pages)', async () => {
    const { store } = subject.fresh();
    const keys = Array.from({ length: 50 }, (_, i) => `runs/r1/workers/${i % 3}/snapshots/${String(i).padStart(6, '0')}.json`);
    await Promise.all(keys.map((key) => store.put(key, key)));
    await store.put('runs/r10/plan.json', '{}');

    expect(await store.list('runs/r1/')).toEqual([...keys].sort());
    expect(await store.list('runs/r1/workers/2/')).toEqual(keys.filter((k) => k.includes('/workers/2/')).sort());
    expect(await store.list('runs/r1')).toHaveLength(51);
  });

  test('putStream stores a body of several MiB, streamed', async () => {
    const { store } = subject.fresh();
    const size = 11 * 1024 * 1024 + 123; // three parts for S3: 5 + 5 + 1 MiB
    const body = generated(size);
    await store.putStream('runs/r1/workers/0/events-0000.ndjson.gz', body.stream);
    const back = await store.get('runs/r1/workers/0/events-0000.ndjson.gz');
    expect(back?.length).toBe(size);
    expect(sha256(back!)).toBe(body.sha256());
  });

  test('putStream stores a small body and replaces an existing one', async () => {
    const { store } = subject.fresh();
    await store.put('runs/r1/events.ndjson', 'old and longer');
    await store.putStream('runs/r1/events.ndjson', Readable.from([Buffer.from('{"a":1}\n'), Buffer.from('{"a":2}\n')]));
    expect((await store.get('runs/r1/events.ndjson'))?.toString()).toBe('{"a":1}\n{"a":2}\n');
  });

  test('a store opened below a root keeps its keys under that prefix', async () => {
    const { at } = subject.fresh();
    const deep = at('some/prefix');
    await deep.put('runs/r1/plan.json', 'deep');
    await deep.putStream('runs/r1/events.ndjson', Readable.from([Buffer.from('e')]));

    expect(await deep.list('')).toEqual(['runs/r1/events.ndjson', 'runs/r1/plan.json']);
    expect(await deep.list('runs/r1/p')).toEqual(['runs/r1/plan.json']);
    expect((await deep.get('runs/r1/plan.json'))?.toString()).toBe('deep');

    const above = at('some');
    expect(await above.list('')).toEqual(['prefix/runs/r1/events.ndjson', 'prefix/runs/r1/plan.json']);
    expect((await above.get('prefix/runs/r1/plan.json'))?.toString()).toBe('deep');
    expect(await above.get('runs/r1/plan.json')).toBeUndefined();
    expect(await at('some/pre').list('')).toEqual([]);
  });
});
