import * as path from 'node:path';
import { FileStore } from './file';
import type { Store } from './store';

export interface StoreOptions {
  /** S3-compatible endpoint (e.g. http://127.0.0.1:4566); AWS_ENDPOINT_URL_S3 is honoured too. */
  s3Endpoint?: string;
  /** Working directory for relative file paths. @default process.cwd() */
  cwd?: string;
}

/** Why a store URL cannot be used, or undefined when it can. */
export function storeUrlProblem(url: string): string | undefined {
  if (url.startsWith('file://')) return undefined;
  if (url.startsWith('s3://')) {
    const bucket = url.slice(5).split('/')[0];
    return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket) ? undefined : `"${bucket}" is not an S3 bucket name`;
  }
  if (!url.includes('://')) return undefined; // a plain folder path
  return 'expected file://DIR, s3://BUCKET/PREFIX or a folder path';
}

/** Opens `file://DIR`, a plain folder path, or `s3://BUCKET/PREFIX`. */
export async function openStore(url: string, options: StoreOptions = {}): Promise<Store> {
  const problem = storeUrlProblem(url);
  if (problem) throw new Error(`--store ${url}: ${problem}`);
  if (url.startsWith('s3://')) {
    const { S3Store } = await import('./s3');
    return S3Store.fromUrl(url, { endpoint: options.s3Endpoint });
  }
  // file://DIR takes DIR as a path: absolute (file:///tmp/x) or relative to cwd (file://.loadfarm).
  const raw = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const dir = path.resolve(options.cwd ?? process.cwd(), raw.startsWith('localhost/') ? raw.slice('localhost'.length) : raw);
  return new FileStore(dir);
}
