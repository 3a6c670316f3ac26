import type { Dispatcher } from 'undici';
import type { UserScope } from '../engine/scope';
import { arm, Deadline, disarm } from './deadlines';
import { LoadError } from './errors';
import { release, type Slot, type SlotHandler } from './http-dispatcher';
import type { HttpResponse } from './http';
import { Response } from './http-response';

/**
 * One HTTP request/response as an undici dispatch handler: no stream, no AbortSignal, no timer
 * of its own.
 *
 * - Timed from its creation (`scope.begin()`) to the last byte of the body, recorded at
 *   `onComplete` with the payload bytes and, for a status not expected, the error `HTTP <status>`.
 * - The whole exchange is bounded by `timeoutMs` through the worker's deadline list: on expiry
 *   the request is aborted (its connection closed) and fails with `ETIMEDOUT`.
 * - A failure (refused, reset, timeout) is recorded once by code through `scope.fail`, and the
 *   promise rejects with its LoadError; body bytes received before it count as received, and the
 *   request's bytes as sent once the response had begun.
 * - Its connection slot (http-dispatcher.ts) is released when undici is finished with it
 *   (`onComplete`, `onError`), before the response reaches the scenario, so that the user's next
 *   request goes to the same connection.
 */
export class Exchange extends Deadline implements SlotHandler {
  slot: Slot | undefined = undefined;
  readonly promise: Promise<HttpResponse>;
  private resolve!: (r: HttpResponse) => void;
  private reject!: (e: unknown) => void;
  private readonly start: number;
  private abort: ((err?: Error) => void) | undefined = undefined;
  /** The failure to abort with once undici gives the abort function (expired before it connected). */
  private abortWith: Error | undefined = undefined;
  private done = false;
  private status = 0;
  private rawHeaders: Buffer[] | undefined = undefined;
  /** The body when it came in one chunk; `chunks` once it came in more. */
  private first: Buffer | undefined = undefined;
  private chunks: Buffer[] | undefined = undefined;
  private received = 0;

  constructor(
    private readonly scope: UserScope,
    private readonly metric: string,
    private readonly method: string,
    private readonly href: string,
    private readonly sent: number,
    private readonly expect: number | number[] | undefined,
    private readonly timeoutMs: number,
  ) {
    super();
    this.promise = new Promise<HttpResponse>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.start = scope.begin();
    arm(this, timeoutMs);
  }

  /** Ended before it was sent: failed by its deadline while waiting for a connection (http-dispatcher.ts). */
  get cancelled(): boolean {
    return this.done && this.slot === undefined;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.abortWith !== undefined) return abort(this.abortWith);
    this.abort = abort;
  }

  onHeaders(statusCode: number, headers: Buffer[]): boolean {
    if (this.done || statusCode < 200) return true;
    this.status = statusCode;
    this.rawHeaders = headers;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.done) return true;
    this.received += chunk.length;
    if (this.first === undefined && this.chunks === undefined) this.first = chunk;
    else if (this.chunks === undefined) {
      this.chunks = [this.first!, chunk];
      this.first = undefined;
    } else this.chunks.push(chunk);
    return true;
  }

  onComplete(): void {
    release(this);
    if (this.done) return;
    this.done = true;
    disarm(this);
    const body = this.chunks !== undefined ? Buffer.concat(this.chunks, this.received) : (this.first ?? EMPTY);
    const status = this.status;
    const expect = this.expect;
    const ok = expect === undefined ? status < 400 : typeof expect === 'number' ? status === expect : expect.includes(status);
    const timeMs = this.scope.ok(this.metric, this.start, this.sent, body.length, ok ? undefined : `HTTP ${status}`);
    const response = new Response(status, this.rawHeaders, body, timeMs, ok);
    this.first = this.chunks = this.rawHeaders = undefined;
    this.resolve(response);
  }

  onError(err: Error): void {
    release(this);
    if (this.done) return;
    this.failWith(err);
  }

  expire(): void {
    if (this.done) return;
    const err = new LoadError('ETIMEDOUT', `no complete response within ${this.timeoutMs} ms`, false);
    if (this.abort !== undefined) this.abort(err);
    else this.abortWith = err;
    // undici answers the abort with onError(err), or not at all before it connects: fail here.
    if (!this.done) this.failWith(err);
  }

  private failWith(err: unknown): void {
    this.done = true;
    disarm(this);
    // What moved before the failure still counts: the body received so far, and the request
    // once the server answered it.
    if (this.status !== 0 || this.received > 0) this.scope.runtime.recorder.bytes(this.status !== 0 ? this.sent : 0, this.received);
    this.first = this.chunks = this.rawHeaders = undefined;
    this.reject(this.scope.fail(err, `http ${this.method} ${this.href}`));
  }
}

const EMPTY = Buffer.alloc(0);
