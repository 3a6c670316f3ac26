/**
 * Why a store could not be used. Codes are stable (tests, scripts and the CLI read them);
 * messages are one line: what failed, where, and how to fix it.
 *
 * - `STORE_BAD_URL`     the store URL cannot be used (scheme, bucket name, % escapes)
 * - `STORE_BAD_CONFIG`  a setting of the store is wrong (LOADFARM_S3_CHECKSUMS)
 * - `STORE_BAD_RUN_ID`  a run id that is not a safe name (`../../etc`)
 * - `STORE_BAD_KEY`     a key that would leave the store's root
 * - `STORE_NOT_FOLDER`  a file store whose path (or a folder on it) is a regular file
 * - `STORE_READ_ONLY`   the filesystem refuses writes or new folders (read-only, virtual)
 * - `STORE_DENIED`      permission denied (file mode; S3 AccessDenied, or credentials missing,
 *                       expired or refused)
 * - `STORE_NO_BUCKET`   the S3 bucket does not exist
 * - `STORE_FULL`        no space, quota or file-size limit reached
 * - `STORE_EXISTS`      `putNew` of a key that already holds an object (write-once)
 * - `STORE_FAILED`      anything else, after the store's own retries (network, S3 5xx, …)
 */
export type StoreErrorCode =
  | 'STORE_BAD_URL'
  | 'STORE_BAD_CONFIG'
  | 'STORE_BAD_RUN_ID'
  | 'STORE_BAD_KEY'
  | 'STORE_NOT_FOLDER'
  | 'STORE_READ_ONLY'
  | 'STORE_DENIED'
  | 'STORE_NO_BUCKET'
  | 'STORE_FULL'
  | 'STORE_EXISTS'
  | 'STORE_FAILED';

export class StoreError extends Error {
  override readonly name = 'StoreError';
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
