import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  GetParametersCommand,
  InvalidCommandId,
  InvalidInstanceId,
  InvocationDoesNotExist,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
  ThrottlingException,
  type CommandInvocationStatus,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { parameterNames, WORKER_PATHS } from '../../../infra/names';
import { UsageError } from '../../../cli/errors';
import { workerCommand } from '../../../cli/fleet/fleet';
import {
  chooseWorkers,
  classifyInvocation,
  commandComment,
  discoverWorkers,
  SsmFleet,
  ssmRunNaming,
  stderrTail,
  type SsmFleetOptions,
  type WorkerDiscovery,
} from '../../../cli/fleet/ssm';
import { workerScript } from '../../../cli/fleet/ssm-script';
import { backoffDelayMs, isThrottling } from '../../../cli/aws/backoff';

const ssmMock = mockClient(SSMClient);
const ec2Mock = mockClient(EC2Client);
const ssm = new SSMClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const ec2 = new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

beforeEach(() => {
  ssmMock.reset();
  ec2Mock.reset();
});

const RUN = '20261123-181400-devices-a1b2';
const instanceId = (i: number) => `i-${String(i).padStart(17, '0')}`;
const INSTANCES = Array.from({ length: 120 }, (_, i) => instanceId(i));
const argvOf = (index: number) =>
  workerCommand({ node: WORKER_PATHS.node, workerScript: WORKER_PATHS.bundle, store: 's3://results/', runId: RUN, index });

/** A clock that moves only when slept on or advanced: tests take no time. */
function fakeClock() {
  let t = 1_700_000_000_000;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => t,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      t += ms;
    },
    advance: (ms: number) => {
      t += ms;
    },
  };
}

function fleet(over: Partial<SsmFleetOptions> = {}) {
  const clock = fakeClock();
  const f = new SsmFleet({
    ssm,
    instances: INSTANCES,
    bucket: 'results',
    ...ssmRunNaming(RUN),
    executionTimeoutSeconds: 3600,
    clock,
    random: () => 1,
    ...over,
  });
  return { f, clock };
}

const throttled = () => new ThrottlingException({ $metadata: {}, message: 'Rate exceeded', Message: 'Rate exceeded' });
const noInvocation = () => new InvocationDoesNotExist({ $metadata: {}, message: 'no such invocation' });
const sent = (id: string) => ({ Command: { CommandId: id } });

/** The SendCommand inputs received, in order. */
function sendInputs(): SendCommandCommandInput[] {
  return ssmMock.commandCalls(SendCommandCommand).map((c) => c.args[0].input);
}

/** instance id → the `--worker` index its case branch runs, parsed from a script. */
function caseMap(script: string): Map<string, number> {
  const map = new Map<string, number>();
  for (const m of script.matchAll(/^ {2}(i-\w+)\) start_worker .*; exec .* --worker (\d+)(?: |$).*;;$/gm)) map.set(m[1], Number(m[2]));
  return map;
}

