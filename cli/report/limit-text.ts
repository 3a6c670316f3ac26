import type { Limit } from './limit';

/** The search's section of the text report: the outcome, then one row per step in the order run. */
export function limitText(l: Limit): string[] {
  const out: string[] = [];
  const at = (v: number | null) => (v === null ? '-' : `${v} ${l.unit}`);
  out.push(`breaking-point search: ${l.status.toUpperCase()} · sustained ${at(l.sustained)} · broke at ${at(l.brokeAt)}`);
  out.push(`  ${l.reason}`);
  const head = ['step', `offered (${l.unit})`, 'achieved/s', 'p50', 'p95', 'p99', 'errors', 'generator', 'verdict'];
  const ms = (v: number | null) => (v === null ? '-' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const rows = l.steps.map((s) => [
    `${s.step + 1}${s.refine ? 'r' : ''}`,
    String(s.offered),
    String(s.achieved),
    ms(s.p50),
    ms(s.p95),
    ms(s.p99),
    `${(s.errorRate * 100).toFixed(1)}%`,
    s.health.saturated ? `SATURATED (${s.health.saturatedWorkers.join(',')})` : `ok ${s.health.cpuMaxPct}%`,
    s.verdict + (s.broke.length > 0 && s.verdict === 'broke' ? `: ${s.broke.map((b) => `${b.metric} ${b.expression} (${b.actual ?? 'none'})`).join('; ')}` : ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === cells.length - 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  out.push(line(head), ...rows.map(line));
  out.push('  (latencies in ms over every operation metric; r: a bisecting step; whole-run thresholds below mix every step)');
  return out;
}
