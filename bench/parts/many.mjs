// Many connections from one machine: `loadfarm hold -c 100000` over several workers and source
// addresses, against a target that can hold them (8 processes sharing one port). The figure is
// the target's own count of connections open at once; the tool's gauges are shown next to it.
import { startServer, log } from '../lib/proc.mjs';
import { runLoadfarm, cleanup } from '../lib/loadfarm.mjs';

export const title = 'Many connections from one machine: `loadfarm hold` with several workers and source addresses';

export async function run(ctx) {
  const n = ctx.quick ? 20_000 : 100_000;
  const workers = ctx.quick ? 2 : 6;
  // 12,500 connections per target process at 100k: under the 20,000 descriptors one process may hold.
  const server = await startServer(['node', 'bench/targets/tcp-server.mjs', '--processes', ctx.quick ? '2' : '8'], { timeoutMs: 30_000 });
  const target = `tcp://127.0.0.1:${server.port}`;
  const counts = targetCounts(server.child);
  const args = ['hold', target, '-c', String(n), '--workers', String(workers), '--source-ips', '127.0.0.2-127.0.0.20', '--delay', '2ms', '--hold', '10s', '--timeout', '20s', '--interval', '1s'];
  let res;
  try {
    log(`many: loadfarm ${args.join(' ')}`);
    res = await runLoadfarm(args, { timeoutMs: 300_000 });
    // The tool closed its connections as it ended: wait for the target to see them closed.
    await counts.until((c) => c.open === 0, 10_000);
  } finally {
    await server.stop();
  }
  const seen = counts.last;
  const rep = res.report;
  const counters = rep?.counters ?? {};
  const established = counters['hold.established'] ?? 0;
  const peak = openAtOnce(res.snapshots);
  const rss = res.snapshots.length ? Math.max(...res.snapshots.map((s) => s.health.rssMb)) : undefined;
  const errors = { ...(rep?.errors ?? {}), ...(rep?.generatorErrors ?? {}) };
  const dropped = counters['hold.dropped'] ?? 0;
  log(`many: target accepted ${seen.accepted}, peak ${seen.peak} open at once, ${seen.open} open after the run`);
  log(`many: loadfarm ${established} established, peak ${peak} open at once (its gauges), ${dropped} dropped, errors ${JSON.stringify(errors)}, status ${rep?.status}`);
  const out = {
    title,
    tools: {
      loadfarm: {
        targetAccepted: seen.accepted,
        targetPeakOpen: seen.peak,
        established,
        peakOpen: peak,
        dropped,
        workerRssMaxMb: rss,
        status: rep?.status ?? `exit ${res.code}`,
        runs: [{ established, error: rep ? undefined : res.stderr.slice(-400) }],
      },
    },
    toolColumns: [
      { key: 'targetAccepted', label: 'target: accepted', unit: '' },
      { key: 'targetPeakOpen', label: 'target: open at once (peak)', unit: '' },
      { key: 'established', label: 'loadfarm: established', unit: '' },
      { key: 'peakOpen', label: 'loadfarm: open at once (its gauges)', unit: '' },
      { key: 'dropped', label: 'dropped by peer', unit: '' },
      { key: 'workerRssMaxMb', label: 'largest worker RSS MB', unit: '' },
    ],
    method:
      `\`loadfarm ${args.join(' ').replace(target, 'tcp://127.0.0.1:PORT')}\`: ${workers} worker processes, each dialing its share one every 2 ms ` +
      `from 19 source addresses (127.0.0.2-20: 19 × 28,232 ephemeral ports), holding every connection 10 s. The target, ` +
      `\`bench/targets/tcp-server.mjs\`, runs as 8 processes sharing one port (node:cluster, round-robin), so that neither side needs more than ` +
      '20,000 descriptors in one process. The target counts its own sockets (accepted, open, most open at once across its processes, ' +
      'sampled every 100 ms): the figure is its count; loadfarm\'s own gauges are shown next to it.',
    notes: [`Status ${rep?.status ?? 'none'}; errors ${JSON.stringify(errors)}.`],
    rows: [
      {
        what: `connections held at once from one machine (${workers} workers, 19 source addresses)`,
        unit: '',
        better: 'higher',
        loadfarm: seen.peak,
        goal: 100_000,
        goalText: '≥ 100,000',
        extra: {
          'accepted by the target': seen.accepted,
          'loadfarm: established': established,
          'loadfarm: open at once (its gauges)': peak,
          'dropped by the target': dropped,
          'largest worker RSS (MB)': rss,
        },
      },
    ],
  };
  cleanup(res);
  return out;
}

/**
 * The target's `counts accepted=A open=O peak=P` lines (bench/targets/tcp-server.mjs) as they
 * come: `last` is the latest; `until(test, ms)` resolves once the latest passes `test`, or after
 * `ms` (then the bench goes on with what it has, and the figures say so).
 */
export function targetCounts(child) {
  const state = { last: { accepted: 0, open: 0, peak: 0 }, waiters: [] };
  let partial = '';
  child.stdout.on('data', (text) => {
    const lines = (partial + text).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const m = /^counts accepted=(\d+) open=(\d+) peak=(\d+)$/.exec(line);
      if (!m) continue;
      state.last = { accepted: Number(m[1]), open: Number(m[2]), peak: Number(m[3]) };
      state.waiters = state.waiters.filter((w) => !w());
    }
  });
  return {
    get last() {
      return state.last;
    },
    until(test, ms) {
      if (test(state.last)) return Promise.resolve();
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          log(`many: the target still counts ${state.last.open} open after ${ms} ms`);
          resolve();
        }, ms);
        state.waiters.push(() => {
          if (!test(state.last)) return false;
          clearTimeout(timer);
          resolve();
          return true;
        });
      });
    },
  };
}

/**
 * The most connections open at once across workers: at each snapshot's end, the sum over workers
 * of each worker's open connections as of its latest snapshot by then (a gauge read at that
 * worker's own interval end: a lower bound of what was open).
 */
export function openAtOnce(snaps) {
  const byWorker = new Map();
  for (const s of snaps) (byWorker.get(s.worker) ?? byWorker.set(s.worker, []).get(s.worker)).push(s);
  for (const list of byWorker.values()) list.sort((a, b) => a.end - b.end);
  let best = 0;
  for (const t of snaps.map((s) => s.end)) {
    let sum = 0;
    for (const list of byWorker.values()) {
      let g = 0;
      for (const s of list) {
        if (s.end > t) break;
        g = s.gauges.connections;
      }
      sum += g;
    }
    best = Math.max(best, sum);
  }
  return best;
}
