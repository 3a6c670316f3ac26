import { GetObjectCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { storeUrlProblem } from './open';
import type { Store } from './store';

// The only file that loads the AWS SDK; open.ts imports it lazily, for s3:// URLs only.

/** Bytes per part of a streamed upload: S3's minimum for every part but the last. */
const PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Parts uploaded at once: a streamed upload holds PART_QUEUE parts in memory, plus the stream's own buffer. */
const PART_QUEUE = 2;
const DEFAULT_MAX_ATTEMPTS = 5;

export interface S3StoreOptions {
  /**
   * S3-compatible endpoint (`--s3-endpoint`), e.g. http://127.0.0.1:4566.
   * @default the SDK's own: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, a profile's endpoint_url, else AWS
   */
  readonly endpoint?: string;
  /** A ready client, used as it is: `endpoint`, `maxAttempts` and `env` are then ignored. The caller owns it. */
  readonly client?: S3Client;
  /** Attempts per request, the first included, with the SDK's standard exponential backoff. @default 5 */
  readonly maxAttempts?: number;
  /** Keys asked for per ListObjectsV2 request (MaxKeys; S3 caps it at 1000). @default 1000 */
  readonly pageSize?: number;
  /** Read for endpoint detection and LOADFARM_S3_CHECKSUMS; the SDK reads process.env itself. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * The client configuration of a store. Credentials, region, endpoint and retries come from the
 * SDK's own chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, …), except:
 * - with an S3-compatible endpoint (the option, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL):
 *   path-style addressing (no `bucket.localhost`), checksums only where an operation requires
 *   them (many such stores reject the SDK's default CRC32 on streamed bodies), and region
 *   us-east-1 when none is configured;
 * - LOADFARM_S3_CHECKSUMS=when_required (or when_supported) sets the checksum mode of requests
 *   and responses either way, e.g. for an S3-compatible store reached through a profile.
 * Throws on an unknown LOADFARM_S3_CHECKSUMS value.
 */
export function s3ClientConfig(
  options: Pick<S3StoreOptions, 'endpoint' | 'maxAttempts'>,
  env: NodeJS.ProcessEnv = process.env,
): S3ClientConfig {
  const customEndpoint = Boolean(options.endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL);
  const checksums = checksumMode(env.LOADFARM_S3_CHECKSUMS) ?? (customEndpoint ? 'WHEN_REQUIRED' : undefined);
  return {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(customEndpoint ? { forcePathStyle: true, region: regionOr('us-east-1') } : {}),
    ...(checksums ? { requestChecksumCalculation: checksums, responseChecksumValidation: checksums } : {}),
    maxAttempts: options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
  };
}

function checksumMode(value: string | undefined): 'WHEN_REQUIRED' | 'WHEN_SUPPORTED' | undefined {
  if (!value) return undefined;
  if (value === 'when_required') return 'WHEN_REQUIRED';
  if (value === 'when_supported') return 'WHEN_SUPPORTED';
  throw new Error(`LOADFARM_S3_CHECKSUMS=${value}: expected when_required or when_supported`);
}

/** The region of the SDK's default chain (AWS_REGION, then the profile's), else `fallback`. */
function regionOr(fallback: string): () => Promise<string> {
  const sdkRegion = new S3Client({}).config.region; // only resolves configuration, never sends
  // The chain rejects only when no region is configured anywhere.
  return () => sdkRegion().catch(() => fallback);
}

/**
 * A store in an S3 bucket (or an S3-compatible one) under an optional key prefix:
 * `s3://BUCKET/PREFIX` keeps key `k` as object `PREFIX/k`.
 * - `put` is one PutObject: S3 makes it atomic, readers see the old or the new body.
 * - Every request is retried by the SDK (maxAttempts, exponential backoff with jitter); a
 *   failure after that rejects with the store URL and the key in the message and the SDK's
 *   error as `cause`.
 * - `get` of an absent key (NoSuchKey, or a bare 404) resolves to undefined; a missing bucket rejects.
 * - Safe for concurrent calls.
 */
export class S3Store implements Store {
  private constructor(
    readonly url: string,
    private readonly client: S3Client,
    private readonly ownsClient: boolean,
    readonly bucket: string,
    /** '' or a prefix ending in '/'. */
    readonly keyPrefix: string,
    private readonly pageSize: number | undefined,
  ) {}

  /** Opens `s3://BUCKET` or `s3://BUCKET/PREFIX`; throws on a URL that is not one. */
  static fromUrl(url: string, options: S3StoreOptions = {}): S3Store {
    const problem = url.startsWith('s3://') ? storeUrlProblem(url) : 'expected s3://BUCKET/PREFIX';
    if (problem) throw new Error(`${url}: ${problem}`);
    const [bucket, ...path] = url.slice('s3://'.length).split('/');
    const parts = path.filter((part) => part !== '');
    const keyPrefix = parts.length > 0 ? `${parts.join('/')}/` : '';
    const client = options.client ?? new S3Client(s3ClientConfig(options, options.env));
    return new S3Store(url, client, !options.client, bucket, keyPrefix, options.pageSize);
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    try {
      const ContentLength = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key, Body: body, ContentLength }));
    } catch (err) {
      throw this.failure('write', key, err);
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw this.failure('read', key, err);
    }
  }

  /** Follows continuation tokens to the end; keys relative to the store, sorted by UTF-16 code units. */
  async list(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: this.client, pageSize: this.pageSize },
        { Bucket: this.bucket, Prefix: this.keyPrefix + prefix },
      );
      for await (const page of pages) {
        for (const object of page.Contents ?? []) {
          if (object.Key !== undefined) keys.push(object.Key.slice(this.keyPrefix.length));
        }
      }
    } catch (err) {
      throw this.failure('list', prefix, err);
    }
    return keys.sort();
  }

  /** Common prefixes one level below `prefix` (ListObjectsV2 with a '/' delimiter), paginated. */
  async listFolders(prefix: string): Promise<string[]> {
    const names: string[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: this.client, pageSize: this.pageSize },
        { Bucket: this.bucket, Prefix: this.keyPrefix + prefix, Delimiter: '/' },
      );
      for await (const page of pages) {
        for (const p of page.CommonPrefixes ?? []) {
          if (p.Prefix !== undefined) names.push(p.Prefix.slice(this.keyPrefix.length + prefix.length).replace(/\/$/, ''));
        }
      }
    } catch (err) {
      throw this.failure('list', prefix, err);
    }
    return names.sort();
  }

  /**
   * Multipart upload of PART_SIZE_BYTES parts, PART_QUEUE at a time, so memory stays bounded
   * (about 10 MiB) whatever the length; a body under one part is a single PutObject. Each part
   * is retried like any request. On failure (of the body stream or of S3) the multipart upload
   * is aborted: no object is written and no parts are left behind.
   */
  async putStream(key: string, body: NodeJS.ReadableStream): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.bucket,
        Key: this.keyPrefix + key,
        Body: body instanceof Readable ? body : new Readable().wrap(body),
      },
      partSize: PART_SIZE_BYTES,
      queueSize: PART_QUEUE,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (err) {
      throw this.failure('write', key, err);
    }
  }

  /** Closes the client's sockets, when this store made the client. The store is unusable after. */
  destroy(): void {
    if (this.ownsClient) this.client.destroy();
  }

  private failure(action: string, key: string, err: unknown): Error {
    return new Error(`${this.url}: cannot ${action} ${key}: ${reason(err)}`, { cause: err });
  }
}

/** The parts of an SDK error this file reads; not `instanceof`: Node's own errors may come from another realm. */
interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
}

function isAbsent(err: unknown): boolean {
  const { name, $metadata } = (err ?? {}) as SdkError;
  if (name === 'NoSuchKey') return true;
  // Some S3-compatible stores answer a missing key with a bare 404 and no error code.
  return $metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket';
}

/** One line: the error's name (when it says something), its message or code, the HTTP status. */
function reason(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { name, message, code, $metadata } = err as SdkError;
  const prefix = name && name !== 'Error' && name !== message ? `${name}: ` : '';
  const status = $metadata?.httpStatusCode ? ` (HTTP ${$metadata.httpStatusCode})` : '';
  return `${prefix}${message || code || 'unknown error'}${status}`;
}
