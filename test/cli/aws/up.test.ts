import 'aws-sdk-client-mock-jest';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient, DescribeStacksCommand, GetTemplateCommand } from '@aws-sdk/client-cloudformation';
import {
  DescribeInstanceInformationCommand,
  GetParameterCommand,
  GetParametersByPathCommand,
  ParameterNotFound,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { NO_CREDENTIALS, NO_REGION, awsClients } from '../../../cli/aws/clients';
import type { DeployFn, DeployRequest } from '../../../cli/aws/deploy';
import { type UpDeps, type UpOptions, bringUp } from '../../../cli/aws/up';
import { parseUpFlags, upCommand, type UpFlags } from '../../../cli/commands/up';
import { UsageError } from '../../../cli/errors';
import { awsError, captureOutput, factParameters, fakeClock, noSuchStack } from './helpers';

const cfnMock = mockClient(CloudFormationClient);
const ssmMock = mockClient(SSMClient);
const asgMock = mockClient(AutoScalingClient);

const NOW = '2030-01-01T12:00:00Z';
const BUNDLE = '/opt/checkout/dist/worker.js';

const FLAGS: UpFlags = {
  env: 'perf', workers: '3', instanceType: 'c7i.large', spot: true, ttl: '4h', region: 'eu-west-1', readyTimeout: '10m', yes: true,
};

function options(extra: Partial<UpFlags> = {}): UpOptions {
  return parseUpFlags({ ...FLAGS, ...extra });
}

function deps(extra: Partial<UpDeps> & { deploy?: DeployFn } = {}) {
  const out = captureOutput();
  const deploy = jest.fn<ReturnType<DeployFn>, [DeployRequest]>(async (request) => {
    request.onProgress('loadfarm-perf | CREATE_COMPLETE | AWS::CloudFormation::Stack');
    return { ok: true, outputs: {} };
  });
  const buildWorker = jest.fn(async () => BUNDLE);
  const confirm = jest.fn(async () => true);
  const d: UpDeps = {
    clients: (region) => awsClients(region),
    defaultRegion: async () => undefined,
    deploy,
    buildWorker,
    interactive: false,
    confirm,
    out,
    now: () => new Date(NOW),
    clock: fakeClock(NOW),
    ...extra,
  };
  return { d, out, deploy, buildWorker, confirm };
}

function group(ids: string[]) {
  return {
    AutoScalingGroups: [{
      AutoScalingGroupName: 'loadfarm-perf-WorkersGroup-XYZ', MinSize: 3, MaxSize: 3, DesiredCapacity: 3, DefaultCooldown: 300,
      AvailabilityZones: ['eu-west-1a'], HealthCheckType: 'EC2', CreatedTime: new Date(),
      Instances: ids.map((InstanceId) => ({
        InstanceId, LifecycleState: 'InService' as const, AvailabilityZone: 'eu-west-1a', HealthStatus: 'Healthy', ProtectedFromScaleIn: false,
      })),
    }],
  };
}

/** A new environment in a bootstrapped region whose workers come online after one ConnectionLost. */
function newEnvironment() {
  cfnMock.on(DescribeStacksCommand).rejects(noSuchStack('loadfarm-perf'));
  ssmMock.on(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' }).resolves({ Parameter: { Value: '29' } });
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: factParameters('perf', { spot: 'true' }) });
  asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(['i-1', 'i-2', 'i-3']));
  ssmMock
    .on(DescribeInstanceInformationCommand)
    .resolvesOnce({ InstanceInformationList: [
      { InstanceId: 'i-1', PingStatus: 'Online' }, { InstanceId: 'i-2', PingStatus: 'ConnectionLost' }, { InstanceId: 'i-3', PingStatus: 'Online' },
    ] })
    .resolves({ InstanceInformationList: ['i-1', 'i-2', 'i-3'].map((InstanceId) => ({ InstanceId, PingStatus: 'Online' as const })) });
}

beforeEach(() => {
  cfnMock.reset();
  ssmMock.reset();
  asgMock.reset();
});

