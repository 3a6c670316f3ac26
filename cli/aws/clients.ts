/**
 * The AWS edge of the CLI: SDK clients built from the standard credential chain (AWS_PROFILE,
 * SSO, environment variables, instance roles…) and the region the person chose. Nothing here
 * reads, copies or writes credentials; endpoints are left to the SDK, so `AWS_ENDPOINT_URL*`
 * keep working (LocalStack and the like).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SSMClient } from '@aws-sdk/client-ssm';
import { UsageError } from '../errors';
import { ACCESS_DENIED_ERRORS, NO_CREDENTIAL_ERRORS, REJECTED_CREDENTIAL_ERRORS } from './error-kind';

export interface AwsClients {
  readonly region: string;
  readonly cloudFormation: CloudFormationClient;
  readonly ssm: SSMClient;
  readonly autoScaling: AutoScalingClient;
  readonly ec2: EC2Client;
  readonly tagging: ResourceGroupsTaggingAPIClient;
}

export const NO_CREDENTIALS =
  'no AWS credentials found: set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY';
export const NO_REGION = 'no AWS region: pass --region or set AWS_REGION';

/** Clients for `region`, each with the SDK's default credential chain. */
export function awsClients(region: string): AwsClients {
  const config = { region };
  return {
    region,
    cloudFormation: new CloudFormationClient(config),
    ssm: new SSMClient(config),
    autoScaling: new AutoScalingClient(config),
    ec2: new EC2Client(config),
    tagging: new ResourceGroupsTaggingAPIClient(config),
  };
}

/** Closes the clients' connections so the process can exit. */
export function closeClients(clients: AwsClients): void {
  clients.cloudFormation.destroy();
  clients.ssm.destroy();
  clients.autoScaling.destroy();
  clients.ec2.destroy();
  clients.tagging.destroy();
}

/**
 * The region the SDK would use with no `region` option (AWS_REGION, then the profile's
 * `region` in ~/.aws/config), or undefined when there is none. The SDK's region provider
 * fails only when no source has a region, with a plain Error and no code.
 */
export async function sdkDefaultRegion(): Promise<string | undefined> {
  const probe = new SSMClient({});
  try {
    return await probe.config.region();
  } catch {
    return undefined;
  } finally {
    probe.destroy();
  }
}

/**
 * `--region` when given, otherwise the SDK's default region.
 * @throws UsageError (NO_REGION) when there is neither
 */
export async function resolveRegion(
  flag: string | undefined,
  defaultRegion: () => Promise<string | undefined> = sdkDefaultRegion,
): Promise<string> {
  const region = flag ?? (await defaultRegion());
  if (!region) throw new UsageError(NO_REGION);
  return region;
}

/**
 * One line for an error that means "fix your AWS credentials", by the SDK error's name (the
 * service's error code); undefined for any other error.
 */
export function credentialsProblem(err: unknown): string | undefined {
  if (!(err instanceof Error)) return undefined;
  if (NO_CREDENTIAL_ERRORS.has(err.name)) return NO_CREDENTIALS;
  if (REJECTED_CREDENTIAL_ERRORS.has(err.name)) {
    return `AWS rejected the credentials (${err.name}): refresh them (\`aws sso login\`, or new access keys) and try again`;
  }
  if (ACCESS_DENIED_ERRORS.has(err.name)) return `AWS denied access (${err.name}): ${err.message.split('\n')[0]}`;
  return undefined;
}

/**
 * Runs the first AWS call of a command: credential problems become one UsageError line;
 * any other error is passed on as it is.
 */
export async function firstCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const problem = credentialsProblem(err);
    if (problem) throw new UsageError(problem);
    throw err;
  }
}

/** Makes clients on demand and closes every one made: `pool.make` as the factory, `pool.close()` at the end. */
export function clientPool(make: (region: string) => AwsClients = awsClients): {
  make: (region: string) => AwsClients;
  close: () => void;
} {
  const made: AwsClients[] = [];
  return {
    make: (region) => {
      const clients = make(region);
      made.push(clients);
      return clients;
    },
    close: () => made.splice(0).forEach(closeClients),
  };
}
