import 'aws-sdk-client-mock-jest';
import {
  CloudFormationClient,
  DeleteStackCommand,
  DescribeStackEventsCommand,
  DescribeStacksCommand,
  GetTemplateCommand,
  type Stack,
} from '@aws-sdk/client-cloudformation';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { NO_CREDENTIALS, awsClients } from '../../../cli/aws/clients';
import { type DownDeps, type DownOptions, tearDown } from '../../../cli/aws/down';
import { bucketsRetained, classifyLeftovers } from '../../../cli/aws/teardown';
import { parseDownFlags } from '../../../cli/commands/down';
import { UsageError } from '../../../cli/errors';
import { awsError, captureOutput, factParameters, fakeClock, noSuchStack } from './helpers';

const cfnMock = mockClient(CloudFormationClient);
const ssmMock = mockClient(SSMClient);
const ec2Mock = mockClient(EC2Client);
const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);

const NAME = 'loadfarm-perf';
const STACK_ID = 'arn:aws:cloudformation:eu-west-1:123456789012:stack/loadfarm-perf/0f1e2d3c';
const BUCKET = 'loadfarm-perf-results-abc123';
const SG_ARN = 'arn:aws:ec2:eu-west-1:123456789012:security-group/sg-0123';
const BUCKET_ARN = `arn:aws:s3:::${BUCKET}`;
const TAG_FILTERS = { TagFilters: [{ Key: 'loadfarm:env', Values: ['perf'] }] };
const INSTANCE_FILTERS = {
  Filters: [
    { Name: 'tag:loadfarm:env', Values: ['perf'] },
    { Name: 'instance-state-name', Values: ['pending', 'running', 'shutting-down', 'stopping', 'stopped'] },
  ],
};

function stack(status: string, extra: Partial<Stack> = {}): Stack {
  return {
    StackName: NAME, StackId: STACK_ID, StackStatus: status as Stack['StackStatus'], CreationTime: new Date(),
    Outputs: [{ OutputKey: 'BucketName', OutputValue: BUCKET }], ...extra,
  };
}
function template(deletionPolicy: 'Delete' | 'Retain'): string {
  return JSON.stringify({
    Resources: {
      ResultsBucketABC: { Type: 'AWS::S3::Bucket', DeletionPolicy: deletionPolicy, UpdateReplacePolicy: deletionPolicy },
      WorkersGroup: { Type: 'AWS::AutoScaling::AutoScalingGroup' },
    },
  });
}

/** A deployed environment whose stack deletes cleanly. */
function deployed(deletionPolicy: 'Delete' | 'Retain' = 'Delete') {
  cfnMock.on(DescribeStacksCommand, { StackName: NAME }).resolves({ Stacks: [stack('CREATE_COMPLETE')] });
  cfnMock
    .on(DescribeStacksCommand, { StackName: STACK_ID })
    .resolvesOnce({ Stacks: [stack('DELETE_IN_PROGRESS')] })
    .resolves({ Stacks: [stack('DELETE_COMPLETE')] });
  cfnMock.on(GetTemplateCommand).resolves({ TemplateBody: template(deletionPolicy) });
  cfnMock.on(DeleteStackCommand).resolves({});
  cfnMock.on(DescribeStackEventsCommand).resolves({
    StackEvents: [
      {
        EventId: 'e2', StackId: STACK_ID, StackName: NAME, Timestamp: new Date('2030-01-01T12:03:00Z'),
        LogicalResourceId: 'WorkersGroup', ResourceType: 'AWS::AutoScaling::AutoScalingGroup', ResourceStatus: 'DELETE_COMPLETE',
      },
      {
        EventId: 'e1', StackId: STACK_ID, StackName: NAME, Timestamp: new Date('2030-01-01T12:00:01Z'),
        LogicalResourceId: NAME, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'DELETE_IN_PROGRESS',
      },
      {
        EventId: 'e0', StackId: STACK_ID, StackName: NAME, Timestamp: new Date('2029-12-31T09:00:00Z'),
        LogicalResourceId: NAME, ResourceType: 'AWS::CloudFormation::Stack', ResourceStatus: 'CREATE_COMPLETE',
      },
    ],
  });
  ssmMock.on(GetParametersByPathCommand).resolves({ Parameters: factParameters('perf') });
  taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [] });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
}

