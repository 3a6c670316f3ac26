import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { StoreError } from './errors';

// Loaded with s3.ts only (open.ts imports it lazily, for s3:// URLs).

const DEFAULT_MAX_ATTEMPTS = 5;

/**
 * The client configuration of a store, but its region (s3.ts finds the bucket's). Credentials,
 * endpoint and retries come from the SDK's own chain (AWS_PROFILE, AWS_ENDPOINT_URL_S3,
 * AWS_ENDPOINT_URL, …); in the built worker (dist/worker.js) the credential chain is only the
 * environment, then the instance metadata service (scripts/worker-shims/credential-provider-node.ts
 * replaces the SDK's default chain there: no profiles, SSO or ini files on a worker). Except:
 * - with an S3-compatible endpoint (the option, AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL):
 *   path-style addressing (no `bucket.localhost`), checksums only where an operation requires
 *   them (many such stores reject the SDK's default CRC32 on streamed bodies), and region
 *   us-east-1 when none is configured;
 * - LOADFARM_S3_CHECKSUMS=when_required (or when_supported) sets the checksum mode of requests
 *   and responses either way, e.g. for an S3-compatible store reached through a profile.
 * Throws StoreError `STORE_BAD_CONFIG` on an unknown LOADFARM_S3_CHECKSUMS value.
 */
export function s3ClientConfig(
  options: { readonly endpoint?: string; readonly maxAttempts?: number },
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
  throw new StoreError('STORE_BAD_CONFIG', `LOADFARM_S3_CHECKSUMS=${value}: expected when_required or when_supported`);
}

/** The region of the SDK's default chain (AWS_REGION, then the profile's), else `fallback`. */
export function regionOr(fallback: string): () => Promise<string> {
  const sdkRegion = new S3Client({}).config.region; // only resolves configuration, never sends
  // The chain rejects only when no region is configured anywhere.
  return () => sdkRegion().catch(() => fallback);
}
