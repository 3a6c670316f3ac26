import type { Dispatcher } from 'undici';
import { parseDuration, type Duration } from '../scenario/duration';
import type { Runtime, UserScope } from '../engine/scope';
import { LoadError } from './errors';
import { Exchange } from './http-exchange';
import type { Slot } from './http-dispatcher';

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
 * `u.http`: keep-alive HTTP/1.1 through the worker's shared dispatcher (http-dispatcher.ts). Each call records
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

/** A URL resolved against the run's target once: origin, request path and metric path. */
interface Target {
  readonly href: string;
  readonly origin: string;
  /** pathname + search, as sent. */
  readonly path: string;
  /** The metric's default label. */
  readonly pathname: string;
  /** Dispatch options of a request with no headers, body, query or timeout of its own, by method. */
  readonly plain: Map<string, Dispatcher.DispatchOptions>;
}

/** Distinct URLs kept per runtime; past it the cache starts again (scenarios with ids in URLs). */
const TARGETS_MAX = 1024;
const targetsByRuntime = new WeakMap<Runtime, Map<string, Target>>();

function targetsOf(rt: Runtime): Map<string, Target> {
  let m = targetsByRuntime.get(rt);
  if (m === undefined) targetsByRuntime.set(rt, (m = new Map()));
  return m;
}

/** Metric names by label then method: `http.GET /things` is built once. */
const METRICS_MAX = 4096;
let metricNames = new Map<string, Map<string, string>>();
let metricCount = 0;

function metricOf(method: string, label: string): string {
  let byMethod = metricNames.get(label);
  if (byMethod === undefined) {
    if (metricCount >= METRICS_MAX) {
      metricNames = new Map();
      metricCount = 0;
    }
    metricNames.set(label, (byMethod = new Map()));
  }
  let name = byMethod.get(method);
  if (name === undefined) {
    byMethod.set(method, (name = `http.${method} ${label}`));
    metricCount++;
  }
  return name;
}

const METHODS: Record<string, string> = { GET: 'GET', HEAD: 'HEAD', POST: 'POST', PUT: 'PUT', DELETE: 'DELETE', PATCH: 'PATCH', OPTIONS: 'OPTIONS' };
const JSON_TYPE = 'application/json';

/** undici's own timeouts: past our deadline by more than its fast timers' error, so ours always comes first. */
function backstop(timeoutMs: number): number {
  return timeoutMs + 1000;
}

export function createHttpClient(scope: UserScope): HttpClient {
  const rt = scope.runtime;
  const base = rt.target.startsWith('http') ? rt.target : undefined;
  const targets = targetsOf(rt);
  /** The connection of this user's previous request: its next one goes there when it is free. */
  let pin: Slot | undefined;

  function resolve(url: string): Target | undefined {
    let t = targets.get(url);
    if (t !== undefined) return t;
    let parsed: URL;
    try {
      parsed = new URL(url, base);
    } catch {
      return undefined;
    }
    if (targets.size >= TARGETS_MAX) targets.clear();
    t = { href: parsed.href, origin: parsed.origin, path: parsed.pathname + parsed.search, pathname: parsed.pathname, plain: new Map() };
    targets.set(url, t);
    return t;
  }

  function request(method: string, url: string, options?: HttpRequestOptions): Promise<HttpResponse> {
    const m = METHODS[method] ?? method.toUpperCase();
    const t = resolve(url);
    if (t === undefined) {
      return Promise.reject(scope.fail(Object.assign(new Error(`not a URL: ${url}`), { code: 'EINVALIDURL' }), `http ${m} ${url}`));
    }
    const metric = metricOf(m, options?.name ?? t.pathname);
    let opts: Dispatcher.DispatchOptions | undefined;
    let timeoutMs = rt.timeoutMs;
    let sent = 0;
    if (options === undefined || (options.headers === undefined && options.query === undefined && options.timeout === undefined && (options.body === undefined || options.body === null))) {
      opts = t.plain.get(m);
      if (opts === undefined) {
        opts = { origin: t.origin, path: t.path, method: m as Dispatcher.HttpMethod, headersTimeout: backstop(timeoutMs), bodyTimeout: backstop(timeoutMs) };
        t.plain.set(m, opts);
      }
    } else {
      if (options.timeout !== undefined) timeoutMs = parseDuration(options.timeout) ?? rt.timeoutMs;
      let path = t.path;
      if (options.query) {
        const withQuery = new URL(t.href);
        for (const [k, v] of Object.entries(options.query)) withQuery.searchParams.append(k, String(v));
        path = withQuery.pathname + withQuery.search;
      }
      let headers: Record<string, string> | undefined = options.headers;
      let body: string | Buffer | undefined;
      const b = options.body;
      if (b !== undefined && b !== null) {
        if (typeof b === 'string' || Buffer.isBuffer(b)) body = b;
        else if (b instanceof Uint8Array) body = Buffer.from(b);
        else {
          body = JSON.stringify(b);
          headers = headers === undefined ? { 'content-type': JSON_TYPE } : { 'content-type': JSON_TYPE, ...headers };
        }
        sent = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
      }
      opts = { origin: t.origin, path, method: m as Dispatcher.HttpMethod, headers, body, headersTimeout: backstop(timeoutMs), bodyTimeout: backstop(timeoutMs) };
    }
    // The timeout bounds the whole exchange, to the last byte of the body (the worker's shared
    // deadline list, deadlines.ts). undici's own headersTimeout/bodyTimeout run on coarse timers that
    // can fire up to half a second EARLY (its fast timers start from a clock updated every 499 ms),
    // and bodyTimeout is per chunk: they stay only as a backstop, set well past the deadline.
    const x = new Exchange(scope, metric, m, t.href, sent, options?.expect, timeoutMs);
    rt.dispatcher.dispatch(opts, x, pin);
    if (x.slot !== undefined) pin = x.slot;
    return x.promise;
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