describe('SsmFleet.start', () => {
  it('sends one AWS-RunShellScript command with the exact input', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-2'));
    const { f } = fleet();
    await f.start(2, argvOf(2));
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(SendCommandCommand, {
      DocumentName: 'AWS-RunShellScript',
      InstanceIds: [INSTANCES[2]],
      Parameters: {
        commands: [workerScript({ entries: [{ instanceId: INSTANCES[2], argv: argvOf(2), bundle: WORKER_PATHS.bundle }], readyFile: WORKER_PATHS.ready })],
        executionTimeout: ['3600'],
      },
      TimeoutSeconds: 120,
      Comment: `loadfarm ${RUN} worker 2`,
      OutputS3BucketName: 'results',
      OutputS3KeyPrefix: `runs/${RUN}/workers/2/ssm`,
      MaxConcurrency: '100%',
      MaxErrors: '100%',
    });
    const script = sendInputs()[0].Parameters!.commands[0];
    expect(script).toContain(
      `  ${INSTANCES[2]}) start_worker /usr/bin/node /opt/loadfarm/worker.js; exec /usr/bin/node /opt/loadfarm/worker.js --store s3://results/ --run ${RUN} --worker 2 ;;`,
    );
    expect(f.commandId(2)).toBe('c-2');
  });

  it('sends one command per worker when workers are started one by one (the stagger)', async () => {
    ssmMock.on(SendCommandCommand).resolvesOnce(sent('c-0')).resolvesOnce(sent('c-1')).resolvesOnce(sent('c-2'));
    const { f } = fleet({ deliveryTimeoutSeconds: 30, readyFile: null });
    for (const i of [0, 1, 2]) await f.start(i, argvOf(i));
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 3);
    for (const i of [0, 1, 2]) {
      expect(ssmMock).toHaveReceivedNthSpecificCommandWith(i + 1, SendCommandCommand, {
        InstanceIds: [INSTANCES[i]],
        TimeoutSeconds: 30,
        OutputS3KeyPrefix: `runs/${RUN}/workers/${i}/ssm`,
        Parameters: { commands: [workerScript({ entries: [{ instanceId: INSTANCES[i], argv: argvOf(i), bundle: WORKER_PATHS.bundle }] })], executionTimeout: ['3600'] },
      });
    }
    expect([0, 1, 2].map((i) => f.commandId(i))).toEqual(['c-0', 'c-1', 'c-2']);
  });

  it('retries a throttled SendCommand with growing delays, then succeeds', async () => {
    ssmMock.on(SendCommandCommand).rejectsOnce(throttled()).rejectsOnce(throttled()).rejectsOnce(throttled()).resolves(sent('c-0'));
    const { f, clock } = fleet();
    await f.start(0, argvOf(0));
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 4);
    expect(clock.sleeps).toEqual([1000, 2000, 4000]);
    expect(f.commandId(0)).toBe('c-0');
  });

  it('gives up after the bounded attempts and rejects naming the worker and its instance', async () => {
    ssmMock.on(SendCommandCommand).rejects(throttled());
    const { f, clock } = fleet({ sendAttempts: 6 });
    await expect(f.start(7, argvOf(7))).rejects.toThrow(
      `could not start worker 7 on ${INSTANCES[7]}: ThrottlingException: Rate exceeded`,
    );
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 6);
    expect(clock.sleeps).toEqual([1000, 2000, 4000, 8000, 15000]);
    expect(f.commandId(7)).toBeUndefined();
  });

  it('does not retry an error that is not throttling', async () => {
    ssmMock.on(SendCommandCommand).rejects(new InvalidInstanceId({ $metadata: {}, message: 'Instances not in a valid state' }));
    const { f, clock } = fleet();
    await expect(f.start(0, argvOf(0))).rejects.toThrow(`could not start worker 0 on ${INSTANCES[0]}: InvalidInstanceId: Instances not in a valid state`);
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 1);
    expect(clock.sleeps).toEqual([]);
  });

  it('refuses a worker with no instance, or one already started', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-0'));
    const { f } = fleet({ instances: INSTANCES.slice(0, 2) });
    await expect(f.start(2, argvOf(2))).rejects.toThrow('could not start worker 2: there is no instance for it (the fleet has 2)');
    await f.start(0, argvOf(0));
    await expect(f.start(0, argvOf(0))).rejects.toThrow('it was already started (SSM command c-0)');
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 1);
  });

  it('checks its timeouts and instances when built', () => {
    expect(() => fleet({ executionTimeoutSeconds: 0 })).toThrow(/executionTimeoutSeconds/);
    expect(() => fleet({ executionTimeoutSeconds: 172_801 })).toThrow(/executionTimeoutSeconds/);
    expect(() => fleet({ deliveryTimeoutSeconds: 29 })).toThrow(/deliveryTimeoutSeconds/);
    expect(() => fleet({ instances: ['i-1', 'i-2', 'i-1'] })).toThrow(/i-1 appears twice/);
  });
});

