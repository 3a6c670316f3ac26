import { StoreError } from './errors';

// Store URLs, parsed without I/O and without the AWS SDK: open.ts and s3.ts both build on this.

/** Where a store URL points. `path` is as written (decoded), not yet resolved against a cwd. */
export type StoreLocation =
  | { readonly kind: 'file'; readonly path: string }
  /** `keyPrefix` is '' or ends in '/'. */
  | { readonly kind: 's3'; readonly bucket: string; readonly keyPrefix: string };

/**
 * Parses `file://DIR` (absolute as file:///tmp/x, relative as file://.loadfarm, `localhost/`
 * taken as the root), a plain folder path, or `s3://BUCKET/PREFIX`.
 * A URL that cannot be used gives `problem`: a phrase that completes "expected …", naming
 * what is wrong in the URL and how to write it instead.
 */
export function parseStoreUrl(url: string): { location: StoreLocation } | { problem: string } {
  if (url.startsWith('s3://')) {
    const [bucket, ...rest] = url.slice('s3://'.length).split('/');
    const problem = s3BucketProblem(bucket);
    if (problem) return { problem };
    const parts = rest.filter((part) => part !== '');
    return { location: { kind: 's3', bucket, keyPrefix: parts.length > 0 ? `${parts.join('/')}/` : '' } };
  }
  if (url.startsWith('file://')) {
    const raw = url.slice('file://'.length);
    const bad = badEscape(raw);
    if (bad !== undefined) {
      return { problem: `a file:// URL whose % escapes are valid UTF-8 ("${bad}" is not; write a literal % as %25, or give the folder as a plain path)` };
    }
    const decoded = decodeURIComponent(raw);
    const folder = decoded.startsWith('localhost/') ? decoded.slice('localhost'.length) : decoded;
    if (folder === '') return { problem: 'file://DIR naming a folder (file:///abs/path or file://relative/path)' };
    if (folder.includes('\0')) return { problem: 'a folder path without a NUL character (%00)' };
    return { location: { kind: 'file', path: folder } };
  }
  if (url.includes('://')) return { problem: 'file://DIR, s3://BUCKET/PREFIX or a folder path' };
  if (url === '') return { problem: 'file://DIR, s3://BUCKET/PREFIX or a folder path, not an empty string' };
  if (url.includes('\0')) return { problem: 'a folder path without a NUL character' };
  return { location: { kind: 'file', path: url } };
}

/** The phrase completing "expected …" when `url` cannot be used, else undefined. */
export function storeUrlProblem(url: string): string | undefined {
  const parsed = parseStoreUrl(url);
  return 'problem' in parsed ? parsed.problem : undefined;
}

/** Parses `url`, or throws StoreError `STORE_BAD_URL`: `--store: expected …, got "url"`. */
export function storeLocation(url: string): StoreLocation {
  const parsed = parseStoreUrl(url);
  if ('problem' in parsed) throw new StoreError('STORE_BAD_URL', `--store: expected ${parsed.problem}, got ${JSON.stringify(url)}`);
  return parsed.location;
}

const BUCKET_RULES = 'an S3 bucket name of 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit';
const RESERVED_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'];
const RESERVED_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'];

/**
 * Why `bucket` breaks S3's naming rules for general purpose buckets, as a phrase completing
 * "expected …", else undefined. The rules: docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 */
export function s3BucketProblem(bucket: string): string | undefined {
  if (bucket === '') return 's3://BUCKET/PREFIX with a bucket name';
  const badChars = [...new Set(bucket.replace(/[a-z0-9.-]/g, ''))];
  if (badChars.length > 0) {
    const capitals = badChars.some((c) => c >= 'A' && c <= 'Z');
    const listed = badChars.map((c) => JSON.stringify(c)).join(', ');
    return `${BUCKET_RULES} ("${bucket}" has ${listed}${capitals ? '; bucket names are lowercase' : ''})`;
  }
  if (bucket.length < 3 || bucket.length > 63) return `${BUCKET_RULES} ("${bucket}" has ${bucket.length} characters)`;
  if (!/^[a-z0-9]/.test(bucket) || !/[a-z0-9]$/.test(bucket)) return `${BUCKET_RULES} ("${bucket}" starts or ends with "." or "-")`;
  if (bucket.includes('..')) return `${BUCKET_RULES}, without ".." ("${bucket}" has it)`;
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(bucket)) return `${BUCKET_RULES}, not an IP address ("${bucket}")`;
  const prefix = RESERVED_PREFIXES.find((p) => bucket.startsWith(p));
  if (prefix) return `${BUCKET_RULES}, not starting with the reserved "${prefix}"`;
  const suffix = RESERVED_SUFFIXES.find((s) => bucket.endsWith(s));
  if (suffix) return `${BUCKET_RULES}, not ending with the reserved "${suffix}"`;
  return undefined;
}

/** The first %-escape of `text` that decodeURIComponent refuses (not %XX, or not UTF-8), else undefined. */
function badEscape(text: string): string | undefined {
  const malformed = /%(?![0-9A-Fa-f]{2}).{0,2}/s.exec(text);
  if (malformed) return malformed[0];
  // Well-formed escapes can still spell invalid UTF-8 (%FF): find the first run that fails.
  for (const run of text.match(/(%[0-9A-Fa-f]{2})+/g) ?? []) {
    try {
      decodeURIComponent(run);
    } catch (err) {
      if (!(err instanceof URIError)) throw err;
      return run;
    }
  }
  return undefined;
}
