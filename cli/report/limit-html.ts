import type { Limit } from './limit';

/** Escapes text for HTML (the same rules as html.ts escapeHtml). */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * The search's section of the HTML report: the outcome, a chart of p50/p95/p99 (ms, left) and
 * achieved throughput (ops/s, right) against the offered rate with the knee marked (a band from
 * `sustained` to `brokeAt`), and the per-step table (readable without JavaScript). The chart is
 * drawn with the report's inlined uPlot once the page has loaded.
 */
export function limitSection(l: Limit): string {
  const steps = [...l.steps].sort((a, b) => a.offered - b.offered);
  const rows = l.steps
    .map(
      (s) => `<tr class="${s.verdict}"><td>${s.step + 1}${s.refine ? ' (refine)' : ''}</td><td>${s.offered}</td><td>${s.achieved}</td><td>${s.p50 ?? '–'}</td><td>${s.p95 ?? '–'}</td><td>${s.p99 ?? '–'}</td><td>${(s.errorRate * 100).toFixed(1)}%</td><td>${s.health.saturated ? `saturated (${s.health.saturatedWorkers.join(', ')})` : `ok · CPU ${s.health.cpuMaxPct}%`}</td><td>${esc(s.verdict)}${s.broke.length > 0 ? `: ${esc(s.broke.map((b) => `${b.metric} ${b.expression} (${b.actual ?? 'none'})`).join('; '))}` : ''}</td></tr>`,
    )
    .join('\n');
  const data = JSON.stringify({
    x: steps.map((s) => s.offered),
    p50: steps.map((s) => s.p50),
    p95: steps.map((s) => s.p95),
    p99: steps.map((s) => s.p99),
    achieved: steps.map((s) => s.achieved),
    sustained: l.sustained,
    brokeAt: l.brokeAt,
    unit: l.unit,
  }).replace(/</g, '\\u003c');
  const show = (v: number | null) => (v === null ? '–' : `${v} ${l.unit}`);
  return `<section id="limit" data-status="${esc(l.status)}" data-sustained="${l.sustained ?? ''}" data-broke-at="${l.brokeAt ?? ''}">
<h2>Breaking point <span class="hint">${esc(l.status)}</span></h2>
<p><strong>sustained ${esc(show(l.sustained))}</strong> · broke at ${esc(show(l.brokeAt))} — ${esc(l.reason)}</p>
<div class="charts"><div class="chart" id="limit-chart" data-chart="limit"></div></div>
<table class="steps"><thead><tr><th>step</th><th>offered (${esc(l.unit)})</th><th>achieved ops/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th><th>generator</th><th>verdict</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<script type="application/json" id="loadfarm-limit">${data}</script>
<script>
document.addEventListener('DOMContentLoaded', function () {
  var d = JSON.parse(document.getElementById('loadfarm-limit').textContent);
  var el = document.getElementById('limit-chart');
  if (typeof uPlot === 'undefined' || d.x.length === 0) return;
  function knee(u) {
    if (d.sustained == null) return;
    var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
    var x0 = u.valToPos(d.sustained, 'x', true);
    var x1 = d.brokeAt == null ? x0 + 2 : u.valToPos(d.brokeAt, 'x', true);
    ctx.save();
    ctx.fillStyle = 'rgba(220, 38, 38, 0.12)';
    ctx.fillRect(x0, top, Math.max(2, x1 - x0), h);
    ctx.restore();
  }
  new uPlot({
    width: Math.max(320, el.clientWidth), height: 260,
    scales: { x: { time: false }, ops: {} },
    series: [
      { label: 'offered (' + d.unit + ')' },
      { label: 'p50 ms', stroke: '#2563eb', points: { size: 5 } },
      { label: 'p95 ms', stroke: '#7c3aed', points: { size: 5 } },
      { label: 'p99 ms', stroke: '#dc2626', width: 2, points: { size: 5 } },
      { label: 'achieved ops/s', stroke: '#0d9488', scale: 'ops', dash: [6, 4], points: { size: 5 } },
    ],
    axes: [{}, { label: 'ms' }, { scale: 'ops', side: 1, grid: { show: false }, label: 'ops/s' }],
    hooks: { draw: [knee] },
  }, [d.x, d.p50, d.p95, d.p99, d.achieved], el);
  el.setAttribute('data-knee', d.sustained == null ? '' : String(d.sustained));
});
</script>
</section>`;
}
