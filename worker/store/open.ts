import * as path from 'node:path';
import { FileStore } from './file';
import type { Store } from './store';
import { storeLocation } from './url';

export { storeUrlProblem } from './url';

export interface StoreOptions {
  /** S3-compatible endpoint (e.g. http://127.0.0.1:4566); AWS_ENDPOINT_URL_S3 is honoured too. */
  s3Endpoint?: string;
  /**
   * Region of an s3:// store's bucket, when known (e.g. from the environment's facts).
   * @default found from the bucket itself (HeadBucket), see S3StoreOptions.region
   */
  s3Region?: string;
  /** Working directory for relative file paths. @default process.cwd() */
  cwd?: string;
}

/**
 * Opens `file://DIR`, a plain folder path, or `s3://BUCKET/PREFIX` (url.ts). Throws StoreError
 * `STORE_BAD_URL` for a URL that cannot be used and `STORE_NOT_FOLDER` for a folder path that
 * is a file; nothing else is checked before the first read or write.
 */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const location = storeLocation(url);
  if (location.kind === 's3') {
    const { S3Store } = await import('./s3');
    return S3Store.at(url, location, { endpoint: options.s3Endpoint, region: options.s3Region });
  }
  return FileStore.open(path.resolve(options.cwd ?? process.cwd(), location.path));
}
