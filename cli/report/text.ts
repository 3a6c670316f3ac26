import { formatDuration } from '../../worker/scenario/duration';
import { statusReasons } from './status';
import type { Report } from './types';
import { limitText } from './limit-text';

/** The report as a person reads it in a terminal. */
export function renderText(r: Report): string {
  const out: string[] = [];
  out.push(`loadfarm run ${r.runId} · scenario ${r.scenario} · target ${r.target}`);
  out.push(`${r.workers.length} worker(s), stagger ${formatDuration(r.staggerMs)}, seed ${r.seed}, ${formatDuration(r.durationS * 1000)}`);
  out.push('');

  const names = Object.keys(r.metrics);
  if (names.length > 0) {
    const rows = names.map((name) => {
      const m = r.metrics[name];
      return [
        name + (m.saturatedShare > 0 ? ' *' : ''),
        String(m.count),
        fmt(m.rate),
        fmt(m.min),
        fmt(m.mean),
        fmt(m.p50),
        fmt(m.p90),
        fmt(m.p95),
        fmt(m.p99),
        fmt(m.p999),
        fmt(m.max),
      ];
    });
    out.push(...table(['metric (ms)', 'count', 'rate/s', 'min', 'mean', 'p50', 'p90', 'p95', 'p99', 'p99.9', 'max'], rows));
    if (names.some((n) => r.metrics[n].saturatedShare > 0)) out.push('  * includes values measured while a generator was saturated (see warnings)');
    out.push('');
  }

  const pct = ` (${fmt(r.errorRate * 100)}% of ${r.requests} requests)`;
  const errorCodes = Object.entries(r.errors).sort((a, b) => b[1] - a[1]);
  const genCodes = Object.entries(r.generatorErrors).sort((a, b) => b[1] - a[1]);
  const errorTotal = errorCodes.reduce((s, [, n]) => s + n, 0) + genCodes.reduce((s, [, n]) => s + n, 0);
  out.push(`requests ${r.requests} · errors ${errorTotal}${errorTotal > 0 ? pct : ''} · sent ${bytes(r.bytes.sent)} · received ${bytes(r.bytes.received)}`);
  for (const [code, n] of errorCodes) out.push(`  ${code}: ${n}`);
  for (const [code, n] of genCodes) out.push(`  ${code}: ${n} (generator side)`);
  const users = [`users launched ${r.users.launched}`];
  if (r.arrivals.dropped) users.push(`dropped at the cap ${r.arrivals.dropped}`);
  if (r.users.cut) users.push(`cut at the grace deadline ${r.users.cut}`);
  out.push(users.join(' · '));
  const checks = Object.entries(r.checks);
  if (checks.length > 0) {
    const pass = checks.reduce((n, [, c]) => n + c.pass, 0);
    const all = checks.reduce((n, [, c]) => n + c.pass + c.fail, 0);
    out.push(`checks ${all} · passed ${pass} (${fmt((pass / all) * 100)}%)`);
    for (const [name, c] of checks) out.push(`  ${c.fail === 0 ? 'ok  ' : 'FAIL'} ${name}: ${c.pass} passed, ${c.fail} failed`);
  }
  const counters = Object.entries(r.counters).filter(([k]) => !k.startsWith('loadfarm.'));
  if (counters.length > 0) {
    out.push('counters:');
    for (const [k, v] of counters) out.push(`  ${k}: ${v}`);
  }
  out.push('');

  out.push(
    ...table(
      ['worker', 'state', 'users', 'requests', 'errors', 'cpu max (1 core = 100%)', 'lag max', 'rss max', 'ids'],
      r.workers.map((w) => [
        String(w.index),
        w.state + (w.health.saturated ? ' (saturated)' : ''),
        String(w.usersMax),
        String(w.requests),
        String(w.errors),
        `${w.health.cpuMaxPct}%`,
        `${w.health.loopLagMaxMs}ms`,
        `${w.health.rssMaxMb}MB`,
        `${w.identity.first}-${w.identity.last}`,
      ]),
    ),
  );

  if (r.limit) out.push('', ...limitText(r.limit));
  if (r.abortedBy) out.push('', `stopped by threshold ${r.abortedBy.metric}: ${r.abortedBy.expression} (was ${r.abortedBy.actual ?? 'not recorded'}) ${r.abortedBy.afterS} s into the run (abortOnFail)`);
  if (r.thresholds.length > 0) {
    out.push('');
    out.push('thresholds:');
    for (const t of r.thresholds) {
      const actual = t.actual === null ? '' : ` (actual ${fmt(t.actual)})`;
      out.push(`  ${t.ok ? 'ok  ' : 'FAIL'} ${t.metric}: ${t.expression}${actual}${t.message ? ` — ${t.message}` : ''}`);
    }
  }
  if (r.warnings.length > 0) {
    out.push('');
    out.push('warnings:');
    for (const w of r.warnings) out.push(`  ! ${w}`);
  }
  out.push('');
  out.push(statusLine(r));
  return out.join('\n');
}

/** The one line a person and CI read first: status, exit code, and what made it less than a clean pass. */
export function statusLine(r: Report): string {
  const why = statusReasons(r);
  return `status: ${r.status.toUpperCase()} (exit ${r.exitCode})${why.length > 0 ? ` · ${why.join(' · ')}` : ''}`;
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n === 0) return '0';
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

function table(head: string[], rows: string[][]): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(head), ...rows.map(line)];
}