describe('SsmFleet.startBatch', () => {
  it('starts 120 workers due together with 3 commands of 50, 50 and 20, each instance mapped to its own index', async () => {
    ssmMock.on(SendCommandCommand).resolvesOnce(sent('c-a')).resolvesOnce(sent('c-b')).resolvesOnce(sent('c-c'));
    const { f } = fleet();
    const indexes = INSTANCES.map((_, i) => i);
    const failures = await f.startBatch(indexes, argvOf);
    expect(failures.size).toBe(0);
    expect(ssmMock).toHaveReceivedCommandTimes(SendCommandCommand, 3);
    const inputs = sendInputs();
    expect(inputs.map((i) => i.InstanceIds!.length)).toEqual([50, 50, 20]);
    const firsts = [0, 50, 100];
    inputs.forEach((input, k) => {
      expect(input.InstanceIds).toEqual(INSTANCES.slice(firsts[k], firsts[k] + input.InstanceIds!.length));
      expect(input.OutputS3KeyPrefix).toBe(`runs/${RUN}/workers/${firsts[k]}/ssm`);
      expect(input.Comment).toBe(`loadfarm ${RUN} workers ${firsts[k]}-${firsts[k] + input.InstanceIds!.length - 1}`);
      expect(input.Parameters!.executionTimeout).toEqual(['3600']);
      const map = caseMap(input.Parameters!.commands[0]);
      expect(map.size).toBe(input.InstanceIds!.length);
      for (const id of input.InstanceIds!) expect(map.get(id)).toBe(INSTANCES.indexOf(id));
    });
    expect(f.commandId(0)).toBe('c-a');
    expect(f.commandId(49)).toBe('c-a');
    expect(f.commandId(50)).toBe('c-b');
    expect(f.commandId(119)).toBe('c-c');
  });

  it('names the workers of a command that failed; the others run', async () => {
    ssmMock
      .on(SendCommandCommand)
      .resolvesOnce(sent('c-a'))
      .rejectsOnce(new InvalidInstanceId({ $metadata: {}, message: 'Instances not in a valid state' }))
      .resolvesOnce(sent('c-c'));
    const { f } = fleet({ sendConcurrency: 1 });
    const failures = await f.startBatch([...INSTANCES.keys(), 500], argvOf);
    expect([...failures.keys()].sort((a, b) => a - b)).toEqual([...Array.from({ length: 50 }, (_, i) => 50 + i), 500]);
    expect(failures.get(57)?.message).toBe(`SendCommand to ${INSTANCES[57]} failed: InvalidInstanceId: Instances not in a valid state`);
    expect((failures.get(57)?.cause as Error).name).toBe('InvalidInstanceId');
    expect(failures.get(500)?.message).toBe('there is no instance for it (the fleet has 120)');
    expect(f.commandId(57)).toBeUndefined();
    expect(f.commandId(100)).toBe('c-c');
  });
});

