import * as fc from 'fast-check';
import { Recorder } from '../../worker/metrics/recorder';
import { RollupBuilder, isRollup, type Rollup } from '../../worker/metrics/rollup';
import { mergeSnapshots } from '../../cli/merge/merge';
import { selectCover } from '../../cli/merge/cover';
import type { Health, Snapshot } from '../../worker/metrics/snapshot';

const calm: Health = { cpuPct: 5, loopLagP99Ms: 0, loopLagMaxMs: 1, rssMb: 40, saturated: false };
const busy: Health = { cpuPct: 97, loopLagP99Ms: 90, loopLagMaxMs: 200, rssMb: 45, saturated: true };

interface Interval {
  latencies: number[];
  errors: number;
  checks: boolean[];
  saturated: boolean;
}

/** One worker's snapshots and roll-ups, recording `intervals` at `intervalMs`. */
function record(worker: number, intervals: Interval[], intervalMs: number, killedAfter = intervals.length) {
  const t0 = 1_700_000_000_000;
  const builder = new RollupBuilder(intervalMs);
  const r = new Recorder(worker, t0, builder);
  const snapshots: Snapshot[] = [];
  const rollups: Rollup[] = [];
  intervals.slice(0, killedAfter).forEach((iv, k) => {
    for (const ms of iv.latencies) {
      r.latency(ms < 50 ? 'http.GET /a' : 'ws.echo', ms);
      r.op();
    }
    for (let e = 0; e < iv.errors; e++) {
      r.op();
      r.error(e % 2 ? 'ECONNRESET' : 'HTTP 503');
    }
    iv.checks.forEach((ok) => r.check('ok', ok));
    r.count('ticks', 1);
    if (k === 0) r.userStarted();
    snapshots.push(r.cut(iv.saturated ? busy : calm, k === intervals.length - 1, t0 + (k + 1) * intervalMs));
    rollups.push(...builder.take());
  });
  return { snapshots, rollups };
}

const interval = fc.record({
  latencies: fc.array(fc.double({ min: 0.01, max: 5000, noNaN: true }), { maxLength: 6 }),
  errors: fc.nat(3),
  checks: fc.array(fc.boolean(), { maxLength: 3 }),
  saturated: fc.boolean(),
});

function essentials(m: ReturnType<typeof mergeSnapshots>) {
  const metrics: Record<string, number[]> = {};
  for (const [name, h] of m.metrics) metrics[name] = [h.totalCount, h.minNonZeroValue, h.maxValue, ...[50, 90, 99, 99.9].map((p) => h.getValueAtPercentile(p))];
  const workers = [...m.workers.entries()].sort((a, b) => a[0] - b[0]).map(([i, w]) => [i, w.snapshots, w.ops, w.errors, w.saturatedIntervals, w.final, w.first, w.last]);
  return { metrics, saturated: Object.fromEntries(m.saturatedCounts), counters: m.counters, errors: m.errors, checks: m.checks, ops: m.ops, users: m.users, workers, start: m.start, end: m.end };
}

it('the merge of roll-ups plus uncovered snapshots equals the merge of every raw snapshot, exactly', () => {
  fc.assert(
    fc.property(
      fc.array(fc.array(interval, { minLength: 1, maxLength: 150 }), { minLength: 1, maxLength: 3 }),
      fc.constantFrom(30_000, 20_000, 60_000),
      fc.option(fc.nat(150), { nil: undefined }),
      (workers, intervalMs, killAt) => {
        const all = workers.map((ivs, i) => record(i, ivs, intervalMs, i === 0 && killAt !== undefined ? Math.max(1, killAt) : ivs.length));
        const raw = all.flatMap((w) => w.snapshots);
        const { chosen, conflicts } = selectCover(all.flatMap((w) => [...w.snapshots, ...w.rollups]));
        expect(conflicts).toEqual([]);
        // Every interval exactly once.
        const covered = chosen.flatMap((s) => (isRollup(s) ? Array.from({ length: s.rollup.seqTo - s.rollup.seqFrom + 1 }, (_, k) => `${s.worker}:${s.rollup.seqFrom + k}`) : [`${s.worker}:${s.seq}`]));
        expect(covered.sort()).toEqual(raw.map((s) => `${s.worker}:${s.seq}`).sort());
        expect(essentials(mergeSnapshots(chosen, intervalMs))).toEqual(essentials(mergeSnapshots(raw, intervalMs)));
      },
    ),
    { numRuns: 60 },
  );
});

it('an hour at 30 s intervals: 1m roll-ups of 2 snapshots, a 1h roll-up of 60 of them, read as one object', () => {
  const ivs = Array.from({ length: 121 }, () => ({ latencies: [1, 2], errors: 0, checks: [], saturated: false }));
  const { snapshots, rollups } = record(0, ivs, 30_000);
  expect(rollups.filter((r) => r.rollup.level === '1m')).toHaveLength(60);
  expect(rollups.filter((r) => r.rollup.level === '1h').map((r) => [r.rollup.seqFrom, r.rollup.seqTo])).toEqual([[0, 119]]);
  const { chosen } = selectCover([...snapshots, ...rollups]);
  expect(chosen).toHaveLength(2); // the hour and the last snapshot
});

it('a roll-up that overlaps another in part is left out and named', () => {
  const ivs = Array.from({ length: 4 }, () => ({ latencies: [1], errors: 0, checks: [], saturated: false }));
  const { snapshots, rollups } = record(0, ivs, 30_000);
  const forged: Rollup = { ...rollups[0], rollup: { ...rollups[0].rollup, seqFrom: 1, seqTo: 2 } };
  const { conflicts } = selectCover([...snapshots, ...rollups, forged]);
  expect(conflicts).toEqual([{ worker: 0, seqFrom: 1, seqTo: 2, reason: 'overlaps snapshots 0-1 in part' }]);
});
