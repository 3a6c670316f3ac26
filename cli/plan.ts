import { randomBytes } from 'node:crypto';
import { parseDuration } from '../worker/scenario/duration';
import { splitLoad, loadDurationMs } from '../worker/plan/split';
import type { Plan } from '../worker/plan/plan';
import type { Scenario, ThresholdSpec } from '../worker/scenario/types';
import type { PlannedData } from '../worker/data/types';
import { planSearch } from '../worker/plan/search';

export interface PlanInput {
  runId: string;
  scenario: Scenario;
  scenarioFile: string;
  target: string;
  workers: number;
  staggerMs: number;
  seed: number;
  intervalMs: number;
  /** Rolling reports' period from `--every` (wins over the scenario's `reportEvery`), ms. */
  reportEveryMs?: number;
  /** Thresholds from the command line, added to the scenario's. */
  thresholds?: Record<string, string[]>;
  sourceIps?: string[];
  params?: Record<string, string>;
  rawEvents?: boolean;
  /** First user number of the farm. @default 0 */
  idBase?: number;
  /** The scenario's data sets (cli/data/prepare.ts plannedData). @default none */
  data?: Record<string, PlannedData>;
  now?: number;
}

/** Slack after load and grace before a worker is stopped hard: time to cut users and write. */
export const HARD_STOP_SLACK_MS = 30_000;

/** Builds the plan every worker follows. Pure: the same input gives the same plan. */
export function makePlan(input: PlanInput): Plan {
  const s = input.scenario;
  const shares = splitLoad(s.load, input.workers);
  const stride = Math.max(1, ...shares.map((w) => w.identities));
  const base = input.idBase ?? 0;
  const graceMs = s.grace === undefined ? 10_000 : parseDuration(s.grace) ?? 10_000;
  const reportEveryMs = input.reportEveryMs ?? (s.reportEvery === undefined ? undefined : parseDuration(s.reportEvery));
  const staggerSpanMs = (input.workers - 1) * input.staggerMs;
  // A search's load runs from the first worker's start; its steps wait for the last worker.
  const loadMs = loadDurationMs(s.load) + ('find' in s.load ? staggerSpanMs : 0);
  const thresholds: Record<string, string[]> = {};
  const abortOnFail: NonNullable<Plan['abortOnFail']> = [];
  for (const [metric, specs] of Object.entries(s.thresholds ?? {})) {
    thresholds[metric] = ([] as ThresholdSpec[]).concat(specs).map((t) => (typeof t === 'string' ? t : t.expr));
    for (const t of ([] as ThresholdSpec[]).concat(specs)) {
      if (typeof t !== 'string' && t.abortOnFail) abortOnFail.push({ metric, expression: t.expr, delayMs: parseDuration(t.delayAbortEval ?? 0) ?? 0 });
    }
  }
  for (const [metric, exprs] of Object.entries(input.thresholds ?? {})) (thresholds[metric] ??= []).push(...exprs);
  return {
    v: 1,
    runId: input.runId,
    createdAt: input.now ?? Date.now(),
    scenario: { name: s.name, file: input.scenarioFile },
    target: input.target,
    seed: input.seed,
    staggerMs: input.staggerMs,
    intervalMs: input.intervalMs,
    graceMs,
    ...(reportEveryMs !== undefined ? { reportEveryMs } : {}),
    loadMs,
    hardStopMs: loadMs + graceMs + HARD_STOP_SLACK_MS,
    timeoutMs: parseDuration(s.http?.timeout) ?? 30_000,
    identities: { base, stride },
    sourceIps: input.sourceIps ?? [],
    thresholds,
    params: input.params ?? {},
    rawEvents: input.rawEvents ?? false,
    httpConnections: s.http?.connections ?? null,
    workers: shares.map((share, index) => ({
      index,
      startOffsetMs: index * input.staggerMs,
      seed: (input.seed + index) >>> 0,
      identity: { first: base + index * stride, count: share.identities },
      load: share.load,
    })),
    ...(input.data ? { data: input.data } : {}),
    ...('find' in s.load ? { search: planSearch(s.load.find, staggerSpanMs) } : {}),
    ...(abortOnFail.length > 0 ? { abortOnFail } : {}),
  };
}

/** A run id that sorts by time and names the scenario: 20261123-181400-devices-a1b2. */
export function newRunId(scenarioName: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const slug = scenarioName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 24) || 'run';
  return `${stamp}-${slug}-${randomBytes(2).toString('hex')}`;
}

export function randomSeed(): number {
  return randomBytes(4).readUInt32BE(0);
}