describe('up flags', () => {
  test('every problem at once, naming the flag and the value', () => {
    let error: UsageError | undefined;
    try {
      parseUpFlags({
        env: 'Perf_1', workers: '0', instanceType: 'large', ttl: '5m', region: 'mars', vpcCidr: '10.0.0.0/8', readyTimeout: 'soon',
      });
    } catch (e) {
      error = e as UsageError;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect([error!.message, ...error!.details]).toEqual([
      '--env: expected 1-32 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen, got "Perf_1"',
      '--region: expected a region like us-east-1, got "mars"',
      '--workers: expected a whole number from 1 to 200, got "0"',
      '--ttl: expected a duration from 15m to 168h (7 days), got "5m"',
      '--ready-timeout: expected a duration like 2s, 500ms or 1m (at least 1000 ms), got "soon"',
      '--instance-type: must look like c7i.large (family.size); got "large"',
      '--vpc-cidr: must have a prefix length from /16 to /24; got "10.0.0.0/8"',
    ]);
  });

  test('flags become options', () => {
    expect(parseUpFlags({ ...FLAGS, ttl: '90m', private: true, keepResults: true, vpcCidr: '10.20.0.0/16' })).toEqual({
      env: 'perf', workers: 3, instanceType: 'c7i.large', spot: true, ttlHours: 1.5, region: 'eu-west-1',
      vpcCidr: '10.20.0.0/16', privateWorkers: true, keepResults: true, yes: true, readyTimeoutMs: 600_000,
    });
  });
});

describe('up', () => {
  test('deploys with the context the flags say, then waits for every worker to be Online', async () => {
    newEnvironment();
    const { d, out, deploy, buildWorker } = deps();
    const code = await bringUp(options(), d);

    expect(out.problems).toEqual([]);
    expect(code).toBe(0);
    expect(buildWorker).toHaveBeenCalledTimes(1);
    expect(deploy).toHaveBeenCalledTimes(1);
    const request = deploy.mock.calls[0][0];
    expect(request.stackName).toBe('loadfarm-perf');
    expect(request.bootstrap).toBe(false);
    expect(request.context).toEqual({
      env: 'perf',
      workers: 3,
      instanceType: 'c7i.large',
      spot: true,
      ttlHours: 4,
      keepResults: false,
      privateWorkers: false,
      region: 'eu-west-1',
      workerBundle: BUNDLE,
    });

    expect(cfnMock).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'loadfarm-perf' });
    expect(ssmMock).toHaveReceivedCommandWith(GetParameterCommand, { Name: '/cdk-bootstrap/hnb659fds/version' });
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersByPathCommand, { Path: '/loadfarm/perf/', Recursive: true });
    expect(asgMock).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['loadfarm-perf-WorkersGroup-XYZ'] });
    expect(ssmMock).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-1', 'i-2', 'i-3'] }],
    });

    const text = out.text();
    expect(text).toContain('new environment perf in eu-west-1 (stack loadfarm-perf)');
    expect(text).toContain('workers: 3 × c7i.large (spot), public subnets, no inbound access');
    expect(text).toMatch(/cost: {4}about \$0\.\d\d\/hour \(spot estimate, us-east-1 prices; data transfer not included\), ≈ \$\d\.\d\d for the 4h time to live/);
    expect(text).toContain(
      'expires: 2030-01-01 16:00 UTC (in 4h): the workers scale to 0 then; at 2030-01-01 17:00 UTC (1h later) the environment ' +
        'deletes itself, results included. `loadfarm down --env perf` removes it sooner',
    );
    expect(text).toContain('loadfarm-perf | CREATE_COMPLETE | AWS::CloudFormation::Stack');
    expect(text).toContain('2/3 worker(s) online; waiting for i-2 (ConnectionLost)');
    expect(text).toContain(
      'environment perf ready in eu-west-1: 3 × c7i.large online, results in s3://loadfarm-perf-results-abc123/, expires 2030-01-01 16:00 UTC (4h left)',
    );
  });

  test('no TTY and no --yes: refuses with one line, deploys nothing', async () => {
    newEnvironment();
    const { d, deploy, buildWorker, confirm } = deps({ interactive: false });
    await expect(bringUp(options({ yes: false }), d)).rejects.toEqual(
      new UsageError('refusing to deploy loadfarm-perf without confirmation: no terminal to ask on; pass --yes to go ahead'),
    );
    expect(confirm).not.toHaveBeenCalled();
    expect(buildWorker).not.toHaveBeenCalled();
    expect(deploy).not.toHaveBeenCalled();
  });

  test('on a terminal the person is asked; "no" deploys nothing', async () => {
    newEnvironment();
    const confirm = jest.fn(async () => false);
    const { d, deploy, out } = deps({ interactive: true, confirm });
    expect(await bringUp(options({ yes: false }), d)).toBe(1);
    expect(confirm).toHaveBeenCalledWith('Deploy?');
    expect(deploy).not.toHaveBeenCalled();
    expect(out.lines.at(-1)).toBe('not deployed');
  });

  test('missing credentials: the one line before anything else', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError', 'Could not load credentials from any providers'));
    const { d, deploy, out } = deps();
    await expect(bringUp(options(), d)).rejects.toEqual(new UsageError(NO_CREDENTIALS));
    expect(deploy).not.toHaveBeenCalled();
    expect(out.lines).toEqual([]);
  });

  test('missing region: the one line, no AWS call', async () => {
    const { d, deploy } = deps({ defaultRegion: async () => undefined });
    await expect(bringUp(options({ region: undefined }), d)).rejects.toEqual(new UsageError(NO_REGION));
    expect(cfnMock.calls()).toHaveLength(0);
    expect(deploy).not.toHaveBeenCalled();
  });

  test('the default region is used when --region is absent; an unbootstrapped region is bootstrapped', async () => {
    newEnvironment();
    ssmMock.on(GetParameterCommand).rejects(new ParameterNotFound({ message: 'not found', $metadata: {} }));
    const { d, deploy, out } = deps({ defaultRegion: async () => 'ap-south-1' });
    expect(await bringUp(options({ region: undefined }), d)).toBe(0);
    expect(deploy.mock.calls[0][0].context.region).toBe('ap-south-1');
    expect(deploy.mock.calls[0][0].bootstrap).toBe(true);
    expect(out.text()).toContain('ap-south-1 is not bootstrapped for the CDK: up bootstraps it first');
  });

  test('an existing environment: shows what it is now; a stack in progress is refused', async () => {
    newEnvironment();
    cfnMock.on(GetTemplateCommand).resolves({ TemplateBody: JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket' } } }) });
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'loadfarm-perf', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
    });
    const { d, out } = deps();
    expect(await bringUp(options({ workers: '5' }), d)).toBe(0);
    expect(out.text()).toContain('update of environment perf in eu-west-1 (stack loadfarm-perf, UPDATE_COMPLETE: now 3 × c7i.large spot, 4h left)');

    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'loadfarm-perf', StackStatus: 'UPDATE_IN_PROGRESS', CreationTime: new Date() }],
    });
    const second = deps();
    await expect(bringUp(options(), second.d)).rejects.toThrow(
      'stack loadfarm-perf is UPDATE_IN_PROGRESS: wait until it has finished (`loadfarm envs` shows it), then try again',
    );
    expect(second.deploy).not.toHaveBeenCalled();
  });

  test('a failed deploy: one line, exit 2, no waiting', async () => {
    newEnvironment();
    const { d, out } = deps({ deploy: async () => ({ ok: false, message: 'The stack named loadfarm-perf failed creation' }) });
    expect(await bringUp(options(), d)).toBe(2);
    expect(out.problems).toEqual(['deploying loadfarm-perf failed: The stack named loadfarm-perf failed creation']);
    expect(asgMock.calls()).toHaveLength(0);
  });

  test('workers that never come online: exit 2 naming them', async () => {
    newEnvironment();
    ssmMock.on(DescribeInstanceInformationCommand).resolves({
      InstanceInformationList: [{ InstanceId: 'i-1', PingStatus: 'Online' }, { InstanceId: 'i-3', PingStatus: 'Online' }],
    });
    const { d, out } = deps();
    expect(await bringUp(options({ readyTimeout: '5m' }), d)).toBe(2);
    expect(out.problems).toEqual(['workers not ready after 5m: not online: i-2 (not registered with SSM)']);
  });
});