describe('SsmFleet.status', () => {
  async function started(over: Partial<SsmFleetOptions> = {}) {
    ssmMock.on(SendCommandCommand).resolves(sent('c-1'));
    const t = fleet(over);
    await t.f.start(0, argvOf(0));
    return t;
  }
  const invocation = (Status: string, StatusDetails?: string, instance = INSTANCES[0]) => ({
    // Status as SSM may send it, also values the SDK's enum does not list (Undeliverable, Terminated).
    CommandInvocations: [{ CommandId: 'c-1', InstanceId: instance, Status: Status as CommandInvocationStatus, StatusDetails }],
  });

  it('is pending for a worker never started, with no call', async () => {
    const { f } = fleet();
    expect(await f.status(3)).toEqual({ state: 'pending' });
    expect(ssmMock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 0);
  });

  it.each([
    ['Pending', 'Pending', { state: 'running' }],
    ['InProgress', 'InProgress', { state: 'running' }],
    ['Delayed', 'Delayed', { state: 'running' }],
    ['Cancelling', 'Cancelling', { state: 'running' }],
    ['Success', 'Success', { state: 'exited', exitCode: 0 }],
    ['TimedOut', 'ExecutionTimedOut', { state: 'lost', detail: expect.stringContaining("SSM killed the worker at the command's execution timeout (Execution Timed Out)") }],
    ['Failed', 'Execution Timed Out', { state: 'lost', detail: expect.stringContaining("SSM killed the worker at the command's execution timeout (Execution Timed Out)") }],
    ['TimedOut', 'DeliveryTimedOut', { state: 'lost', detail: expect.stringContaining('SSM could not deliver the command before its delivery timeout (Delivery Timed Out)') }],
    ['Cancelled', 'Cancelled', { state: 'lost', detail: expect.stringContaining('the SSM command was cancelled') }],
    ['Failed', 'Undeliverable', { state: 'lost', detail: expect.stringContaining('(Undeliverable)') }],
    ['Undeliverable', 'Undeliverable', { state: 'lost', detail: expect.stringContaining('(Undeliverable)') }],
    ['Terminated', 'Terminated', { state: 'lost', detail: expect.stringContaining('SSM terminated the invocation before it ran (Terminated)') }],
    ['Failed', 'Terminated', { state: 'lost', detail: expect.stringContaining('SSM terminated the invocation before it ran (Terminated)') }],
  ])('maps %s (%s) to %j', async (status, details, expected) => {
    const { f } = await started();
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation(status, details));
    expect(await f.status(0)).toEqual(expected);
    expect(ssmMock).toHaveReceivedCommandWith(ListCommandInvocationsCommand, { CommandId: 'c-1', Details: false });
    expect(ssmMock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 0);
  });

  it('maps Failed to the worker\'s exit code (ResponseCode) with the tail of its stderr', async () => {
    const { f } = await started();
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation('Failed', 'Failed'));
    ssmMock.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      StatusDetails: 'Failed',
      ResponseCode: 2,
      StandardErrorContent: 'starting\n\nwriting snapshot 3\nstore: AccessDenied on runs/x/workers/0/status.json\n',
    });
    const expected = {
      state: 'exited',
      exitCode: 2,
      detail: 'starting | writing snapshot 3 | store: AccessDenied on runs/x/workers/0/status.json',
    };
    expect(await f.status(0)).toEqual(expected);
    expect(ssmMock).toHaveReceivedCommandWith(GetCommandInvocationCommand, { CommandId: 'c-1', InstanceId: INSTANCES[0] });
    // The end is final: asked once, never again.
    expect(await f.status(0)).toEqual(expected);
    expect(ssmMock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 1);
    expect(ssmMock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
  });

  it('counts a Failed invocation with no exit code (-1) as lost', async () => {
    const { f } = await started();
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation('Failed', 'Failed'));
    ssmMock.on(GetCommandInvocationCommand).resolves({ Status: 'Failed', StatusDetails: 'Failed', ResponseCode: -1 });
    expect(await f.status(0)).toEqual({ state: 'lost', detail: 'SSM: Failed, with no exit code (-1)' });
  });

  it('keeps a Failed worker running while its exit code is throttled, and asks again after pollMs', async () => {
    const { f, clock } = await started();
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation('Failed', 'Failed'));
    ssmMock.on(GetCommandInvocationCommand).rejectsOnce(throttled()).resolves({ Status: 'Failed', ResponseCode: 3 });
    expect(await f.status(0)).toEqual({ state: 'running' });
    expect(await f.status(0)).toEqual({ state: 'running' });
    expect(ssmMock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 1);
    clock.advance(f.pollIntervalMs(0)!);
    expect(await f.status(0)).toEqual({ state: 'exited', exitCode: 3 });
    expect(ssmMock).toHaveReceivedCommandTimes(GetCommandInvocationCommand, 2);
  });

  it('is pending while the invocation does not exist yet (right after SendCommand), then running; the window never slows polling', async () => {
    const { f, clock } = await started();
    ssmMock
      .on(ListCommandInvocationsCommand)
      .rejectsOnce(noInvocation())
      .resolvesOnce({ CommandInvocations: [] })
      .resolves(invocation('InProgress', 'InProgress'));
    expect(f.pollIntervalMs(0)).toBe(2000);
    expect(await f.status(0)).toEqual({ state: 'pending' });
    expect(f.pollIntervalMs(0)).toBe(2000);
    clock.advance(2000);
    expect(await f.status(0)).toEqual({ state: 'pending' });
    expect(f.pollIntervalMs(0)).toBe(2000);
    clock.advance(2000);
    expect(await f.status(0)).toEqual({ state: 'running' });
    expect(f.pollIntervalMs(0)).toBe(2000);
    expect(ssmMock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 3);
  });

  it('does not call a worker lost when its invocation is missing past the window: unknown (the store decides)', async () => {
    const { f, clock } = await started({ consistencyWindowMs: 30_000 });
    ssmMock.on(ListCommandInvocationsCommand).rejects(new InvalidCommandId({ $metadata: {}, message: 'bad id' }));
    expect(await f.status(0)).toEqual({ state: 'pending' });
    clock.advance(30_000);
    expect(await f.status(0)).toEqual({ state: 'unknown', detail: `SSM shows no invocation of command c-1 on ${INSTANCES[0]} 30 s after it was sent` });
    // Past the window a missing invocation is polled more slowly, but still polled.
    expect(f.pollIntervalMs(0)).toBe(4000);
  });

  it('InvocationDoesNotExist from GetCommandInvocation past the window: unknown, not a crash; inside it, ask again', async () => {
    const { f, clock } = await started({ consistencyWindowMs: 30_000 });
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation('Failed', 'Failed'));
    ssmMock.on(GetCommandInvocationCommand).rejects(noInvocation());
    expect(await f.status(0)).toEqual({ state: 'running' });
    clock.advance(30_000);
    expect(await f.status(0)).toEqual({ state: 'unknown', detail: expect.stringContaining('InvocationDoesNotExist') });
  });

  it('labels the start script\'s own exit codes with what to fix, never as the worker\'s exit 1', async () => {
    const { f } = await started();
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation('Failed', 'Failed'));
    ssmMock.on(GetCommandInvocationCommand).resolves({
      Status: 'Failed',
      ResponseCode: 83,
      StandardErrorContent: `loadfarm: instance ${INSTANCES[0]} has no worker bundle: /opt/loadfarm/worker.js is missing or unreadable (the machine's setup failed)\n`,
    });
    const s = await f.status(0);
    expect(s).toEqual({ state: 'lost', detail: expect.stringContaining(`not started: instance ${INSTANCES[0]} has no worker bundle`) });
    expect((s as { detail: string }).detail).toMatch(/deploy the environment again/);
  });

  it('answers from its cache between refreshes, one ListCommandInvocations per pollMs for a whole batch', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-b'));
    const { f, clock } = fleet();
    const indexes = Array.from({ length: 50 }, (_, i) => i);
    await f.startBatch(indexes, argvOf);
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: indexes.map((i) => ({ CommandId: 'c-b', InstanceId: INSTANCES[i], Status: i === 7 ? 'Success' : 'InProgress' })),
    });
    const states = await Promise.all(indexes.map((i) => f.status(i)));
    expect(states[7]).toEqual({ state: 'exited', exitCode: 0 });
    expect(states.filter((s) => s.state === 'running')).toHaveLength(49);
    expect(ssmMock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
    clock.advance(1999);
    await Promise.all(indexes.map((i) => f.status(i)));
    expect(ssmMock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 1);
    clock.advance(1);
    await Promise.all(indexes.map((i) => f.status(i)));
    expect(ssmMock).toHaveReceivedCommandTimes(ListCommandInvocationsCommand, 2);
  });

  it('reads every page of a command\'s invocations', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-b'));
    const { f } = fleet();
    await f.startBatch([0, 1], argvOf);
    ssmMock
      .on(ListCommandInvocationsCommand)
      .resolvesOnce({ CommandInvocations: [{ InstanceId: INSTANCES[0], Status: 'InProgress' }], NextToken: 'p2' })
      .resolvesOnce({ CommandInvocations: [{ InstanceId: INSTANCES[1], Status: 'Success' }] });
    expect(await f.status(1)).toEqual({ state: 'exited', exitCode: 0 });
    expect(ssmMock).toHaveReceivedNthSpecificCommandWith(2, ListCommandInvocationsCommand, { CommandId: 'c-b', NextToken: 'p2' });
  });

  it('keeps the last known state when throttled and backs off x2 up to 15 s, then back to the base interval', async () => {
    const { f, clock } = await started();
    ssmMock.on(ListCommandInvocationsCommand).resolvesOnce(invocation('InProgress')).rejects(throttled());
    expect(await f.status(0)).toEqual({ state: 'running' });
    const intervals: number[] = [];
    for (let k = 0; k < 4; k++) {
      clock.advance(f.pollIntervalMs(0)!);
      expect(await f.status(0)).toEqual({ state: 'running' });
      intervals.push(f.pollIntervalMs(0)!);
    }
    expect(intervals).toEqual([4000, 8000, 15000, 15000]);
    ssmMock.on(ListCommandInvocationsCommand).resolves(invocation('InProgress'));
    clock.advance(15000);
    await f.status(0);
    expect(f.pollIntervalMs(0)).toBe(2000);
  });

  it('backs off per command: a throttled command never slows down the polling of another', async () => {
    ssmMock.on(SendCommandCommand).resolvesOnce(sent('c-1')).resolvesOnce(sent('c-2'));
    const { f, clock } = fleet();
    await f.start(0, argvOf(0));
    await f.start(1, argvOf(1));
    ssmMock.on(ListCommandInvocationsCommand, { CommandId: 'c-1' }).rejects(throttled());
    ssmMock.on(ListCommandInvocationsCommand, { CommandId: 'c-2' }).resolves(invocation('InProgress', 'InProgress', INSTANCES[1]));
    for (let k = 0; k < 3; k++) {
      await Promise.all([f.status(0), f.status(1)]);
      clock.advance(2000);
    }
    expect(f.pollIntervalMs(0)).toBe(8000);
    expect(f.pollIntervalMs(1)).toBe(2000);
    const calls = (id: string) => ssmMock.commandCalls(ListCommandInvocationsCommand).filter((c) => c.args[0].input.CommandId === id).length;
    expect(calls('c-2')).toBe(3);
    expect(calls('c-1')).toBe(2);
  });

  it('rejects (this time) on an error that is not throttling', async () => {
    const { f } = await started();
    ssmMock.on(ListCommandInvocationsCommand).rejects(Object.assign(new Error('User is not authorized'), { name: 'AccessDeniedException' }));
    await expect(f.status(0)).rejects.toThrow('User is not authorized');
  });
});

