/**
 * The Store contract: where a run's plan, scenario, snapshots and reports live.
 * Keys are '/'-separated paths relative to the store's root (see layout.ts).
 *
 * Semantics every implementation keeps:
 * - `put` replaces the whole object; a reader sees the old or the new body, never a mix.
 * - `putNew` writes an object only if none exists at its key (write-once: snapshots, the plan,
 *   the scenario), atomically: of two writers of one key exactly one wins, the other rejects
 *   with StoreError `STORE_EXISTS` and the object keeps the winner's body. Never replaces. A key
 *   that already holds exactly the same bytes resolves: a request retried after its first
 *   attempt landed (a lost response) is not a conflict.
 * - `get` of an absent key resolves to `undefined` (an expected outcome, not an error).
 * - `list(prefix)` returns every key under `prefix`, sorted, however many there are.
 * - Failures reject with a StoreError (errors.ts): a stable `code` and one line naming the
 *   store URL, the key, what went wrong and how to fix it; the underlying error as `cause`.
 */
export interface Store {
  /** The URL this store was opened from, e.g. `file:///tmp/x` or `s3://bucket/prefix`. */
  readonly url: string;
  put(key: string, body: string | Uint8Array): Promise<void>;
  /**
   * Writes `body` at `key` only if no object is there yet (S3: a conditional PutObject with
   * `If-None-Match: *`; files: a hard link that refuses to replace). Rejects with StoreError
   * `STORE_EXISTS` when one is, with other bytes, leaving it untouched.
   */
  putNew(key: string, body: string | Uint8Array): Promise<void>;
  get(key: string): Promise<Buffer | undefined>;
  /**
   * Every key under `prefix`, sorted; with `startAfter`, only the keys after it (S3's
   * StartAfter): how a reader fetches what is new under a prefix without listing it all again.
   */
  list(prefix: string, options?: ListOptions): Promise<string[]>;
  /**
   * The names one level below `prefix` (which ends in '/'), like a folder listing: for
   * `runs/` the run ids, without reading every key of every run. Sorted.
   */
  listFolders(prefix: string): Promise<string[]>;
  /** Streams a large body (raw events) without holding it in memory. */
  putStream(key: string, body: NodeJS.ReadableStream): Promise<void>;
}

export interface ListOptions {
  /** Only keys sorting after this one (it need not exist). */
  startAfter?: string;
}

export async function getJson<T>(store: Store, key: string): Promise<T | undefined> {
  const body = await store.get(key);
  return body === undefined ? undefined : (JSON.parse(body.toString('utf8')) as T);
}

export function putJson(store: Store, key: string, value: unknown): Promise<void> {
  return store.put(key, JSON.stringify(value));
}

/** `putNew` of `value` as JSON: rejects with StoreError `STORE_EXISTS` if `key` holds an object. */
export function putNewJson(store: Store, key: string, value: unknown): Promise<void> {
  return store.putNew(key, JSON.stringify(value));
}
