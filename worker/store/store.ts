/**
 * The Store contract: where a run's plan, scenario, snapshots and reports live.
 * Keys are '/'-separated paths relative to the store's root (see layout.ts).
 *
 * Semantics every implementation keeps:
 * - `put` replaces the whole object; a reader sees the old or the new body, never a mix.
 * - `get` of an absent key resolves to `undefined` (an expected outcome, not an error).
 * - `list(prefix)` returns every key under `prefix`, sorted, however many there are.
 * - Failures (permissions, network after retries) reject with the store URL in the message.
 */
export interface Store {
  /** The URL this store was opened from, e.g. `file:///tmp/x` or `s3://bucket/prefix`. */
  readonly url: string;
  put(key: string, body: string | Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  list(prefix: string): Promise<string[]>;
  /**
   * The names one level below `prefix` (which ends in '/'), like a folder listing: for
   * `runs/` the run ids, without reading every key of every run. Sorted.
   */
  listFolders(prefix: string): Promise<string[]>;
  /** Streams a large body (raw events) without holding it in memory. */
  putStream(key: string, body: NodeJS.ReadableStream): Promise<void>;
}

export async function getJson<T>(store: Store, key: string): Promise<T | undefined> {
  const body = await store.get(key);
  return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
}

export function putJson(store: Store, key: string, value: unknown): Promise<void> {
  return store.put(key, JSON.stringify(value));
}