describe('SsmFleet.cancel', () => {
  it('cancels the worker\'s own invocation only', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-b'));
    ssmMock.on(CancelCommandCommand).resolves({});
    const { f } = fleet();
    await f.startBatch([0, 1, 2], argvOf);
    await f.cancel(1);
    expect(ssmMock).toHaveReceivedCommandTimes(CancelCommandCommand, 1);
    expect(ssmMock).toHaveReceivedCommandWith(CancelCommandCommand, { CommandId: 'c-b', InstanceIds: [INSTANCES[1]] });
    ssmMock.on(ListCommandInvocationsCommand).resolves({
      CommandInvocations: [
        { InstanceId: INSTANCES[0], Status: 'InProgress' },
        { InstanceId: INSTANCES[1], Status: 'Cancelled', StatusDetails: 'Cancelled' },
        { InstanceId: INSTANCES[2], Status: 'InProgress' },
      ],
    });
    expect(await f.status(1)).toEqual({ state: 'lost', detail: 'cancelled by loadfarm (SSM CancelCommand)' });
    expect(await f.status(0)).toEqual({ state: 'running' });
  });

  it('does nothing for a worker not started or already ended', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-1'));
    ssmMock.on(ListCommandInvocationsCommand).resolves({ CommandInvocations: [{ InstanceId: INSTANCES[0], Status: 'Success' }] });
    const { f } = fleet();
    await f.cancel(0);
    await f.start(0, argvOf(0));
    await f.status(0);
    await f.cancel(0);
    expect(ssmMock).toHaveReceivedCommandTimes(CancelCommandCommand, 0);
  });

  it('ignores an invocation that finished meanwhile', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-1'));
    ssmMock.on(CancelCommandCommand).rejects(new InvalidCommandId({ $metadata: {}, message: 'bad id' }));
    const { f } = fleet();
    await f.start(0, argvOf(0));
    await expect(f.cancel(0)).resolves.toBeUndefined();
  });

  it('retries a throttled CancelCommand', async () => {
    ssmMock.on(SendCommandCommand).resolves(sent('c-1'));
    ssmMock.on(CancelCommandCommand).rejectsOnce(throttled()).resolves({});
    const { f, clock } = fleet();
    await f.start(0, argvOf(0));
    await f.cancel(0);
    expect(ssmMock).toHaveReceivedCommandTimes(CancelCommandCommand, 2);
    expect(clock.sleeps).toEqual([1000]);
  });
});

