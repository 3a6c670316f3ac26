import { fromEnv } from '@aws-sdk/credential-provider-env';
import { CredentialsProviderError, chain, memoize } from '@smithy/core/config';
import { fromInstanceMetadata } from '@smithy/credential-provider-imds';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Logger } from '@smithy/types';

/**
 * The worker's AWS credentials, standing in for @aws-sdk/credential-provider-node in the worker
 * bundle (scripts/worker-bundle.js), so that the S3 client's default chain is:
 * 1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, optional AWS_SESSION_TOKEN and
 *    AWS_CREDENTIAL_EXPIRATION (S3-compatible stores, tests);
 * 2. the EC2 instance's role through the instance metadata service (IMDSv2, v1 fallback as the
 *    SDK does; AWS_EC2_METADATA_SERVICE_ENDPOINT moves it), unless AWS_EC2_METADATA_DISABLED is
 *    set to anything but "false".
 * Nothing else: no profiles or ini files (AWS_PROFILE is ignored), no SSO, no credential_process,
 * no web identity, no container credentials. When neither gives credentials, requests fail with
 * CredentialsProviderError (the store's STORE_DENIED).
 *
 * Credentials are kept until 5 minutes before their expiration (instance credentials rotate
 * hourly); `forceRefresh` asks again at once. Same signature as the package it replaces; `init`
 * is the client's configuration (logger, IMDS timeout and retries).
 */
export function defaultProvider(init: DefaultProviderInit = {}): AwsCredentialIdentityProvider {
  return memoize(chain(fromEnv(init), instanceMetadata(init)), treatedAsExpired, (c) => c.expiration !== undefined);
}

export interface DefaultProviderInit {
  readonly logger?: Logger;
  /** IMDS request timeout, ms. @default 1000 */
  readonly timeout?: number;
  /** IMDS retries. @default 0 */
  readonly maxRetries?: number;
}

/** Credentials this close to their expiration are asked for again, ms (the SDK's own margin). */
const REFRESH_MARGIN_MS = 300_000;

function treatedAsExpired(c: AwsCredentialIdentity): boolean {
  return c.expiration !== undefined && c.expiration.getTime() - Date.now() < REFRESH_MARGIN_MS;
}

/** IMDS, or a refusal when AWS_EC2_METADATA_DISABLED is set (read at each call, as the SDK does). */
function instanceMetadata(init: DefaultProviderInit): AwsCredentialIdentityProvider {
  let imds: AwsCredentialIdentityProvider | undefined;
  return async () => {
    const disabled = process.env.AWS_EC2_METADATA_DISABLED;
    if (disabled && disabled !== 'false') {
      throw new CredentialsProviderError(
        'no credentials in AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, and the instance metadata service is disabled (AWS_EC2_METADATA_DISABLED)',
        { tryNextLink: false },
      );
    }
    imds ??= fromInstanceMetadata(init as Parameters<typeof fromInstanceMetadata>[0]);
    return imds();
  };
}
