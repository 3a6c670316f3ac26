/**
 * Missing credentials and region with the real SDK chain (no mocks): the SDK fails before any
 * request leaves the machine, and the CLI turns that into one line.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import {
  NO_CREDENTIALS,
  NO_REGION,
  awsClients,
  credentialsProblem,
  firstCall,
  resolveRegion,
} from '../../../cli/aws/clients';
import { describeStack } from '../../../cli/aws/environments';
import { UsageError } from '../../../cli/errors';
import { awsError } from './helpers';

const saved = { ...process.env };
const nowhere = path.join(os.tmpdir(), 'loadfarm-no-such-aws-config');

beforeEach(() => {
  for (const key of Object.keys(process.env)) {
    if (key.startsWith('AWS_') || key === 'AMAZON_REGION') delete process.env[key];
  }
  process.env.AWS_CONFIG_FILE = nowhere;
  process.env.AWS_SHARED_CREDENTIALS_FILE = nowhere;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
});
afterAll(() => {
  process.env = saved;
});

test('no region anywhere → the one line', async () => {
  await expect(resolveRegion(undefined)).rejects.toEqual(new UsageError(NO_REGION));
  expect(NO_REGION).toBe('no AWS region: pass --region or set AWS_REGION');
});

test('the region comes from --region, else AWS_REGION', async () => {
  await expect(resolveRegion('eu-west-1')).resolves.toBe('eu-west-1');
  process.env.AWS_REGION = 'ap-south-1';
  await expect(resolveRegion(undefined)).resolves.toBe('ap-south-1');
  await expect(resolveRegion('eu-west-1')).resolves.toBe('eu-west-1');
});

test('no credentials anywhere → the one line, from the real credential chain', async () => {
  const clients = awsClients('us-east-1');
  try {
    const error = await firstCall(() => describeStack(clients.cloudFormation, 'loadfarm-perf')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(NO_CREDENTIALS);
    expect(NO_CREDENTIALS).toMatch(/^no AWS credentials found: set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID/);
  } finally {
    clients.cloudFormation.destroy();
  }
});

test('clients are built for the region asked, with the SDK chain for credentials', async () => {
  const client = awsClients('eu-west-1').cloudFormation;
  expect(client).toBeInstanceOf(CloudFormationClient);
  expect(await client.config.region()).toBe('eu-west-1');
  client.destroy();
});

test('credential errors by name; anything else is not a credentials problem', () => {
  expect(credentialsProblem(awsError('CredentialsProviderError'))).toBe(NO_CREDENTIALS);
  expect(credentialsProblem(awsError('TokenProviderError'))).toBe(NO_CREDENTIALS);
  expect(credentialsProblem(awsError('ExpiredToken'))).toBe(
    'AWS rejected the credentials (ExpiredToken): refresh them (`aws sso login`, or new access keys) and try again',
  );
  expect(credentialsProblem(awsError('AccessDenied', 'User: arn:aws:iam::1:user/x is not authorized\nmore'))).toBe(
    'AWS denied access (AccessDenied): User: arn:aws:iam::1:user/x is not authorized',
  );
  expect(credentialsProblem(awsError('ThrottlingException'))).toBeUndefined();
  expect(credentialsProblem('CredentialsProviderError')).toBeUndefined();
});

test('firstCall passes other errors on unchanged', async () => {
  const boom = awsError('InternalFailure');
  await expect(firstCall(() => Promise.reject(boom))).rejects.toBe(boom);
});
