/**
 * Waiting until every worker machine of an environment can take a Run Command: the group has
 * `workers` instances in service and SSM reports each one `Online`.
 */
import { type AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceInformationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { formatDuration } from '../../worker/scenario/duration';
import { type Clock, pollUntil } from './poll';

/** A worker machine as the group and SSM see it. */
export interface WorkerMachine {
  readonly instanceId: string;
  /** Auto Scaling lifecycle state (`Pending`, `InService`, `Terminating`…). */
  readonly lifecycleState: string;
  /** SSM ping status (`Online`, `ConnectionLost`, `Inactive`), or undefined when not registered with SSM. */
  readonly pingStatus?: string;
}

export interface Readiness {
  readonly expected: number;
  /** In service and Online, sorted. */
  readonly online: readonly string[];
  /** Machines of the group that are not (yet) usable, with why: `ConnectionLost`, `not registered with SSM`, `Pending`. */
  readonly waiting: ReadonlyArray<{ readonly instanceId: string; readonly why: string }>;
  /** How many machines the group lacks to reach `expected` in service. */
  readonly missing: number;
  readonly ready: boolean;
}

/** Pure: what the machines say about the fleet being usable. */
export function readiness(expected: number, machines: readonly WorkerMachine[]): Readiness {
  const online: string[] = [];
  const waiting: Array<{ instanceId: string; why: string }> = [];
  let inService = 0;
  for (const m of [...machines].sort((a, b) => a.instanceId.localeCompare(b.instanceId))) {
    if (m.lifecycleState !== 'InService') {
      // Leaving machines (Terminating, Detaching…) are on their way out: not waited for.
      if (m.lifecycleState.startsWith('Pending')) waiting.push({ instanceId: m.instanceId, why: m.lifecycleState });
      continue;
    }
    inService++;
    if (m.pingStatus === 'Online') online.push(m.instanceId);
    else waiting.push({ instanceId: m.instanceId, why: m.pingStatus ?? 'not registered with SSM' });
  }
  const missing = Math.max(0, expected - inService);
  return { expected, online, waiting, missing, ready: online.length >= expected && waiting.length === 0 };
}

/** `2/3 workers online; waiting for i-0abc (ConnectionLost)` */
export function readinessLine(r: Readiness): string {
  const parts = [`${r.online.length}/${r.expected} worker(s) online`];
  if (r.waiting.length > 0) parts.push(`waiting for ${r.waiting.map((w) => `${w.instanceId} (${w.why})`).join(', ')}`);
  if (r.missing > 0) parts.push(`${r.missing} not in service in the group yet`);
  return parts.join('; ');
}

/** SSM Filters accept at most 50 instance ids per value list. */
const SSM_IDS_PER_CALL = 50;

/** The group's machines with their SSM ping status. */
export async function describeWorkerMachines(
  clients: { readonly autoScaling: AutoScalingClient; readonly ssm: SSMClient },
  groupName: string,
): Promise<WorkerMachine[]> {
  const groups = await clients.autoScaling.send(
    new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [groupName] }),
  );
  const instances = groups.AutoScalingGroups?.[0]?.Instances ?? [];
  const ids = instances.flatMap((i) => (i.InstanceId ? [i.InstanceId] : []));
  const ping = new Map<string, string>();
  for (let i = 0; i < ids.length; i += SSM_IDS_PER_CALL) {
    let token: string | undefined;
    do {
      const out = await clients.ssm.send(
        new DescribeInstanceInformationCommand({
          Filters: [{ Key: 'InstanceIds', Values: ids.slice(i, i + SSM_IDS_PER_CALL) }],
          NextToken: token,
        }),
      );
      for (const info of out.InstanceInformationList ?? []) {
        if (info.InstanceId && info.PingStatus) ping.set(info.InstanceId, info.PingStatus);
      }
      token = out.NextToken;
    } while (token);
  }
  return instances.flatMap((i) =>
    i.InstanceId ? [{ instanceId: i.InstanceId, lifecycleState: i.LifecycleState ?? 'unknown', pingStatus: ping.get(i.InstanceId) }] : [],
  );
}

export interface WaitForWorkersOptions {
  readonly groupName: string;
  readonly expected: number;
  readonly timeoutMs: number;
  /** Called with a line each time the state changes. */
  readonly onProgress?: (line: string) => void;
  readonly clock?: Clock;
  /** @default 5000 */
  readonly initialDelayMs?: number;
}

export type WaitForWorkersResult =
  | { readonly ok: true; readonly readiness: Readiness; readonly elapsedMs: number }
  | { readonly ok: false; readonly readiness: Readiness; readonly elapsedMs: number; readonly message: string };

/**
 * Polls the group and SSM until `expected` machines are in service and Online, or the
 * timeout passes; on timeout the message names the machines that are not online.
 */
export async function waitForWorkers(
  clients: { readonly autoScaling: AutoScalingClient; readonly ssm: SSMClient },
  options: WaitForWorkersOptions,
): Promise<WaitForWorkersResult> {
  let lastLine = '';
  const result = await pollUntil<Readiness>({
    clock: options.clock,
    timeoutMs: options.timeoutMs,
    initialDelayMs: options.initialDelayMs ?? 5000,
    check: async () => {
      const r = readiness(options.expected, await describeWorkerMachines(clients, options.groupName));
      const line = readinessLine(r);
      if (line !== lastLine) options.onProgress?.(line);
      lastLine = line;
      return { done: r.ready, value: r };
    },
  });
  if (result.done) return { ok: true, readiness: result.value, elapsedMs: result.elapsedMs };
  const r = result.last;
  const notOnline = r.waiting.map((w) => `${w.instanceId} (${w.why})`);
  const parts = [];
  if (notOnline.length > 0) parts.push(`not online: ${notOnline.join(', ')}`);
  if (r.missing > 0) parts.push(`${r.missing} of ${r.expected} worker(s) not in service in group ${options.groupName}`);
  return {
    ok: false,
    readiness: r,
    elapsedMs: result.elapsedMs,
    message: `workers not ready after ${formatDuration(options.timeoutMs)}: ${parts.join('; ')}`,
  };
}
