import { bisect, type PlannedSearch } from '../../worker/plan/search';
import type { Limit, LimitStep } from '../report/limit';

/** What a search does after the steps judged so far: offer one more step, or end with its limit. */
export type Decision = { kind: 'next'; rate: number; refine: boolean } | { kind: 'done'; limit: Limit };

/**
 * The next move of a search, from the steps judged so far (in order). Pure.
 * - No step yet: the first rung of the ladder.
 * - The last step generator-limited: done, `generator-limited`, with the workers needed.
 * - Every step held: the next rung; past `to`: done, `to-sustained`.
 * - A step broke and none held: done, `first-step-broke`.
 * - Otherwise bisect between the highest rate that held and the lowest that broke, `refine`
 *   times at most (fewer when no rate lies between), then done, `limit-found`.
 */
export function decide(s: PlannedSearch, steps: readonly LimitStep[], workers: number): Decision {
  if (steps.length === 0) return { kind: 'next', rate: s.ladder[0], refine: false };
  const unit = s.model === 'closed' ? 'users' : 'arrivals/s';
  const show = (rate: number) => `${rate} ${unit}`;
  const done = (status: Limit['status'], sustained: number | null, brokeAt: number | null, reason: string, extra: Partial<Limit> = {}): Decision => ({
    kind: 'done',
    limit: { model: s.model, unit, status, sustained, brokeAt, reason, ...extra, steps: [...steps] },
  });
  const held = steps.filter((x) => x.verdict === 'held');
  const broken = steps.filter((x) => x.verdict === 'broke');
  const good = held.length > 0 ? Math.max(...held.map((x) => x.offered)) : null;
  const badSteps = broken.filter((x) => good === null || x.offered > good);
  const bad = badSteps.length > 0 ? Math.min(...badSteps.map((x) => x.offered)) : null;
  const last = steps[steps.length - 1];

  if (last.verdict === 'generator-limited') {
    const needed = workersNeeded(s, steps, workers);
    return done(
      'generator-limited',
      good,
      bad,
      `worker(s) ${last.health.saturatedWorkers.join(', ')} saturated at ${show(last.offered)} (CPU up to ${last.health.cpuMaxPct}%, event-loop lag up to ${last.health.loopLagMaxMs} ms): ` +
        `the generator, not the target, was the limit; about ${needed} worker(s) are needed to offer up to ${show(s.to)} (--workers ${needed})`,
      { workersNeeded: needed },
    );
  }
  if (bad === null) {
    const nextRung = s.ladder.find((r) => r > last.offered);
    if (nextRung === undefined) return done('to-sustained', good, null, `every step held up to ${show(s.to)} (the search's to): the limit is above it`);
    return { kind: 'next', rate: nextRung, refine: false };
  }
  const breach = badSteps.find((x) => x.offered === bad)!.broke[0];
  const why = breach ? `${breach.metric} ${breach.expression} (was ${breach.actual ?? 'not recorded'})` : 'a threshold';
  if (good === null) return done('first-step-broke', null, bad, `the first step, ${show(bad)}, already broke ${why}: start lower`);
  const refined = steps.filter((x) => x.refine).length;
  if (refined < s.refine) {
    const mid = bisect(s.model, good, bad);
    if (mid !== undefined) return { kind: 'next', rate: mid, refine: true };
  }
  return done('limit-found', good, bad, `held every threshold at ${show(good)}; at ${show(bad)} broke ${why}`);
}

/**
 * About how many workers offer `to` without saturating: `to` over what one worker offered
 * unsaturated (the highest unsaturated step, else what the saturated step achieved), rounded up.
 */
export function workersNeeded(s: PlannedSearch, steps: readonly LimitStep[], workers: number): number {
  const fine = steps.filter((x) => !x.health.saturated).map((x) => x.offered);
  const last = steps[steps.length - 1];
  const reached = fine.length > 0 ? Math.max(...fine) : s.model === 'open' ? last.arrivals : last.offered / 2;
  const perWorker = Math.max(reached, s.model === 'closed' ? 1 : 0.01) / Math.max(1, workers);
  return Math.max(workers + 1, Math.ceil(s.to / perWorker));
}
