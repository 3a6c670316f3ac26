import type { Dispatcher } from 'undici';
import { parseDuration, type Duration } from '../scenario/duration';
import type { UserScope } from '../engine/scope';
import { LoadError } from './errors';

export interface HttpRequestOptions {
  headers?: Record<string, string>;
  /** A string or bytes are sent as they are; any other value is sent as JSON. */
  body?: unknown;
  /** Added to the URL's query string. */
  query?: Record<string, string | number | boolean>;
  /**
   * The metric's name after the method, instead of the URL's path: name URLs that carry ids
   * (`'/users/:id'`) so that each does not become a metric of its own.
   */
  name?: string;
  /** Overrides the scenario's http.timeout. */
  timeout?: Duration;
  /** Status codes that count as success. @default any status < 400 */
  expect?: number | number[];
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** Milliseconds from the request being due to the last byte of the body. */
  timeMs: number;
  ok: boolean;
  text(): string;
  json<T = unknown>(): T;
}

/**
 * `u.http`: keep-alive HTTP/1.1 through the worker's shared undici dispatcher. Each call records
 * `http.<METHOD> <path or name>` (ms), payload bytes, and, for a status that is not expected, an
 * error `HTTP <status>`; the response is still returned. A network failure (refused, reset,
 * timeout) is recorded by code and thrown as a LoadError, which ends the user's journey unless
 * the scenario catches it; the body bytes received before it count as received (and the request's
 * as sent once the response had begun). Connections are counted in the `connections` gauge by the
 * worker's dispatcher (http-dispatcher.ts).
 */
export interface HttpClient {
  request(method: string, url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  get(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  head(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  delete(url: string, options?: HttpRequestOptions): Promise<HttpResponse>;
  post(url: string, body?: unknown, options?: HttpRequestOptions): Promise<HttpResponse>;
  put(url: string, body?: unknown, options?: HttpRequestOptions): Promise<HttpResponse>;
  patch(url: string, body?: unknown, options?: HttpRequestOptions): Promise<HttpResponse>;
}

class Response implements HttpResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: Buffer,
    readonly timeMs: number,
    readonly ok: boolean,
  ) {}
  text(): string {
    return this.body.toString('utf8');
  }
  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}

export function createHttpClient(scope: UserScope): HttpClient {
  const rt = scope.runtime;
  const base = rt.target.startsWith('http') ? rt.target : undefined;

  async function request(method: string, url: string, options: HttpRequestOptions = {}): Promise<HttpResponse> {
    const m = method.toUpperCase();
    let parsed: URL;
    try {
      parsed = new URL(url, base);
    } catch {
      throw scope.fail(Object.assign(new Error(`not a URL: ${url}`), { code: 'EINVALIDURL' }), `http ${m} ${url}`);
    }
    if (options.query) for (const [k, v] of Object.entries(options.query)) parsed.searchParams.append(k, String(v));
    const metric = `http.${m} ${options.name ?? parsed.pathname}`;
    let headers = options.headers;
    let body: string | Buffer | undefined;
    if (options.body !== undefined && options.body !== null) {
      if (typeof options.body === 'string' || Buffer.isBuffer(options.body)) body = options.body;
      else if (options.body instanceof Uint8Array) body = Buffer.from(options.body);
      else {
        body = JSON.stringify(options.body);
        headers = { 'content-type': 'application/json', ...headers };
      }
    }
    const timeoutMs = options.timeout === undefined ? rt.timeoutMs : parseDuration(options.timeout) ?? rt.timeoutMs;
    const start = scope.begin();
    // The timeout bounds the whole exchange, to the last byte of the body. undici's own
    // headersTimeout/bodyTimeout run on coarse timers (a 300 ms timeout fires after about 1 s) and
    // bodyTimeout is per chunk (a trickled body never times out); they stay only as a backstop.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new LoadError('ETIMEDOUT', `no complete response within ${timeoutMs} ms`, false)), timeoutMs);
    const sent = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    let res: Dispatcher.ResponseData | undefined;
    let payload: Buffer;
    let received = 0;
    try {
      res = await rt.dispatcher.request({
        origin: parsed.origin,
        path: parsed.pathname + parsed.search,
        method: m as Dispatcher.HttpMethod,
        headers,
        body,
        signal: deadline.signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const chunks: Buffer[] = [];
      for await (const chunk of res.body) {
        chunks.push(chunk as Buffer);
        received += (chunk as Buffer).length;
      }
      payload = Buffer.concat(chunks, received);
    } catch (err) {
      // What moved before the failure still counts: the body received so far, and the request
      // once the server answered it.
      if (res !== undefined || received > 0) rt.recorder.bytes(res !== undefined ? sent : 0, received);
      throw scope.fail(err, `http ${m} ${parsed.href}`);
    } finally {
      clearTimeout(timer);
    }
    const ok = options.expect === undefined ? res.statusCode < 400 : ([] as number[]).concat(options.expect).includes(res.statusCode);
    const timeMs = scope.ok(metric, start, sent, payload.length, ok ? undefined : `HTTP ${res.statusCode}`);
    // undici returns a keep-alive socket to its pool one event-loop turn after the response ends;
    // a journey's next request made before then opens another connection. Waiting that turn here,
    // after the time is taken, keeps a sequential user on one connection.
    await new Promise<void>((resolve) => setImmediate(resolve));
    return new Response(res.statusCode, res.headers, payload, timeMs, ok);
  }

  return {
    request,
    get: (url, o) => request('GET', url, o),
    head: (url, o) => request('HEAD', url, o),
    delete: (url, o) => request('DELETE', url, o),
    post: (url, body, o) => request('POST', url, { ...o, body }),
    put: (url, body, o) => request('PUT', url, { ...o, body }),
    patch: (url, body, o) => request('PATCH', url, { ...o, body }),
  };
}
