/**
 * What an error met while talking to AWS (SSM, EC2, S3) means for a loop that must keep going:
 * decided by the SDK error's `name` (the service's error code), `$metadata.httpStatusCode`,
 * `$retryable`, and Node/undici network error `code`s, following `cause` (a store wraps the
 * SDK's error as its cause). Never by message text.
 */
import { isThrottling } from './backoff';

export type ErrorKind =
  /** Worth another try later: network, HTTP 5xx, a body cut mid-way, throttling, timeouts. */
  | 'transient'
  /** The person must log in again: credentials missing, expired or rejected. */
  | 'credentials'
  /** AWS refused the call for want of permission: retrying will not help. */
  | 'denied'
  /** Anything else: a bug, a bucket that is gone, a malformed request. */
  | 'other';

export interface ClassifiedError {
  readonly kind: ErrorKind;
  /** The most specific name known: `ExpiredToken`, `ECONNRESET`, `HTTP 503`, `TypeError`. */
  readonly code: string;
}

/** Errors of the SDK's credential providers: nothing in the chain had (fresh) credentials. */
export const NO_CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'CredentialsProviderError',
  'TokenProviderError',
  'SSOTokenProviderFailure',
]);

/** Service answers to credentials that exist but are expired, unknown or malformed. */
export const REJECTED_CREDENTIAL_ERRORS: ReadonlySet<string> = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'TokenRefreshRequired',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'InvalidToken',
  'UnrecognizedClientException',
  'SignatureDoesNotMatch',
  'InvalidSignatureException',
  'IncompleteSignature',
  'AuthFailure',
]);

/** AWS refused the call: the credentials work but lack a permission. */
export const ACCESS_DENIED_ERRORS: ReadonlySet<string> = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);

/** Service error names that mean "the service had a problem; try again". */
const TRANSIENT_NAMES: ReadonlySet<string> = new Set([
  'InternalError',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'RequestExpired',
]);

/** Node and undici error codes of a connection that failed, dropped or timed out. */
const NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  cause?: unknown;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** How many `cause` links are followed. */
const MAX_CAUSE_DEPTH = 5;

/**
 * The kind of `err`, looking at it and its causes: credentials first (a 403 ExpiredToken is not
 * a permission problem), then denied, then transient; `other` when nothing matched.
 */
export function classifyError(err: unknown): ClassifiedError {
  const chain: SdkErrorShape[] = [];
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < MAX_CAUSE_DEPTH; depth++) {
    chain.push(e as SdkErrorShape);
    e = (e as SdkErrorShape).cause;
  }
  const names = chain.map((e) => (typeof e.name === 'string' ? e.name : ''));
  const credentials = names.find((n) => NO_CREDENTIAL_ERRORS.has(n) || REJECTED_CREDENTIAL_ERRORS.has(n));
  if (credentials) return { kind: 'credentials', code: credentials };
  const denied = names.find((n) => ACCESS_DENIED_ERRORS.has(n));
  if (denied) return { kind: 'denied', code: denied };
  for (const e of chain) {
    const name = typeof e.name === 'string' ? e.name : '';
    const code = typeof e.code === 'string' ? e.code : '';
    const status = e.$metadata?.httpStatusCode;
    const named = (fallback: string) => {
      const base = name && name !== 'Error' ? name : fallback;
      return typeof status === 'number' ? `${base} (HTTP ${status})` : base;
    };
    if (isThrottling(e)) return { kind: 'transient', code: named('throttled') };
    if (NETWORK_CODES.has(code)) return { kind: 'transient', code };
    if (TRANSIENT_NAMES.has(name)) return { kind: 'transient', code: named(name) };
    if (typeof status === 'number' && (status >= 500 || status === 429)) return { kind: 'transient', code: named(`HTTP ${status}`).replace(/^HTTP (\d+) \(HTTP \1\)$/, 'HTTP $1') };
    if (e.$retryable) return { kind: 'transient', code: named('retryable') };
  }
  const first = chain[0];
  const code = typeof first?.code === 'string' ? first.code : names.find((n) => n && n !== 'Error') ?? (err instanceof Error ? err.name : String(err));
  return { kind: 'other', code };
}

/** `ThrottlingException: Rate exceeded` (name and first line of the message). */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const message = err.message.split('\n')[0];
    return err.name && err.name !== 'Error' && err.name !== message ? `${err.name}: ${message}` : message;
  }
  return String(err);
}
