/**
 * The whole cloud path on one machine: the scenario is bundled and put in S3 (a real S3
 * protocol server), SSM SendCommand (mocked, the one part of AWS that cannot run here) EXECUTES
 * the exact shell script it was given as local processes, the workers read their plan from S3
 * and write snapshots back, and the CLI merges them into the report.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  InternalServerError,
  InvalidCommandId,
  InvocationDoesNotExist,
  GetCommandInvocationCommand,
  GetParametersCommand,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  SSMClient,
  type SendCommandCommandInput,
} from '@aws-sdk/client-ssm';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { parameterNames } from '../../infra/names';
import { runOnFarm, reattachFleet, readFleetRecord, type CloudTarget, type FleetRecord, fleetRecordKey } from '../../cli/run/cloud';
import { RunDetachedError } from '../../cli/run/detached';
import { startCutProxy, type CutProxy } from '../helpers/cut-proxy';
import { followRun } from '../../cli/run/execute';
import { prepareScenario } from '../../cli/scenario';
import { openStore } from '../../worker/store/open';
import { getJson } from '../../worker/store/store';
import { layout } from '../../worker/store/layout';
import { startDemoTargets, type DemoTargets } from '../../cli/demo/targets';
import { startS3rver, s3rverCredentials, type S3rverHandle } from '../helpers/s3rver';
import { ROOT, rmTemp, tempDir, writeScenario } from '../helpers/cli';
import type { Plan } from '../../worker/plan/plan';
import type { Report } from '../../cli/report/types';

const ENV = 'itest';
const INSTANCES = ['i-0000000000000000a', 'i-0000000000000000b', 'i-0000000000000000c'];

let s3: S3rverHandle;
let targets: DemoTargets;
let dir: string;
const savedEnv = { ...process.env };

/** The fake SSM agent: runs each command's script once per instance, as SSM would. */
class FakeAgent {
  readonly sent: SendCommandCommandInput[] = [];
  readonly procs = new Map<string, { child: ChildProcess; exit?: number; signal?: string; stderr: string }>();
  private n = 0;

  constructor(private readonly env: NodeJS.ProcessEnv) {}

