import { util } from 'undici';
import type { HttpResponse } from './http';

/** A response as `u.http` returns it; headers are parsed from the raw ones on first read. */
export class Response implements HttpResponse {
  private parsed: Record<string, string | string[] | undefined> | undefined;
  constructor(
    readonly status: number,
    private readonly raw: Buffer[] | undefined,
    readonly body: Buffer,
    readonly timeMs: number,
    readonly ok: boolean,
  ) {}
  get headers(): Record<string, string | string[] | undefined> {
    return (this.parsed ??= this.raw === undefined ? {} : (util.parseHeaders(this.raw) as Record<string, string | string[] | undefined>));
  }
  text(): string {
    return this.body.toString('utf8');
  }
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}
