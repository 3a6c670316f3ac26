import { GetObjectCommand, PutObjectCommand, S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { Readable } from 'node:stream';
import { StoreError, type StoreErrorCode } from './errors';
import { regionOr, s3ClientConfig } from './s3-config';
import { findBucketRegion, type SdkError } from './s3-region';
import type { ListOptions, Store } from './store';
import { storeLocation, type StoreLocation } from './url';

// This file and s3-*.ts are the only ones that load the AWS SDK; open.ts imports this one
// lazily, for s3:// URLs only.

export { s3ClientConfig } from './s3-config';

/** Bytes per part of a streamed upload: S3's minimum for every part but the last. */
const PART_SIZE_BYTES = 5 * 1024 * 1024;
/** Parts uploaded at once: a streamed upload holds PART_QUEUE parts in memory, plus the stream's own buffer. */
const PART_QUEUE = 2;
/** The region a bucket's region is asked in when none is configured (S3 answers in any). */
const PROBE_REGION = 'us-east-1';

export interface S3StoreOptions {
  /**
   * S3-compatible endpoint (`--s3-endpoint`), e.g. http://127.0.0.1:4566.
   * @default the SDK's own: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, a profile's endpoint_url, else AWS
   */
  readonly endpoint?: string;
  /**
   * The bucket's region. Wins over everything; AWS_REGION does not: it only signs the question.
   * @default found from the bucket (findBucketRegion) before the first request, else the SDK's
   *   region (AWS_REGION, the profile's), else us-east-1
   */
  readonly region?: string;
  /** A ready client, used as it is: `endpoint`, `region`, `maxAttempts` and `env` are then ignored. The caller owns it. */
  readonly client?: S3Client;
  /** Attempts per request, the first included, with the SDK's standard exponential backoff. @default 5 */
  readonly maxAttempts?: number;
  /** Keys asked for per ListObjectsV2 request (MaxKeys; S3 caps it at 1000). @default 1000 */
  readonly pageSize?: number;
  /** Read for endpoint detection and LOADFARM_S3_CHECKSUMS; the SDK reads process.env itself. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
}

/**
 * A store in an S3 bucket (or an S3-compatible one) under an optional key prefix:
 * `s3://BUCKET/PREFIX` keeps key `k` as object `PREFIX/k`.
 * - The client is made for the bucket's own region, found once before the first request
 *   (S3StoreOptions.region); a failed search is tried again by the next request.
 * - `put` is one PutObject: S3 makes it atomic, readers see the old or the new body.
 * - `putNew` is one PutObject with `If-None-Match: *`: S3 answers 412 when the key holds an
 *   object (and 409 while another conditional write of it is in progress): StoreError
 *   `STORE_EXISTS`, unless the object is these very bytes (a retry whose first attempt landed).
 * - Every request is retried by the SDK (maxAttempts, exponential backoff with jitter); a
 *   failure after that rejects with a StoreError naming the store URL and the key, with the
 *   SDK's error as `cause`.
 * - `get` of an absent key (NoSuchKey, or a bare 404) resolves to undefined; a missing bucket rejects.
 * - Safe for concurrent calls.
 */
export class S3Store implements Store {
  private client: Promise<S3Client> | undefined;
  /** Clients this store made, closed by destroy(). */
  private readonly made: S3Client[] = [];

  private constructor(
    readonly url: string,
    readonly bucket: string,
    /** '' or a prefix ending in '/'. */
    readonly keyPrefix: string,
    private readonly options: S3StoreOptions,
  ) {
    if (options.client) this.client = Promise.resolve(options.client);
  }

  /** Opens `s3://BUCKET` or `s3://BUCKET/PREFIX`; throws StoreError `STORE_BAD_URL` on a URL that is not one. */
  static fromUrl(url: string, options: S3StoreOptions = {}): S3Store {
    if (!url.startsWith('s3://')) throw new StoreError('STORE_BAD_URL', `--store: expected s3://BUCKET/PREFIX, got ${JSON.stringify(url)}`);
    return S3Store.at(url, storeLocation(url), options);
  }

  /** A store at a parsed location (url.ts); `url` is what it reports as its own. */
  static at(url: string, location: StoreLocation, options: S3StoreOptions = {}): S3Store {
    if (location.kind !== 's3') throw new StoreError('STORE_BAD_URL', `--store: expected s3://BUCKET/PREFIX, got ${JSON.stringify(url)}`);
    s3ClientConfig(options, options.env); // refuses a bad LOADFARM_S3_CHECKSUMS now, not at the first request
    return new S3Store(url, location.bucket, location.keyPrefix, options);
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    try {
      const client = await this.bucketClient();
      await client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key, Body: body, ContentLength: byteLength(body) }));
    } catch (err) {
      throw this.failure('write', key, err);
    }
  }

  async putNew(key: string, body: string | Uint8Array): Promise<void> {
    try {
      const client = await this.bucketClient();
      await client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key, Body: body, ContentLength: byteLength(body), IfNoneMatch: '*' }),
      );
    } catch (err) {
      const { name, $metadata } = (err ?? {}) as SdkError;
      if ($metadata?.httpStatusCode === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict') {
        // A retried request whose first attempt landed finds its own bytes: that is success.
        if (await this.holds(key, body)) return;
        throw new StoreError('STORE_EXISTS', `${this.url}: cannot write ${key}: it already exists and is written once only`, { cause: err });
      }
      throw this.failure('write', key, err);
    }
  }

  /** True when `key` holds exactly `body`. */
  private async holds(key: string, body: string | Uint8Array): Promise<boolean> {
    const current = await this.get(key);
    return current !== undefined && current.equals(typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      const client = await this.bucketClient();
      const res = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key }));
      if (!res.Body) return Buffer.alloc(0);
      const bytes = await res.Body.transformToByteArray();
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (err) {
      if (isAbsent(err)) return undefined;
      throw this.failure('read', key, err);
    }
  }

  /** Follows continuation tokens to the end; keys relative to the store, sorted by UTF-16 code units. */
  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    const keys: string[] = [];
    try {
      const pages = paginateListObjectsV2(
        { client: await this.bucketClient(), pageSize: this.options.pageSize },
        {
          Bucket: this.bucket,
          Prefix: this.keyPrefix + prefix,
          ...(options.startAfter !== undefined ? { StartAfter: this.keyPrefix + options.startAfter } : {}),
        },
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
        { client: await this.bucketClient(), pageSize: this.options.pageSize },
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
    try {
      const upload = new Upload({
        client: await this.bucketClient(),
        params: {
          Bucket: this.bucket,
          Key: this.keyPrefix + key,
          Body: body instanceof Readable ? body : new Readable().wrap(body),
        },
        partSize: PART_SIZE_BYTES,
        queueSize: PART_QUEUE,
        leavePartsOnError: false,
      });
      await upload.done();
    } catch (err) {
      throw this.failure('write', key, err);
    }
  }

  /** Closes the sockets of the clients this store made. The store is unusable after. */
  destroy(): void {
    for (const client of this.made.splice(0)) client.destroy();
  }

  /** The client for the bucket's region, made once; a failed search is forgotten so the next call tries again. */
  private bucketClient(): Promise<S3Client> {
    this.client ??= this.makeBucketClient().catch((err: unknown) => {
      this.client = undefined;
      throw err;
    });
    return this.client;
  }

  private async makeBucketClient(): Promise<S3Client> {
    const config = s3ClientConfig(this.options, this.options.env);
    const make = (region: string | (() => Promise<string>)) => {
      const client = new S3Client({ ...config, region });
      this.made.push(client);
      return client;
    };
    if (this.options.region) return make(this.options.region);
    const configured = config.region ?? regionOr(PROBE_REGION);
    const probe = make(configured);
    const found = await findBucketRegion(probe, this.bucket).catch((err: unknown) => {
      throw new StoreError(classify(err)[0], `cannot find the bucket's region (HeadBucket): ${reason(err)}`, { cause: err });
    });
    if (found === undefined || found === (await probe.config.region())) return probe;
    this.made.splice(this.made.indexOf(probe), 1);
    probe.destroy();
    return make(found);
  }

  private failure(action: string, key: string, err: unknown): StoreError {
    const [code, hint] = classify(err instanceof StoreError ? err.cause : err);
    const why = err instanceof StoreError ? err.message : reason(err);
    return new StoreError(code, `${this.url}: cannot ${action} ${key}: ${why}${hint}`, { cause: err });
  }
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
}

