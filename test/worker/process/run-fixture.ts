import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Plan } from '../../../worker/plan/plan';
import { layout } from '../../../worker/store/layout';

export interface ClosedRunOptions {
  /** The scenario module's source: CommonJS, `require('loadfarm')` available. */
  scenario: string;
  users: number;
  loadMs: number;
  /** @default 1000 */
  graceMs?: number;
  /** @default loadMs + graceMs + 5000 */
  hardStopMs?: number;
  /** @default 1000 */
  intervalMs?: number;
  /** @default 'http://127.0.0.1:1' */
  target?: string;
}

/**
 * Writes a one-worker closed-model run (plan.json and scenario.js) into a file store folder, as
 * the CLI would, so that a test can start `dist/worker.js` on it directly. Returns the run id.
 */
export function writeClosedRun(storeDir: string, runId: string, o: ClosedRunOptions): string {
  const graceMs = o.graceMs ?? 1000;
  const plan: Plan = {
    v: 1,
    runId,
    createdAt: Date.now(),
    scenario: { name: 'fixture', file: path.join(storeDir, 'scenario.js') },
    target: o.target ?? 'http://127.0.0.1:1',
    seed: 1,
    staggerMs: 0,
    intervalMs: o.intervalMs ?? 1000,
    graceMs,
    loadMs: o.loadMs,
    hardStopMs: o.hardStopMs ?? o.loadMs + graceMs + 5000,
    timeoutMs: 5000,
    identities: { base: 0, stride: 1_000_000 },
    sourceIps: [],
    thresholds: {},
    rawEvents: false,
    params: {},
    httpConnections: null,
    workers: [{ index: 0, startOffsetMs: 0, seed: 1, identity: { first: 0, count: o.users }, load: { model: 'closed', users: o.users, durationMs: o.loadMs, rampUpMs: 0 } }],
  };
  const put = (key: string, body: string) => {
    const file = path.join(storeDir, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
  };
  put(layout.plan(runId), JSON.stringify(plan));
  put(layout.scenario(runId), o.scenario);
  return runId;
}