describe('discoverWorkers', () => {
  const env = 'perf';
  const facts = {
    bucket: 'loadfarm-perf-results',
    asg: 'loadfarm-perf-Workers',
    region: 'eu-west-1',
    workers: '4',
    'expires-at': '2030-01-01T12:00:00.000Z',
    'instance-type': 'c7i.large',
    spot: 'false',
  };
  const parameters = () => Object.entries(parameterNames(env)).map(([key, Name]) => ({ Name, Value: facts[key as keyof typeof facts] }));
  const reservation = (...ids: string[]) => ({ Instances: ids.map((InstanceId) => ({ InstanceId })) });

  it('reads the facts, lists running instances page by page, and sorts them by SSM reachability', async () => {
    ssmMock.on(GetParametersCommand).resolves({ Parameters: parameters() });
    ec2Mock
      .on(DescribeInstancesCommand)
      .resolvesOnce({ Reservations: [reservation('i-0d', 'i-0b')], NextToken: 'n2' })
      .resolvesOnce({ Reservations: [reservation('i-0a'), reservation('i-0c')] });
    ssmMock
      .on(DescribeInstanceInformationCommand)
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-0a', PingStatus: 'Online' }], NextToken: 'p2' })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-0b', PingStatus: 'ConnectionLost' }] })
      .resolvesOnce({ InstanceInformationList: [{ InstanceId: 'i-0c', PingStatus: 'Online' }] });

    const d = await discoverWorkers({ ssm, ec2 }, env, { chunkSize: 2 });

    expect(d.facts).toEqual({
      env,
      bucket: 'loadfarm-perf-results',
      asg: 'loadfarm-perf-Workers',
      region: 'eu-west-1',
      workers: 4,
      expiresAt: '2030-01-01T12:00:00.000Z',
      instanceType: 'c7i.large',
      spot: false,
    });
    expect(d.online).toEqual(['i-0a', 'i-0c']);
    expect(d.lost).toEqual([
      { instanceId: 'i-0b', pingStatus: 'ConnectionLost' },
      { instanceId: 'i-0d', pingStatus: 'NotRegistered' },
    ]);
    expect(ssmMock).toHaveReceivedCommandWith(GetParametersCommand, { Names: Object.values(parameterNames(env)) });
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 2);
    expect(ec2Mock).toHaveReceivedNthSpecificCommandWith(1, DescribeInstancesCommand, {
      Filters: [
        { Name: 'tag:loadfarm:env', Values: ['perf'] },
        { Name: 'instance-state-name', Values: ['running'] },
      ],
    });
    expect(ec2Mock).toHaveReceivedNthSpecificCommandWith(2, DescribeInstancesCommand, { NextToken: 'n2' });
    expect(ssmMock).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 3);
    expect(ssmMock).toHaveReceivedNthSpecificCommandWith(1, DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-0a', 'i-0b'] }],
    });
    expect(ssmMock).toHaveReceivedNthSpecificCommandWith(2, DescribeInstanceInformationCommand, { NextToken: 'p2' });
    expect(ssmMock).toHaveReceivedNthSpecificCommandWith(3, DescribeInstanceInformationCommand, {
      Filters: [{ Key: 'InstanceIds', Values: ['i-0c', 'i-0d'] }],
    });
  });

  it('asks SSM nothing about pings when no instance runs', async () => {
    ssmMock.on(GetParametersCommand).resolves({ Parameters: parameters() });
    ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [] });
    const d = await discoverWorkers({ ssm, ec2 }, env);
    expect(d).toMatchObject({ online: [], lost: [] });
    expect(ssmMock).toHaveReceivedCommandTimes(DescribeInstanceInformationCommand, 0);
  });

  it('says in one line that an environment with no parameters was not found', async () => {
    ssmMock.on(GetParametersCommand).resolves({ Parameters: [], InvalidParameters: Object.values(parameterNames(env)) });
    const err = await discoverWorkers({ ssm, ec2 }, env).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toBe(
      'environment "perf" was not found: no SSM parameters under /loadfarm/perf/ in this region (deploy it first, or check the region)',
    );
    expect(ec2Mock).toHaveReceivedCommandTimes(DescribeInstancesCommand, 0);
  });

  it('names the malformed parameters of an incomplete environment', async () => {
    const bad = parameters().map((p) => (p.Name.endsWith('/workers') ? { ...p, Value: 'many' } : p)).filter((p) => !p.Name.endsWith('/asg'));
    ssmMock.on(GetParametersCommand).resolves({ Parameters: bad });
    const err = (await discoverWorkers({ ssm, ec2 }, env).catch((e: unknown) => e)) as UsageError;
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('environment "perf" is incomplete: SSM parameter /loadfarm/perf/asg is missing (and 1 more); deploy it again');
    expect(err.details).toEqual([
      'SSM parameter /loadfarm/perf/asg is missing',
      'SSM parameter /loadfarm/perf/workers must be a whole number; got "many"',
    ]);
  });
});