function isAbsent(err: unknown): boolean {
  const { name, $metadata } = (err ?? {}) as SdkError;
  if (name === 'NoSuchKey') return true;
  // Some S3-compatible stores answer a missing key with a bare 404 and no error code.
  return $metadata?.httpStatusCode === 404 && name !== 'NoSuchBucket';
}

/** Error names that mean the credentials, not the request, are what the person must fix. */
const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'InvalidAccessKeyId',
  'InvalidToken',
  'SignatureDoesNotMatch',
]);

/** The code of a failed request, and a hint (with its leading "; ") saying what to do. */
function classify(err: unknown): [StoreErrorCode, string] {
  const { name, $metadata } = (err ?? {}) as SdkError;
  if (name === 'NoSuchBucket') return ['STORE_NO_BUCKET', '; check the bucket name in --store, or create the bucket'];
  if (name !== undefined && CREDENTIAL_ERRORS.has(name)) return ['STORE_DENIED', '; check the AWS credentials (log in again if they expired)'];
  if (name === 'AccessDenied' || $metadata?.httpStatusCode === 403) {
    return ['STORE_DENIED', "; these credentials may not use this bucket: check their policy and the bucket's"];
  }
  return ['STORE_FAILED', ''];
}

/** One line: the error's name (when it says something), its message or code, the HTTP status. */
function reason(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const { name, message, code, $metadata } = err as SdkError;
  // What the SDK makes of an error answer with no body (HEAD requests, some proxies).
  if (name === 'Unknown' && message === 'UnknownError') return `no error details (HTTP ${$metadata?.httpStatusCode ?? '?'})`;
  const prefix = name && name !== 'Error' && name !== message ? `${name}: ` : '';
  const status = $metadata?.httpStatusCode ? ` (HTTP ${$metadata.httpStatusCode})` : '';
  return `${prefix}${message || code || 'unknown error'}${status}`;
}