  send(input: SendCommandCommandInput) {
    this.sent.push(input);
    const id = `cmd-${++this.n}`;
    for (const instanceId of input.InstanceIds ?? []) {
      const child = spawn('/bin/sh', ['-c', input.Parameters!.commands![0]], {
        env: { ...this.env, AWS_SSM_INSTANCE_ID: instanceId, AWS_SSM_REGION_NAME: 'us-east-1' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      const entry: { child: ChildProcess; exit?: number; signal?: string; stderr: string } = { child, stderr: '' };
      child.stderr!.on('data', (b: Buffer) => (entry.stderr += b.toString()));
      child.on('exit', (code, signal) => {
        entry.exit = code ?? -1;
        entry.signal = signal ?? undefined;
      });
      this.procs.set(`${id}/${instanceId}`, entry);
    }
    return { Command: { CommandId: id } };
  }

  status(commandId: string, instanceId: string) {
    const p = this.procs.get(`${commandId}/${instanceId}`);
    if (!p) return undefined;
    if (p.exit === undefined) return { Status: 'InProgress', ResponseCode: -1 };
    if (p.signal) return { Status: 'Failed', StatusDetails: 'Failed', ResponseCode: -1, StandardErrorContent: p.stderr };
    return { Status: p.exit === 0 ? 'Success' : 'Failed', StatusDetails: p.exit === 0 ? 'Success' : 'Failed', ResponseCode: p.exit, StandardErrorContent: p.stderr };
  }

  pidOf(instanceId: string): number | undefined {
    for (const [key, p] of this.procs) if (key.endsWith(`/${instanceId}`) && p.exit === undefined) return p.child.pid;
    return undefined;
  }

  async allExited(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => (p.exit !== undefined ? undefined : new Promise((r) => p.child.once('exit', r)))));
  }
}

/**
 * Faults injected at the SDK clients: each hook is asked on every call of its command and
 * returns an error to reject with, or undefined to answer normally.
 */
interface Faults {
  send?: () => unknown;
  list?: () => unknown;
  get?: () => unknown;
  cancel?: () => unknown;
  /** Replaces the invocation's status (e.g. InProgress forever). */
  status?: (s: ReturnType<FakeAgent['status']>) => ReturnType<FakeAgent['status']>;
}

function faulty<I, O>(hook: (() => unknown) | undefined, answer: (input: I) => O): (input: I) => Promise<O> {
  return (input) => {
    const err = hook?.();
    return err ? Promise.reject(err) : Promise.resolve(answer(input));
  };
}

function mockAws(agent: FakeAgent, bucket: string, faults: Faults = {}) {
  const ssm = new SSMClient({ region: 'us-east-1' });
  const ec2 = new EC2Client({ region: 'us-east-1' });
  const ssmMock = mockClient(ssm);
  const ec2Mock = mockClient(ec2);
  const names = parameterNames(ENV);
  const facts: Record<string, string> = { bucket, asg: 'asg-itest', region: 'us-east-1', workers: '3', 'expires-at': '2099-01-01T00:00:00.000Z', 'instance-type': 'c7g.large', spot: 'false' };
  ssmMock.on(GetParametersCommand).resolves({ Parameters: Object.entries(names).map(([k, Name]) => ({ Name, Value: facts[k] })) });
  ec2Mock.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: INSTANCES.map((InstanceId) => ({ InstanceId, State: { Name: 'running' } })) }] });
  ssmMock.on(DescribeInstanceInformationCommand).resolves({ InstanceInformationList: INSTANCES.map((InstanceId) => ({ InstanceId, PingStatus: 'Online' })) });
  const status = (c: string, i: string) => (faults.status ?? ((x) => x))(agent.status(c, i));
  ssmMock.on(SendCommandCommand).callsFake(faulty(faults.send, (input: SendCommandCommandInput) => agent.send(input)));
  ssmMock.on(ListCommandInvocationsCommand).callsFake(
    faulty(faults.list, (input: { CommandId: string }) => ({
      CommandInvocations: INSTANCES.map((InstanceId) => ({ InstanceId, CommandId: input.CommandId, ...status(input.CommandId, InstanceId) })).filter((i) => 'Status' in i),
    })),
  );
  ssmMock
    .on(GetCommandInvocationCommand)
    .callsFake(faulty(faults.get, (input: { CommandId: string; InstanceId: string }) => ({ CommandId: input.CommandId, InstanceId: input.InstanceId, ...status(input.CommandId, input.InstanceId) })));
  ssmMock.on(CancelCommandCommand).callsFake(
    faulty(faults.cancel, (input: { CommandId: string; InstanceIds: string[] }) => {
      for (const id of input.InstanceIds) agent.procs.get(`${input.CommandId}/${id}`)?.child.kill('SIGKILL');
      return {};
    }),
  );
  return { ssm, ec2, ssmMock };
}

const SCENARIO = `
import { defineScenario } from 'loadfarm';
export default defineScenario({
  name: 'cloud-itest',
  load: { phases: [{ duration: 'DURATION', arrivalRate: 30 }] },
  thresholds: { errors: ['rate < 0.01'] },
  async user(u) {
    const r = await u.http.get('/items/' + u.id, { name: '/items/:id' });
    u.check('ok', r.status === 200);
  },
});
`;

beforeAll(async () => {
  s3 = await startS3rver('loadfarm-itest-results');
  targets = await startDemoTargets();
  dir = tempDir();
  process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3rverCredentials.secretAccessKey;
  process.env.AWS_REGION = 'us-east-1';
}, 60_000);
afterAll(async () => {
  process.env = savedEnv;
  await targets.close();
  await s3.close();
  rmTemp(dir);
});

