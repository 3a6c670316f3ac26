import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import { layout } from '../store/layout';
import type { Store } from '../store/store';

const gzipAsync = promisify(gzip);

/**
 * One line of `workers/<i>/events-<part>.ndjson.gz` (`--raw-events`): every operation a user made.
 *   t    epoch ms when it completed       w   worker index       u  user id
 *   m    metric name                      ms  latency (ms, 3 decimals)
 *   out  payload bytes sent               in  payload bytes received
 *   ok   true, or false with `code` (ECONNREFUSED, HTTP 503, check <name>, …)
 */
export interface RawEvent {
  t: number;
  w: number;
  u: number;
  m: string;
  ms: number;
  out: number;
  in: number;
  ok: boolean;
  code?: string;
}

export interface RawEventSink {
  event(user: number, metric: string, ms: number, sent: number, received: number, ok: boolean, code?: string): void;
}

/**
 * Streams a worker's events to the store as gzip NDJSON parts. Memory is bounded: a part is
 * cut at `partBytes` of text (and at every `flush()`, once per snapshot interval), at most
 * `maxInFlight` parts (plus the one a flush cuts) are being compressed or written at once, and
 * events that arrive while the buffer and those are full are dropped and counted in `dropped`
 * (the report says so) rather than held.
 */
export class RawEventWriter implements RawEventSink {
  private lines: string[] = [];
  private bytes = 0;
  private part = 0;
  private inFlight = 0;
  private writes: Promise<void>[] = [];
  private failure: Error | undefined;
  dropped = 0;
  written = 0;

  constructor(
    private readonly store: Store,
    private readonly runId: string,
    private readonly worker: number,
    private readonly partBytes = 4 * 1024 * 1024,
    private readonly maxInFlight = 2,
  ) {}

  event(user: number, metric: string, ms: number, sent: number, received: number, ok: boolean, code?: string): void {
    if (this.bytes >= this.partBytes) {
      if (this.inFlight >= this.maxInFlight) {
        this.dropped++;
        return;
      }
      this.cut();
    }
    const e: RawEvent = { t: Date.now(), w: this.worker, u: user, m: metric, ms: Math.round(ms * 1000) / 1000, out: sent, in: received, ok };
    if (code !== undefined) e.code = code;
    const line = JSON.stringify(e);
    this.lines.push(line);
    this.bytes += line.length + 1;
  }

  /** Writes what is buffered as a part of its own. */
  flush(): void {
    if (this.lines.length > 0) this.cut();
  }

  /** Flushes and waits for every part to be in the store; rejects if any write failed. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.writes);
    if (this.failure) throw this.failure;
  }

  private cut(): void {
    const text = this.lines.join('\n') + '\n';
    const count = this.lines.length;
    this.lines = [];
    this.bytes = 0;
    const key = layout.rawEvents(this.runId, this.worker, this.part++);
    this.inFlight++;
    const write = gzipAsync(text)
      .then((body) => this.store.put(key, body))
      .then(
        () => {
          this.written += count;
        },
        (err: Error) => {
          this.failure ??= err;
          this.dropped += count;
        },
      )
      .finally(() => {
        this.inFlight--;
        this.writes = this.writes.filter((w) => w !== write);
      });
    this.writes.push(write);
  }
}
