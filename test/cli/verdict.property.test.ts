import * as fc from 'fast-check';
import { createHttpDispatcher } from '../../worker/protocols/http-dispatcher';
import { Engine } from '../../worker/engine/engine';
import { Recorder } from '../../worker/metrics/recorder';
import { splitLoad } from '../../worker/plan/split';
import { defineScenario } from '../../worker/scenario/define';
import { mergeSnapshots } from '../../cli/merge/merge';
import { buildReport } from '../../cli/report/build';
import { makePlan } from '../../cli/plan';
import type { Runtime } from '../../worker/engine/scope';
import type { User } from '../../worker/scenario/types';
import { startHttpServer, type HttpServer } from '../helpers/servers';

/**
 * Property: whatever mix of statuses, resets, timeouts and checks a run meets, the report's
 * requests, errors by code and error rate equal what the server itself observed, and a run in
 * which every operation failed can never pass an `errors` threshold.
 */
type Outcome = 200 | 404 | 503 | 'reset' | 'stall';
const OUTCOMES: Outcome[] = [200, 404, 503, 'reset', 'stall'];

let server: HttpServer;
const seen = { requests: 0, 404: 0, 503: 0, reset: 0, stall: 0 };
beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    seen.requests++;
    const outcome = req.url!.split('/')[2];
    if (outcome === 'reset') {
      seen.reset++;
      return req.socket.destroy();
    }
    if (outcome === 'stall') {
      seen.stall++;
      return; // never answered: the client's timeout fires
    }
    if (outcome === '404' || outcome === '503') seen[outcome]++;
    res.statusCode = Number(outcome);
    res.end('x');
  });
});
afterAll(() => server.close());

async function runMix(mix: { outcome: Outcome; check: boolean }[], errorsRate: string) {
  const scenario = defineScenario({
    name: 'mix',
    load: { phases: [{ duration: '200ms', arrivalRate: mix.length * 5 }] },
    thresholds: { errors: [errorsRate] },
    grace: '3s',
    async user(u: User) {
      const step = mix[u.id];
      // Only the stall is meant to time out: everything else gets time to spare on a busy machine.
      await u.http.get(`/o/${step.outcome}/${u.id}`, { timeout: step.outcome === 'stall' ? '150ms' : '20s' });
      u.check('planned', step.check);
    },
  });
  const plan = makePlan({ runId: 'prop', scenario, scenarioFile: 'mix.ts', target: server.url, workers: 1, staggerMs: 0, seed: 1, intervalMs: 1000 });
  const recorder = new Recorder(0);
  const cut = new AbortController();
  const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder, keepAliveTimeoutMs: 1000 });
  const runtime: Runtime = { worker: 0, target: server.url, recorder, signal: cut.signal, dispatcher, params: {}, timeoutMs: 1000, sourceAddress: () => undefined };
  const engine = new Engine({ scenario, share: splitLoad(scenario.load, 1)[0].load, identity: { first: 0, count: mix.length }, seed: 1, runtime, graceMs: 3000, cut: () => cut.abort() });
  await engine.run();
  await dispatcher.close();
  const health = { cpuPct: 0, loopLagP99Ms: 0, loopLagMaxMs: 0, rssMb: 0, saturated: false };
  const snapshot = recorder.cut(health, true);
  const statuses = new Map([[0, { index: 0, state: 'done' as const, host: 'h', pid: 1, startedAt: snapshot.start, completed: true }]]);
  return buildReport({ plan, merged: mergeSnapshots([snapshot], 1000), statuses });
}

it('report.requests, errors by code and errorRate equal what the server observed', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.record({ outcome: fc.constantFrom(...OUTCOMES), check: fc.boolean() }), { minLength: 1, maxLength: 12 }), async (mix) => {
      const before = { ...seen };
      const r = await runMix(mix, 'rate < 0.5');
      const d = (k: keyof typeof seen) => seen[k] - before[k];
      expect(mix.length).toBe(d('requests'));
      expect(r.requests).toBe(d('requests'));
      expect(r.errors['HTTP 404'] ?? 0).toBe(d(404));
      expect(r.errors['HTTP 503'] ?? 0).toBe(d(503));
      expect(r.errors.ETIMEDOUT ?? 0).toBe(d('stall'));
      const failed = d(404) + d(503) + d('reset') + d('stall');
      const total = Object.values(r.errors).reduce((a, b) => a + b, 0) + Object.values(r.generatorErrors).reduce((a, b) => a + b, 0);
      expect(total).toBe(failed);
      expect(r.errorRate).toBeCloseTo(failed / d('requests'), 12);
      // A reset or a timeout ends the journey before its check; a status is returned, then checked.
      const checked = mix.filter((m) => typeof m.outcome === 'number');
      const pass = checked.filter((m) => m.check).length;
      expect(r.checks).toEqual(checked.length === 0 ? {} : { planned: { pass, fail: checked.length - pass } });
      const threshold = r.thresholds.find((t) => t.metric === 'errors')!;
      expect(threshold.ok).toBe(failed / d('requests') < 0.5);
      expect(r.status).toBe(threshold.ok ? 'passed' : 'thresholds-failed');
    }),
    { numRuns: 12 },
  );
});

it('a run in which every operation failed never passes an errors threshold, whatever the checks say', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ outcome: fc.constantFrom<Outcome>(404, 503, 'reset'), check: fc.constant(true) }), { minLength: 1, maxLength: 8 }),
      fc.constantFrom('rate < 0.99', 'rate <= 0.999', 'count < 1'),
      async (mix, expression) => {
        const r = await runMix(mix, expression);
        expect(r.errorRate).toBe(1);
        expect(r.status).toBe('thresholds-failed');
        expect(r.exitCode).toBe(99);
      },
    ),
    { numRuns: 8 },
  );
});