function agentEnv(): NodeJS.ProcessEnv {
  return { ...process.env, AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey };
}

const install = { node: process.execPath, script: path.join(ROOT, 'dist', 'worker.js'), readyFile: null };
const quiet = { json: true, quiet: true, out: '' };

async function run(duration: string, agent: FakeAgent, extra: { staggerMs?: number; during?: (aws: ReturnType<typeof mockAws>) => void } = {}) {
  const file = writeScenario(dir, `cloud-${duration}.ts`, SCENARIO.replace('DURATION', duration));
  const prepared = await prepareScenario(file, targets.httpUrl);
  const aws = mockAws(agent, s3.bucket);
  extra.during?.(aws);
  const out = tempDir('loadfarm-out-');
  const write = process.stdout.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  try {
    const report = await runOnFarm(
      prepared,
      { staggerMs: extra.staggerMs ?? 0, seed: 5, intervalMs: 500, thresholds: {}, params: {}, sourceIps: [] },
      { ...quiet, out },
      { env: ENV, region: 'us-east-1', clients: aws, excludeLost: false, s3Endpoint: s3.endpoint, install, pollMs: 200 },
    );
    return { report, aws, out };
  } finally {
    process.stdout.write = write;
  }
}

describe('the cloud path, with SSM executing the scripts it is sent', () => {
  it('bundle → S3 → 3 workers started by SSM → S3 → merged report that matches the target', async () => {
    const agent = new FakeAgent(agentEnv());
    const before = targets.seen.http;
    const { report, aws } = await run('2s', agent);
    await agent.allExited();
    expect(report.status).toBe('passed');
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(report.metrics['http.GET /items/:id'].count).toBe(60);
    expect(targets.seen.http - before).toBe(60);
    expect(report.workers.map((w) => w.identity)).toEqual([
      { first: 0, last: 19 },
      { first: 20, last: 39 },
      { first: 40, last: 59 },
    ]);
    // Workers due together start in one SendCommand; the script picks each instance's index.
    expect(agent.sent).toHaveLength(1);
    const input = agent.sent[0];
    expect(input).toMatchObject({ DocumentName: 'AWS-RunShellScript', InstanceIds: INSTANCES, OutputS3BucketName: s3.bucket });
    expect(input.OutputS3KeyPrefix).toBe(`runs/${report.runId}/workers/0/ssm`);
    expect(input.Parameters!.commands![0]).toContain(`--store s3://${s3.bucket} --run ${report.runId} --worker`);
    // Plan, scenario, snapshots and report are in the bucket; fleet.json records the commands.
    const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
    expect(await store.get(layout.scenario(report.runId))).toBeDefined();
    expect((await getJson<Report>(store, layout.report(report.runId)))?.status).toBe('passed');
    const record = await getJson<FleetRecord>(store, fleetRecordKey(report.runId));
    expect(record).toMatchObject({ kind: 'ssm', env: ENV, instances: INSTANCES, commands: { 0: 'cmd-1', 1: 'cmd-1', 2: 'cmd-1' } });
    expect(aws.ssmMock.commandCalls(CancelCommandCommand)).toHaveLength(0);
  });

  it('with a stagger, one SendCommand per worker at t0 + i·stagger', async () => {
    const agent = new FakeAgent(agentEnv());
    const t0 = Date.now();
    const sentAt: number[] = [];
    const { report } = await run('1s', agent, {
      staggerMs: 700,
      during: (aws) => aws.ssmMock.on(SendCommandCommand).callsFake((input: SendCommandCommandInput) => (sentAt.push(Date.now() - t0), agent.send(input))),
    });
    expect(report.status).toBe('passed');
    expect(agent.sent.map((s) => s.InstanceIds)).toEqual(INSTANCES.map((i) => [i]));
    expect(sentAt[1] - sentAt[0]).toBeGreaterThanOrEqual(650);
    expect(sentAt[2] - sentAt[0]).toBeGreaterThanOrEqual(1350);
  });

  it('a worker killed mid-run is named in the report, with the window it covered; the run is incomplete', async () => {
    const agent = new FakeAgent(agentEnv());
    let killed = false;
    const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
    const known = new Set(await store.listFolders('runs/'));
    // Kill worker 1 once it has written two snapshots to S3.
    const timer = setInterval(async () => {
      const pid = agent.pidOf(INSTANCES[1]);
      if (!pid || killed) return;
      for (const id of await store.listFolders('runs/')) {
        if (known.has(id)) continue;
        if ((await store.list(layout.snapshotsPrefix(id, 1))).length >= 2 && !killed) {
          killed = true;
          process.kill(pid, 'SIGKILL');
        }
      }
    }, 100);
    const { report } = await run('3s', agent);
    clearInterval(timer);
    expect(killed).toBe(true);
    expect(report.status).toBe('incomplete');
    expect(report.exitCode).toBe(2);
    expect(report.workers[1].state).toBe('lost');
    expect(report.workers[1].snapshots).toBeGreaterThanOrEqual(2);
    expect(report.workers[1].requests).toBeGreaterThan(0);
    expect(report.workers[1].message).toMatch(/SSM|exit|lost|killed/i);
    expect(report.workers[0].state).toBe('done');
    expect(report.warnings.join('\n')).toMatch(/worker 1 lost/);
  });

  it('a reattach after the CLI is gone follows the recorded commands to the report; a stop marker ends the run early', async () => {
    // First CLI: starts the run, then "dies" (we stop following right after the workers start).
    const agent = new FakeAgent(agentEnv());
    const file = writeScenario(dir, 'cloud-long.ts', SCENARIO.replace('DURATION', '20s'));
    const prepared = await prepareScenario(file, targets.httpUrl);
    const aws = mockAws(agent, s3.bucket);
    const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    const first = runOnFarm(
      prepared,
      { staggerMs: 0, seed: 9, intervalMs: 500, thresholds: {}, params: {}, sourceIps: [] },
      { ...quiet, out: tempDir('loadfarm-out-') },
      { env: ENV, region: 'us-east-1', clients: aws, excludeLost: false, s3Endpoint: s3.endpoint, install, pollMs: 200 },
    ).catch(() => undefined);
    // Wait for the fleet record: the run id and its commands.
    let runId: string | undefined;
    for (let i = 0; i < 100 && !runId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      for (const id of (await store.listFolders('runs/')).reverse()) {
        const plan = await getJson<Plan>(store, layout.plan(id));
        if (plan?.scenario.name === 'cloud-itest' && plan.loadMs === 20_000 && (await readFleetRecord(store, id))?.workers.every((w) => w.start === 'started')) {
          runId = id;
          break;
        }
      }
    }
    expect(runId).toBeDefined();
    // Second CLI: attaches from the store and the recorded SSM commands, then stops the run.
    const plan = (await getJson<Plan>(store, layout.plan(runId!)))!;
    const { fleet, resume } = (await reattachFleet(store, plan, aws.ssm, { pollMs: 200 }))!;
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 1500);
    const t0 = Date.now();
    const report = await followRun({ store, fleet, plan, resume, stopSignal: stop.signal, pollMs: 300 });
    process.stdout.write = write;
    await first;
    expect(Date.now() - t0).toBeLessThan(15_000);
    expect(report.runId).toBe(runId);
    expect(report.status).toBe('incomplete');
    expect(report.warnings).toContain('the run was stopped before the end of its load');
    // The workers saw the marker and ended by themselves, each with its last snapshot.
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(report.metrics['http.GET /items/:id'].count).toBeGreaterThan(0);
    expect(await store.get(layout.stop(runId!))).toBeDefined();
  });
});