describe('results retention is a fact of the environment', () => {
  function existing(facts: Partial<Record<string, string>>, templatePolicy?: 'Retain' | 'Delete') {
    newEnvironment();
    cfnMock.on(DescribeStacksCommand).resolves({
      Stacks: [{ StackName: 'loadfarm-perf', StackStatus: 'UPDATE_COMPLETE', CreationTime: new Date() }],
    });
    const parameters = factParameters('perf', { spot: 'true', ...facts }).filter((p) => p.Value !== '');
    ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: parameters });
    if (templatePolicy) {
      cfnMock.on(GetTemplateCommand).resolves({
        TemplateBody: JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket', DeletionPolicy: templatePolicy } } }),
      });
    }
  }

  test('up again without a flag keeps kept results kept (the fact says so)', async () => {
    existing({ 'keep-results': 'true' });
    const { d, out, deploy } = deps();
    expect(await bringUp(options(), d)).toBe(0);
    expect(deploy.mock.calls[0][0].context.keepResults).toBe(true);
    expect(out.text()).toContain('results: kept, as deployed: the bucket stays and nothing in it expires (--no-keep-results changes that)');
    expect(cfnMock).not.toHaveReceivedCommand(GetTemplateCommand);
  });

  test('an environment deployed before the fact existed: its template decides', async () => {
    existing({}, 'Retain');
    const { d, deploy } = deps();
    expect(await bringUp(options(), d)).toBe(0);
    expect(cfnMock).toHaveReceivedCommandWith(GetTemplateCommand, { StackName: 'loadfarm-perf', TemplateStage: 'Original' });
    expect(deploy.mock.calls[0][0].context.keepResults).toBe(true);
  });

  test('flipping needs the explicit flag, and the summary says it changes', async () => {
    existing({ 'keep-results': 'true' });
    const { d, out, deploy } = deps();
    expect(await bringUp(options({ keepResults: false }), d)).toBe(0);
    expect(deploy.mock.calls[0][0].context.keepResults).toBe(false);
    expect(out.text()).toContain('results: CHANGED to not kept (--no-keep-results): the bucket and everything in it will be deleted');

    existing({ 'keep-results': 'false' });
    const second = deps();
    expect(await bringUp(options({ keepResults: true }), second.d)).toBe(0);
    expect(second.deploy.mock.calls[0][0].context.keepResults).toBe(true);
    expect(second.out.text()).toContain('results: CHANGED to kept');
  });

  test('a new environment keeps nothing unless told', async () => {
    newEnvironment();
    const { d, deploy } = deps();
    await bringUp(options(), d);
    expect(deploy.mock.calls[0][0].context.keepResults).toBe(false);
    const kept = deps();
    await bringUp(options({ keepResults: true }), kept.d);
    expect(kept.deploy.mock.calls[0][0].context.keepResults).toBe(true);
    expect(kept.out.text()).toContain('results: kept: the bucket stays when the environment is deleted, and nothing in it expires');
  });

  test('--keep-results, --no-keep-results, or neither (undefined: the environment decides)', () => {
    const seen = (args: string[]) => {
      const cmd = upCommand();
      let flags: UpFlags | undefined;
      cmd.action((f: UpFlags) => { flags = f; });
      cmd.parse(args, { from: 'user' });
      return parseUpFlags(flags!).keepResults;
    };
    expect(seen([])).toBeUndefined();
    expect(seen(['--keep-results'])).toBe(true);
    expect(seen(['--no-keep-results'])).toBe(false);
  });
});

describe('the summary before asking', () => {
  test('private workers: says what keeps billing after the expiry', async () => {
    newEnvironment();
    const { d, out } = deps();
    await bringUp(options({ private: true, spot: false, workers: '2' }), d);
    expect(out.text()).toContain('workers: 2 × c7i.large (on-demand), private subnets behind a NAT gateway');
    expect(out.text()).toContain('the NAT gateway and SSM endpoints bill $0.11/hour until then, also with the workers at 0');
    expect(out.text()).toContain('results: the bucket is emptied and deleted with the environment (--keep-results keeps it)');
  });

  test('an instance type not in the price table: the cost is said to be unknown, the deploy still happens', async () => {
    newEnvironment();
    const { d, out, deploy } = deps();
    expect(await bringUp(options({ instanceType: 'x9z.large' }), d)).toBe(0);
    expect(out.text()).toContain("cost:    unknown: x9z.large is not in loadfarm's price table (see infra/cost.ts)");
    expect(deploy.mock.calls[0][0].context.instanceType).toBe('x9z.large');
  });
});
