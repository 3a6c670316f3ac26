import 'aws-sdk-client-mock-jest';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceInformationCommand, SSMClient } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { readiness, readinessLine, waitForWorkers } from '../../../cli/aws/ready';
import { fakeClock } from './helpers';

const asgMock = mockClient(AutoScalingClient);
const ssmMock = mockClient(SSMClient);
const clients = { autoScaling: new AutoScalingClient({ region: 'eu-west-1' }), ssm: new SSMClient({ region: 'eu-west-1' }) };
const GROUP = 'loadfarm-perf-WorkersGroup-XYZ';

function group(...instances: Array<[string, string]>) {
  return {
    AutoScalingGroups: [
      {
        AutoScalingGroupName: GROUP,
        MinSize: 3, MaxSize: 3, DesiredCapacity: 3, DefaultCooldown: 300, AvailabilityZones: ['eu-west-1a'],
        HealthCheckType: 'EC2', CreatedTime: new Date(),
        Instances: instances.map(([InstanceId, LifecycleState]) => ({
          InstanceId, LifecycleState: LifecycleState as 'InService', AvailabilityZone: 'eu-west-1a', HealthStatus: 'Healthy', ProtectedFromScaleIn: false,
        })),
      },
    ],
  };
}
function pings(...list: Array<[string, string]>) {
  return { InstanceInformationList: list.map(([InstanceId, PingStatus]) => ({ InstanceId, PingStatus: PingStatus as 'Online' })) };
}

beforeEach(() => {
  asgMock.reset();
  ssmMock.reset();
});

describe('readiness (pure)', () => {
  test('ready only when the expected number of machines is in service and Online', () => {
    expect(readiness(2, [
      { instanceId: 'i-b', lifecycleState: 'InService', pingStatus: 'Online' },
      { instanceId: 'i-a', lifecycleState: 'InService', pingStatus: 'Online' },
    ])).toEqual({ expected: 2, online: ['i-a', 'i-b'], waiting: [], missing: 0, ready: true });

    const r = readiness(3, [
      { instanceId: 'i-a', lifecycleState: 'InService', pingStatus: 'Online' },
      { instanceId: 'i-b', lifecycleState: 'InService', pingStatus: 'ConnectionLost' },
      { instanceId: 'i-c', lifecycleState: 'InService' },
      { instanceId: 'i-d', lifecycleState: 'Pending:Wait' },
      { instanceId: 'i-e', lifecycleState: 'Terminating' },
    ]);
    expect(r.ready).toBe(false);
    expect(r.missing).toBe(0);
    expect(r.waiting).toEqual([
      { instanceId: 'i-b', why: 'ConnectionLost' },
      { instanceId: 'i-c', why: 'not registered with SSM' },
      { instanceId: 'i-d', why: 'Pending:Wait' },
    ]);
    expect(readinessLine(r)).toBe('1/3 worker(s) online; waiting for i-b (ConnectionLost), i-c (not registered with SSM), i-d (Pending:Wait)');
    expect(readinessLine(readiness(2, []))).toBe('0/2 worker(s) online; 2 not in service in the group yet');
  });
});

describe('waitForWorkers', () => {
  test('waits through ConnectionLost until every worker is Online', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(['i-1', 'InService'], ['i-2', 'InService'], ['i-3', 'InService']));
    ssmMock
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce(pings(['i-1', 'Online'], ['i-2', 'ConnectionLost']))
      .resolvesOnce(pings(['i-1', 'Online'], ['i-2', 'ConnectionLost'], ['i-3', 'Online']))
      .resolves(pings(['i-1', 'Online'], ['i-2', 'Online'], ['i-3', 'Online']));
    const clock = fakeClock();
    const lines: string[] = [];
    const result = await waitForWorkers(clients, {
      groupName: GROUP, expected: 3, timeoutMs: 600_000, clock, initialDelayMs: 5000, onProgress: (l) => lines.push(l),
    });
    expect(result.ok).toBe(true);
    expect(result.readiness.online).toEqual(['i-1', 'i-2', 'i-3']);
    expect(lines).toEqual([
      '1/3 worker(s) online; waiting for i-2 (ConnectionLost), i-3 (not registered with SSM)',
      '2/3 worker(s) online; waiting for i-2 (ConnectionLost)',
      '3/3 worker(s) online',
    ]);
    expect(clock.slept).toEqual([5000, 7500]);
    expect(asgMock).toHaveReceivedCommandWith(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: [GROUP] });
    expect(ssmMock).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
    expect(ssmMock).toHaveReceivedCommandWith(DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-1', 'i-2', 'i-3'] }],
    });
  });

  test('times out with a line naming the machines that are not online', async () => {
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(['i-1', 'InService'], ['i-2', 'InService']));
    ssmMock.on(DescribeInstanceInformationCommand).resolves(pings(['i-1', 'Online'], ['i-2', 'ConnectionLost']));
    const clock = fakeClock();
    const result = await waitForWorkers(clients, { groupName: GROUP, expected: 3, timeoutMs: 60_000, clock });
    expect(result.ok).toBe(false);
    expect(result.ok ? '' : result.message).toBe(
      `workers not ready after 1m: not online: i-2 (ConnectionLost); 1 of 3 worker(s) not in service in group ${GROUP}`,
    );
    expect(result.elapsedMs).toBe(60_000);
  });

  test('asks SSM about at most 50 instances per call', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `i-${String(i).padStart(3, '0')}`);
    asgMock.on(DescribeAutoScalingGroupsCommand).resolves(group(...ids.map((id): [string, string] => [id, 'InService'])));
    ssmMock.on(DescribeInstanceInformationCommand).callsFake((input: { Filters: Array<{ Values: string[] }> }) =>
      pings(...input.Filters[0].Values.map((id): [string, string] => [id, 'Online'])),
    );
    const result = await waitForWorkers(clients, { groupName: GROUP, expected: 120, timeoutMs: 1000, clock: fakeClock() });
    expect(result.ok).toBe(true);
    expect(ssmMock).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
    expect(ssmMock).toHaveReceivedNthSpecificCommandWith(3, DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ids.slice(100) }],
    });
  });
});