/** An SSM 500 as the SDK builds it (name, fault, status). */
const http500 = () => new InternalServerError({ $metadata: { httpStatusCode: 500 }, message: 'We encountered an internal error' });
/** Expired SSO/STS credentials, as SSM answers them. */
const expiredToken = () =>
  Object.assign(new Error('The security token included in the request is expired'), { name: 'ExpiredTokenException', $fault: 'client', $metadata: { httpStatusCode: 400 } });

/** Runs `runOnFarm` with faults; resolves with the report or the error, plus the lines told on stderr. */
async function farm(
  duration: string,
  agent: FakeAgent,
  o: { staggerMs?: number; faults?: Faults; target?: Partial<CloudTarget>; seed?: number } = {},
): Promise<{ report?: Report; error?: unknown; lines: string[]; aws: ReturnType<typeof mockAws> }> {
  const file = writeScenario(dir, `faults-${duration}.ts`, SCENARIO.replace('DURATION', duration));
  const prepared = await prepareScenario(file, targets.httpUrl);
  const aws = mockAws(agent, s3.bucket, o.faults);
  const lines: string[] = [];
  const write = process.stdout.write;
  const writeErr = process.stderr.write;
  process.stdout.write = (() => true) as typeof process.stdout.write;
  process.stderr.write = ((t: string) => (lines.push(...String(t).split('\n').filter(Boolean)), true)) as typeof process.stderr.write;
  try {
    const report = await runOnFarm(
      prepared,
      { staggerMs: o.staggerMs ?? 0, seed: o.seed ?? 5, intervalMs: 500, thresholds: {}, params: {}, sourceIps: [] },
      { ...quiet, out: tempDir('loadfarm-out-') },
      { env: ENV, region: 'us-east-1', clients: aws, excludeLost: false, s3Endpoint: s3.endpoint, install, pollMs: 200, ...o.target },
    );
    return { report, lines, aws };
  } catch (error) {
    return { error, lines, aws };
  } finally {
    process.stdout.write = write;
    process.stderr.write = writeErr;
  }
}