describe('chooseWorkers', () => {
  const facts = {
    env: 'perf', bucket: 'b', asg: 'g', region: 'eu-west-1', workers: 4,
    expiresAt: '2030-01-01T12:00:00.000Z', instanceType: 'c7i.large', spot: false,
  };
  const d = (online: string[], lost: WorkerDiscovery['lost'] = []): WorkerDiscovery => ({ facts, online, lost });
  const lost = [
    { instanceId: 'i-0b', pingStatus: 'ConnectionLost' },
    { instanceId: 'i-0d', pingStatus: 'NotRegistered' },
  ];

  it('uses every instance when all are online', () => {
    expect(chooseWorkers(d(['i-0a', 'i-0b', 'i-0c', 'i-0d']), { excludeLost: false })).toEqual({
      instances: ['i-0a', 'i-0b', 'i-0c', 'i-0d'],
      excluded: [],
      notes: [],
    });
  });

  it('refuses lost instances with one line naming them', () => {
    expect(() => chooseWorkers(d(['i-0a', 'i-0c'], lost), { excludeLost: false })).toThrow(
      new UsageError(
        '2 worker instances of environment "perf" cannot be reached over SSM: i-0b (ConnectionLost), ' +
          'i-0d (not registered with SSM); wait and retry, or pass --exclude-lost to run on the other 2',
      ),
    );
    try {
      chooseWorkers(d(['i-0a', 'i-0c'], lost), { excludeLost: false });
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  it('names at most five instances in the line', () => {
    const many = Array.from({ length: 8 }, (_, i) => ({ instanceId: `i-${i}`, pingStatus: 'ConnectionLost' }));
    expect(() => chooseWorkers(d(['i-a'], many), { excludeLost: false })).toThrow(/i-4 \(ConnectionLost\) and 3 more; /);
  });

  it('excludes lost instances on request, and says so', () => {
    expect(chooseWorkers(d(['i-0a', 'i-0c'], lost), { excludeLost: true })).toEqual({
      instances: ['i-0a', 'i-0c'],
      excluded: lost,
      notes: ['running without 2 unreachable instance(s): i-0b (ConnectionLost), i-0d (not registered with SSM)'],
    });
  });

  it('refuses when no instance is reachable, even with --exclude-lost', () => {
    expect(() => chooseWorkers(d([], lost), { excludeLost: true })).toThrow(/cannot be reached over SSM.*deploy the environment again/);
  });

  it('refuses an environment with no running instance (expired or scaled to zero)', () => {
    expect(() => chooseWorkers(d([]), { excludeLost: true })).toThrow(
      'environment "perf" has no running worker instance (deployed with 4; it scales to zero at 2030-01-01T12:00:00.000Z): deploy it again to get workers',
    );
  });

  it('notes fewer running instances than deployed', () => {
    expect(chooseWorkers(d(['i-0a', 'i-0b', 'i-0c']), { excludeLost: false }).notes).toEqual([
      'environment "perf" has 3 running instance(s) of the 4 it was deployed with',
    ]);
  });
});

describe('helpers', () => {
  it('classifies statuses whatever their spacing', () => {
    expect(classifyInvocation({ Status: 'Failed', StatusDetails: 'Delivery Timed Out' })).toMatchObject({ kind: 'lost' });
    expect(classifyInvocation({ Status: 'Failed', StatusDetails: 'Failed' })).toEqual({ kind: 'failed' });
    expect(classifyInvocation({ Status: 'SomethingNew' })).toEqual({ kind: 'running' });
    expect(classifyInvocation({})).toEqual({ kind: 'running' });
  });

  it('keeps comments within SendCommand\'s 100 characters', () => {
    expect(commandComment('r1', [3])).toBe('loadfarm r1 worker 3');
    expect(commandComment('r1', [0, 1, 2, 5, 7, 8])).toBe('loadfarm r1 workers 0-2,5,7-8');
    const long = commandComment(RUN, Array.from({ length: 50 }, (_, i) => i * 2));
    expect(long.length).toBe(100);
    expect(long.endsWith('...')).toBe(true);
  });

  it('backs off with equal jitter, capped, and knows throttling by error name', () => {
    const o = { baseMs: 1000, maxMs: 15_000 };
    expect([0, 1, 2, 3, 4, 5].map((r) => backoffDelayMs(r, { ...o, random: () => 1 }))).toEqual([1000, 2000, 4000, 8000, 15000, 15000]);
    expect([0, 1, 2].map((r) => backoffDelayMs(r, { ...o, random: () => 0 }))).toEqual([500, 1000, 2000]);
    expect(isThrottling(throttled())).toBe(true);
    expect(isThrottling(Object.assign(new Error('slow down'), { name: 'TooManyRequestsException' }))).toBe(true);
    expect(isThrottling(Object.assign(new Error('x'), { $retryable: { throttling: true } }))).toBe(true);
    expect(isThrottling(noInvocation())).toBe(false);
    expect(isThrottling('ThrottlingException')).toBe(false);
  });

  it('takes the last lines of stderr', () => {
    expect(stderrTail(undefined)).toBeUndefined();
    expect(stderrTail('\n  \n')).toBeUndefined();
    expect(stderrTail('a\nb\nc\nd\n')).toBe('b | c | d');
    expect(stderrTail('x'.repeat(400))).toHaveLength(300);
  });
});