function options(extra: Partial<DownOptions> = {}): DownOptions {
  return { env: 'perf', region: 'eu-west-1', keepResults: false, yes: true, timeoutMs: 30 * 60_000, ...extra };
}
function deps(extra: Partial<DownDeps> = {}) {
  const out = captureOutput();
  const d: DownDeps = {
    clients: (region) => awsClients(region),
    defaultRegion: async () => undefined,
    interactive: false,
    confirm: jest.fn(async () => true),
    out,
    clock: fakeClock('2030-01-01T12:00:00Z'),
    settleMs: 60_000,
    ...extra,
  };
  return { d, out };
}

beforeEach(() => {
  cfnMock.reset();
  ssmMock.reset();
  ec2Mock.reset();
  taggingMock.reset();
});

describe('leftover classification (pure)', () => {
  test('instances come from EC2, not from the tagging API; the bucket is kept only when meant to', () => {
    const input = {
      taggedArns: [SG_ARN, BUCKET_ARN, 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0dead', SG_ARN],
      liveInstances: [{ instanceId: 'i-0b', state: 'stopped' }, { instanceId: 'i-0a', state: 'running' }],
    };
    expect(classifyLeftovers({ ...input, keepBuckets: true })).toEqual({
      leftover: [SG_ARN, 'i-0a (running)', 'i-0b (stopped)'],
      kept: [BUCKET_ARN],
    });
    expect(classifyLeftovers({ ...input, keepBuckets: false }).leftover).toEqual([
      SG_ARN, BUCKET_ARN, 'i-0a (running)', 'i-0b (stopped)',
    ]);
    expect(classifyLeftovers({ taggedArns: [`${BUCKET_ARN}/runs/x`], liveInstances: [], keepBuckets: true }).leftover).toEqual([
      `${BUCKET_ARN}/runs/x`,
    ]);
    expect(classifyLeftovers({ taggedArns: [], liveInstances: [], keepBuckets: false })).toEqual({ leftover: [], kept: [] });
  });

  test('whether the template keeps its bucket', () => {
    expect(bucketsRetained(template('Retain'))).toBe(true);
    expect(bucketsRetained(template('Delete'))).toBe(false);
    expect(bucketsRetained(JSON.stringify({ Resources: { B: { Type: 'AWS::S3::Bucket' } } }))).toBe(false);
    expect(bucketsRetained(JSON.stringify({ Resources: {} }))).toBeUndefined();
  });
});

describe('down', () => {
  test('deletes the stack, shows its events, and finds nothing left', async () => {
    deployed();
    const { d, out } = deps();
    expect(await tearDown(options(), d)).toBe(0);
    expect(out.problems).toEqual([]);
    expect(cfnMock).toHaveReceivedCommandWith(DeleteStackCommand, { StackName: NAME });
    expect(cfnMock).toHaveReceivedCommandWith(GetTemplateCommand, { StackName: NAME, TemplateStage: 'Original' });
    expect(cfnMock).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: STACK_ID });
    expect(taggingMock).toHaveReceivedCommandWith(GetResourcesCommand, TAG_FILTERS);
    expect(ec2Mock).toHaveReceivedCommandWith(DescribeInstancesCommand, INSTANCE_FILTERS);
    expect(out.lines).toEqual([
      `destroying environment perf in eu-west-1 (stack ${NAME}, CREATE_COMPLETE; 3 × c7i.large, results bucket ${BUCKET} is emptied and deleted)`,
      `DELETE_IN_PROGRESS AWS::CloudFormation::Stack ${NAME}`,
      'DELETE_COMPLETE AWS::AutoScaling::AutoScalingGroup WorkersGroup',
      `stack ${NAME} deleted in 5s`,
      'checking that nothing tagged loadfarm:env=perf is left in eu-west-1',
      'nothing of environment perf is left in eu-west-1',
    ]);
  });

  test('something left: named, exit 2 (after letting the tagging API settle)', async () => {
    deployed();
    taggingMock.on(GetResourcesCommand).resolves({
      ResourceTagMappingList: [{ ResourceARN: SG_ARN }, { ResourceARN: 'arn:aws:ec2:eu-west-1:123456789012:instance/i-0gone' }],
    });
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [{ Instances: [{ InstanceId: 'i-0live', State: { Name: 'running', Code: 16 } }] }],
    });
    const { d, out } = deps();
    expect(await tearDown(options(), d)).toBe(2);
    expect(out.problems).toEqual([`left of environment perf in eu-west-1: ${SG_ARN}, i-0live (running)`]);
    expect((taggingMock.commandCalls(GetResourcesCommand).length)).toBeGreaterThan(1);
  });

  test('what the tagging API still lists for a moment is not reported once it has caught up', async () => {
    deployed();
    taggingMock.on(GetResourcesCommand).resolvesOnce({ ResourceTagMappingList: [{ ResourceARN: SG_ARN }] }).resolves({ ResourceTagMappingList: [] });
    const { d, out } = deps();
    expect(await tearDown(options(), d)).toBe(0);
    expect(out.lines.at(-1)).toBe('nothing of environment perf is left in eu-west-1');
    expect(taggingMock).toHaveReceivedCommandTimes(GetResourcesCommand, 2);
  });

  test('--keep-results on an environment deployed to keep them: the bucket is reported as kept', async () => {
    deployed('Retain');
    taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: BUCKET_ARN }] });
    const { d, out } = deps();
    expect(await tearDown(options({ keepResults: true }), d)).toBe(0);
    expect(out.problems).toEqual([]);
    expect(out.lines[0]).toContain(`results bucket ${BUCKET} is kept`);
    expect(out.lines).toContain(`kept: results bucket s3://${BUCKET}/ (remove it with \`aws s3 rb s3://${BUCKET} --force\` when done)`);
    expect(out.lines.at(-1)).toBe('nothing of environment perf is left in eu-west-1 but the kept results');
  });

  test('--keep-results on an environment that would lose them: refuses before deleting anything', async () => {
    deployed('Delete');
    const { d } = deps();
    const error = await tearDown(options({ keepResults: true }), d).catch((e: unknown) => e as UsageError);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(
      new RegExp(`^not destroying ${NAME}: s3://${BUCKET}/ was deployed without --keep-results and would be deleted with the stack; copy what you need first \\(aws s3 sync s3://${BUCKET}/ \\./results-perf\\)`),
    );
    expect(cfnMock).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('no TTY and no --yes: refuses with one line, deletes nothing', async () => {
    deployed();
    const { d } = deps({ interactive: false });
    await expect(tearDown(options({ yes: false }), d)).rejects.toEqual(
      new UsageError(`refusing to destroy ${NAME} without confirmation: no terminal to ask on; pass --yes to go ahead`),
    );
    expect(cfnMock).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('no stack: only looks for leftovers', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(noSuchStack(NAME));
    taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: BUCKET_ARN }] });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const { d, out } = deps();
    expect(await tearDown(options(), d)).toBe(2);
    expect(out.lines[0]).toBe(`no stack ${NAME} in eu-west-1; looking for anything left of environment perf`);
    expect(out.problems).toEqual([`left of environment perf in eu-west-1: ${BUCKET_ARN}`]);
    expect(taggingMock).toHaveReceivedCommandTimes(GetResourcesCommand, 1);
    expect(cfnMock).not.toHaveReceivedCommand(DeleteStackCommand);

    // Later, with --keep-results, the bucket kept from an earlier teardown is not a leftover.
    const again = deps();
    expect(await tearDown(options({ keepResults: true }), again.d)).toBe(0);
    expect(again.out.lines).toContain(`kept: results bucket s3://${BUCKET}/ (remove it with \`aws s3 rb s3://${BUCKET} --force\` when done)`);
  });

  test('a failed deletion: its reason, then what is left, exit 2', async () => {
    deployed();
    cfnMock.on(DescribeStacksCommand, { StackName: STACK_ID }).resolves({
      Stacks: [stack('DELETE_FAILED', { StackStatusReason: 'The following resource(s) failed to delete: [NetworkVpc]' })],
    });
    taggingMock.on(GetResourcesCommand).resolves({ ResourceTagMappingList: [{ ResourceARN: 'arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1' }] });
    const { d, out } = deps();
    expect(await tearDown(options(), d)).toBe(2);
    expect(out.problems).toEqual([
      `deleting stack ${NAME} failed: The following resource(s) failed to delete: [NetworkVpc]`,
      'left of environment perf in eu-west-1: arn:aws:ec2:eu-west-1:123456789012:vpc/vpc-1',
    ]);
  });

  test('missing credentials: the one line, nothing deleted', async () => {
    cfnMock.on(DescribeStacksCommand).rejects(awsError('CredentialsProviderError'));
    const { d } = deps();
    await expect(tearDown(options(), d)).rejects.toEqual(new UsageError(NO_CREDENTIALS));
    expect(cfnMock).not.toHaveReceivedCommand(DeleteStackCommand);
  });

  test('flags: all problems at once', () => {
    expect(() => parseDownFlags({ env: '-x', region: 'nowhere', timeout: '10s' })).toThrow(
      expect.objectContaining({
        message: '--env: expected 1-32 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen, got "-x"',
        details: ['--region: expected a region like us-east-1, got "nowhere"', '--timeout: expected a duration like 2s, 500ms or 1m (at least 60000 ms), got "10s"'],
      }),
    );
  });
});