/** Resolves `afterMs` after every worker of the run the agent was sent wrote status `running` (bounded: 30 s). */
async function whenRunning(agent: FakeAgent, afterMs: number): Promise<void> {
  const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const runId = /--run (\S+)/.exec(agent.sent[0]?.Parameters?.commands?.[0] ?? '')?.[1];
    if (!runId) continue;
    // A status being rewritten can read as half a JSON document: it is read again next time.
    const statuses = await Promise.all(INSTANCES.map((_, w) => getJson<{ state: string }>(store, layout.status(runId, w)).catch((err: Error) => err)));
    if (statuses.every((st) => !(st instanceof Error) && st?.state === 'running')) break;
  }
  await new Promise((r) => setTimeout(r, afterMs));
}

/** Follows `runId` again as `loadfarm attach` does (the fleet record, then the report). */
async function attach(runId: string, ssm: SSMClient, mode: 'finish' | 'skip', takeoverAfterMs?: number): Promise<Report> {
  const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
  const plan = (await getJson<Plan>(store, layout.plan(runId)))!;
  const r = (await reattachFleet(store, plan, ssm, { pollMs: 200, mode, takeoverAfterMs }))!;
  return followRun({ store, fleet: r.fleet, plan, resume: r.resume, onSchedule: r.onSchedule, pollMs: 300 });
}

