import 'aws-sdk-client-mock-jest';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { NO_CREDENTIALS, NO_REGION, awsClients } from '../../../cli/aws/clients';
import { type EnvsDeps, envTable, listEnvs } from '../../../cli/aws/envs';
import { listEnvironments } from '../../../cli/aws/environments';
import { UsageError } from '../../../cli/errors';
import { awsError, captureOutput, factParameters } from './helpers';

const cfnMock = mockClient(CloudFormationClient);
const ssmMock = mockClient(SSMClient);
const asgMock = mockClient(AutoScalingClient);
const NOW = new Date('2030-01-01T12:00:00Z');

function stack(name: string, status: string) {
  return { StackName: name, StackStatus: status as 'CREATE_COMPLETE', CreationTime: new Date() };
}
function group(name: string, inService: number, pending = 0) {
  const instances = [
    ...Array.from({ length: inService }, (_, i) => ({ InstanceId: `i-${name}-${i}`, LifecycleState: 'InService' as const })),
    ...Array.from({ length: pending }, (_, i) => ({ InstanceId: `i-${name}-p${i}`, LifecycleState: 'Pending' as const })),
  ].map((i) => ({ ...i, AvailabilityZone: 'eu-west-1a', HealthStatus: 'Healthy', ProtectedFromScaleIn: false }));
  return {
    AutoScalingGroupName: name, MinSize: 0, MaxSize: 0, DesiredCapacity: inService + pending, DefaultCooldown: 300,
    AvailabilityZones: ['eu-west-1a'], HealthCheckType: 'EC2', CreatedTime: new Date(), Instances: instances,
  };
}

/** Three environments: one live, one expired (scaled to 0), one being created (no facts yet); plus a stack that is not ours. */
function region() {
  cfnMock
    .on(DescribeStacksCommand)
    .resolvesOnce({ Stacks: [stack('loadfarm-perf', 'UPDATE_COMPLETE'), stack('billing-api', 'CREATE_COMPLETE')], NextToken: 'page2' })
    .resolves({ Stacks: [stack('loadfarm-old', 'CREATE_COMPLETE'), stack('loadfarm-new', 'CREATE_IN_PROGRESS')] });
  ssmMock
    .on(GetParametersByPathCommand)
    .resolvesOnce({ Parameters: factParameters('perf', { workers: '3', 'expires-at': '2030-01-01T15:12:00Z', spot: 'true' }), NextToken: 't' })
    .resolves({ Parameters: factParameters('old', { workers: '2', 'expires-at': '2030-01-01T11:40:00Z', 'instance-type': 'c7g.xlarge' }) });
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [group('loadfarm-perf-WorkersGroup-XYZ', 2, 1), group('loadfarm-old-WorkersGroup-XYZ', 0)],
  });
}

function deps(extra: Partial<EnvsDeps> = {}) {
  const out = captureOutput();
  const d: EnvsDeps = { clients: (r) => awsClients(r), defaultRegion: async () => 'eu-west-1', out, now: () => NOW, ...extra };
  return { d, out };
}

beforeEach(() => {
  cfnMock.reset();
  ssmMock.reset();
  asgMock.reset();
});

test('lists the environments with workers in service, type and time left', async () => {
  region();
  const { d, out } = deps();
  expect(await listEnvs({ json: false }, d)).toBe(0);
  expect(out.lines).toEqual([
    'loadfarm environments in eu-west-1:',
    'ENV   STATUS              WORKERS         TYPE            EXPIRES',
    'new   CREATE_IN_PROGRESS  -               -               no facts published',
    'old   CREATE_COMPLETE     0/2 in service  c7g.xlarge      expired 20m ago (2030-01-01 11:40 UTC), scaled to 0',
    'perf  UPDATE_COMPLETE     2/3 in service  c7i.large spot  3h 12m left (2030-01-01 15:12 UTC)',
  ]);
  expect(cfnMock).toHaveReceivedCommandTimes(DescribeStacksCommand, 2);
  expect(cfnMock).toHaveReceivedNthCommandWith(2, DescribeStacksCommand, { NextToken: 'page2' });
  expect(ssmMock).toHaveReceivedCommandWith(GetParametersByPathCommand, { Path: '/loadfarm/', Recursive: true });
  expect(asgMock).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, {
    AutoScalingGroupNames: ['loadfarm-old-WorkersGroup-XYZ', 'loadfarm-perf-WorkersGroup-XYZ'],
  });
});

test('--json carries the facts and the time left', async () => {
  region();
  const { d, out } = deps();
  await listEnvs({ json: true, region: 'eu-west-1' }, d);
  const items = JSON.parse(out.lines.join('\n'));
  expect(items.find((i: { env: string }) => i.env === 'perf')).toEqual({
    env: 'perf', stackStatus: 'UPDATE_COMPLETE', workers: 3, inService: 2, instanceType: 'c7i.large', spot: true,
    expiresAt: '2030-01-01T15:12:00Z', bucket: 'loadfarm-perf-results-abc123', region: 'eu-west-1', timeLeft: '3h 12m left',
  });
});

test('parameters left without a stack are listed, with what is wrong with them', async () => {
  cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [] });
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [{ Name: '/loadfarm/ghost/bucket', Value: 'b' }] });
  const listings = await listEnvironments(awsClients('eu-west-1'));
  expect(listings).toHaveLength(1);
  expect(listings[0].env).toBe('ghost');
  expect(listings[0].stackStatus).toBeUndefined();
  expect(listings[0].problems).toContain('SSM parameter /loadfarm/ghost/asg is missing');
  expect(envTable(listings, NOW)[1]).toMatch(/^ghost +no stack +- +- +facts unreadable: SSM parameter \/loadfarm\/ghost\/asg is missing \(and 5 more\)$/);
  expect(asgMock.calls()).toHaveLength(0);
});

test('no environments', async () => {
  cfnMock.on(DescribeStacksCommand).resolves({ Stacks: [stack('billing-api', 'CREATE_COMPLETE')] });
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: [] });
  const { d, out } = deps();
  await listEnvs({ json: false }, d);
  expect(out.lines).toEqual(['no loadfarm environments in eu-west-1']);
});

test('missing credentials or region: the one line', async () => {
  cfnMock.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError'));
  await expect(listEnvs({ json: false }, deps().d)).rejects.toEqual(new UsageError(NO_CREDENTIALS));
  await expect(listEnvs({ json: false }, deps({ defaultRegion: async () => undefined }).d)).rejects.toEqual(new UsageError(NO_REGION));
});