describe('the cloud follow loop through AWS trouble (faults injected at the SDK clients)', () => {
  let proxy: CutProxy;
  beforeAll(async () => {
    proxy = await startCutProxy(s3.endpoint);
  });
  afterAll(() => proxy.close());

  it('5xx bursts from SSM and S3 reads cut mid-body: retried with a visible line, the report complete and exact', async () => {
    const agent = new FakeAgent(agentEnv());
    const before = targets.seen.http;
    let lists = 0;
    // The CLI reads the store through a proxy that cuts bodies; the workers write to S3 directly.
    proxy.cutNext(4, (p) => /\/workers\/\d+\/(status\.json|snapshots\/)/.test(p));
    const { report, error, lines } = await farm('5s', agent, {
      // The 2nd to 4th ListCommandInvocations answer HTTP 500.
      faults: { list: () => (++lists >= 2 && lists <= 4 ? http500() : undefined) },
      target: { openStore: (url) => openStore(url, { s3Endpoint: proxy.endpoint }) },
    });
    await agent.allExited();
    expect(error).toBeUndefined();
    expect(lists).toBeGreaterThan(4);
    expect(proxy.cut).toBe(4);
    expect(lines.join('\n')).toMatch(/AWS call failed \(ssm env=itest status of worker \d: InternalServerError \(HTTP 500\)\); retrying/);
    expect(lines.join('\n')).toMatch(/AWS reachable again after \d+ s/);
    expect(report!.status).toBe('passed');
    expect(report!.exitCode).toBe(0);
    expect(report!.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(report!.metrics['http.GET /items/:id'].count).toBe(targets.seen.http - before);
    expect(targets.seen.http - before).toBe(150);
  });

  it('InvocationDoesNotExist past the consistency window: workers followed through the store, not lost', async () => {
    const agent = new FakeAgent(agentEnv());
    const before = targets.seen.http;
    const { report, error, aws } = await farm('2s', agent, {
      // SSM never shows the invocations, and says they do not exist.
      faults: { list: () => new InvalidCommandId({ $metadata: { httpStatusCode: 400 }, message: 'no such command' }), get: () => new InvocationDoesNotExist({ $metadata: { httpStatusCode: 400 }, message: 'no such invocation' }) },
      target: { consistencyWindowMs: 300 },
    });
    await agent.allExited();
    expect(error).toBeUndefined();
    expect(aws.ssmMock.commandCalls(ListCommandInvocationsCommand).length).toBeGreaterThan(1);
    expect(report!.status).toBe('passed');
    expect(report!.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(report!.metrics['http.GET /items/:id'].count).toBe(targets.seen.http - before);
    expect(targets.seen.http - before).toBe(60);
  });

  it('credentials expiring mid-stagger: one line with the attach command, workers left running; attach finishes the schedule', async () => {
    const agent = new FakeAgent(agentEnv());
    const before = targets.seen.http;
    let expired = false;
    const { error } = await farm('2s', agent, {
      staggerMs: 1000,
      seed: 21,
      faults: {
        send: () => {
          if (agent.sent.length >= 1) expired = true;
          return expired ? expiredToken() : undefined;
        },
        list: () => (expired ? expiredToken() : undefined),
      },
    });
    expect(error).toBeInstanceOf(RunDetachedError);
    const e = error as RunDetachedError;
    expect(e.exitCode).toBe(2);
    expect(e.message).toMatch(/credentials expired or were refused \(ExpiredTokenException\).*log in again.*`loadfarm attach \S+ --env itest --region us-east-1 --s3-endpoint \S+`.*nothing is lost/);
    expect(e.details.join('\n')).toMatch(/2 worker\(s\) were not started yet/);
    // No stop marker: the worker already started keeps going.
    const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
    expect(await store.get(layout.stop(e.runId))).toBeUndefined();
    expect(agent.sent).toHaveLength(1);
    const record = (await readFleetRecord(store, e.runId))!;
    expect(record.workers.map((w) => w.start)).toEqual(['started', 'not-started', 'not-started']);
    // Logged in again: attach starts workers 1 and 2 and follows all three to the report.
    const fixed = mockAws(agent, s3.bucket);
    const report = await attach(e.runId, fixed.ssm, 'finish', 0);
    await agent.allExited();
    expect(agent.sent.map((c) => c.InstanceIds)).toEqual(INSTANCES.map((i) => [i]));
    expect(report.status).toBe('passed');
    expect(report.exitCode).toBe(0);
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(report.metrics['http.GET /items/:id'].count).toBe(targets.seen.http - before);
    expect(targets.seen.http - before).toBe(60);
    expect((await readFleetRecord(store, e.runId))!.workers.map((w) => [w.start, w.resumed ?? false])).toEqual([
      ['started', false],
      ['started', true],
      ['started', true],
    ]);
  });

  it('the CLI leaving mid-stagger, then attach --skip-unstarted: the rest are "never started", the run incomplete', async () => {
    const agent = new FakeAgent(agentEnv());
    const before = targets.seen.http;
    const leave = new AbortController();
    const { error } = await farm('2s', agent, {
      staggerMs: 1500,
      seed: 33,
      faults: { send: () => void setTimeout(() => leave.abort(), 200) },
      target: { leaveSignal: leave.signal },
    });
    expect(error).toBeInstanceOf(RunDetachedError);
    const runId = (error as RunDetachedError).runId;
    expect((error as Error).message).toMatch(/left run .*loadfarm attach \S+ --env itest/);
    const store = await openStore(`s3://${s3.bucket}`, { s3Endpoint: s3.endpoint });
    expect((await readFleetRecord(store, runId))!).toMatchObject({ starting: false });
    const report = await attach(runId, mockAws(agent, s3.bucket).ssm, 'skip');
    await agent.allExited();
    expect(agent.sent).toHaveLength(1);
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'never started', 'never started']);
    expect(report.status).toBe('incomplete');
    expect(report.exitCode).toBe(2);
    expect(report.metrics['http.GET /items/:id'].count).toBe(targets.seen.http - before);
    expect(targets.seen.http - before).toBe(20);
  });

  it('Ctrl-C with SSM stuck at InProgress and the cancel ignored: returns within 3 s of the workers\' end, with their last snapshots', async () => {
    const agent = new FakeAgent(agentEnv());
    const before = targets.seen.http;
    const stop = new AbortController();
    let stoppedAt = 0;
    const { report, error, aws, lines } = await farm('20s', agent, {
      faults: {
        // Ctrl-C once every worker says it is running (and has run a second).
        send: () => void whenRunning(agent, 1000).then(() => ((stoppedAt = Date.now()), stop.abort())),
        status: (st) => (st ? { Status: 'InProgress', ResponseCode: -1 } : st),
        cancel: () => http500(),
      },
      target: { stopSignal: stop.signal, cancelGraceMs: 300 },
    });
    const returnedAt = Date.now();
    const tookMs = returnedAt - stoppedAt;
    expect(error).toBeUndefined();
    expect(stoppedAt).toBeGreaterThan(0);
    // The CLI's part: it sees the workers end in the store, not in SSM (stuck at InProgress), and
    // returns within 3 s of the last worker's end. The whole, from Ctrl-C, adds the workers' own
    // reaction (they look for the marker each second and end what is in flight): bounded far below
    // the 15 s of the old shared backoff, with room for a busy machine.
    const lastEnd = Math.max(...report!.workers.map((w) => w.endedAt ?? Infinity));
    if (returnedAt - lastEnd >= 3000 || tookMs >= 10_000) console.log(lines.join('\n'), tookMs, returnedAt - lastEnd);
    expect(returnedAt - lastEnd).toBeLessThan(3000);
    expect(tookMs).toBeLessThan(10_000);
    await agent.allExited();
    expect(report!.workers.map((w) => w.state)).toEqual(['done', 'done', 'done']);
    expect(report!.status).toBe('incomplete');
    expect(report!.warnings).toContain('the run was stopped before the end of its load');
    expect(report!.metrics['http.GET /items/:id'].count).toBe(targets.seen.http - before);
    expect(aws.ssmMock.commandCalls(CancelCommandCommand).length).toBeLessThanOrEqual(3);
  });
});
