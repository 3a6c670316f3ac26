import { limitSection } from './limit-html';
import * as fs from 'node:fs';
import { formatDuration } from '../../worker/scenario/duration';
import type { TimelinePoint } from '../merge/merge';
import { CLIENT_JS } from './html/client';
import { REPORT_CSS } from './html/style';
import { statusReasons } from './status';
import { groupThousands } from './thousands';
import type { MetricStats, Report, RunStatus, WorkerReport } from './types';

/**
 * report.html: one self-contained page (no network to view it, enforced by its CSP). Tables are
 * rendered here; charts are drawn in the browser by uPlot, inlined with the report JSON.
 */

export interface HtmlAssets {
  /** uPlot's IIFE build (defines `uPlot`). */
  uplotJs: string;
  uplotCss: string;
}

let cachedAssets: HtmlAssets | undefined;

/** uPlot's files, read from its installed package (the CLI runs with node_modules beside it). */
export function uplotAssets(): HtmlAssets {
  cachedAssets ??= {
    uplotJs: fs.readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    uplotCss: fs.readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return cachedAssets;
}

export interface ChartHints {
  /** The snapshot interval in seconds, as seen in the timeline (smallest step between points). */
  intervalS: number;
  /**
   * Stretches [fromS, toS] (seconds from the run's start) where at least one generator was
   * saturated: each saturated point's interval, centred on the point, merged when they touch.
   */
  saturatedRanges: Array<[number, number]>;
  /** Workers saturated at any point of the timeline. */
  saturatedWorkers: number[];
}

export function chartHints(timeline: readonly TimelinePoint[]): ChartHints {
  let step = Infinity;
  for (let i = 1; i < timeline.length; i++) {
    const d = timeline[i].t - timeline[i - 1].t;
    if (d > 0) step = Math.min(step, d);
  }
  const intervalS = Number.isFinite(step) ? round3(step) : timeline[0]?.t > 0 ? round3(timeline[0].t) : 1;
  const ranges: Array<[number, number]> = [];
  const workers = new Set<number>();
  for (const p of timeline) {
    if (p.saturated.length === 0) continue;
    for (const w of p.saturated) workers.add(w);
    const from = round3(p.t - intervalS / 2);
    const to = round3(p.t + intervalS / 2);
    const last = ranges[ranges.length - 1];
    if (last && from <= last[1] + 1e-9) last[1] = Math.max(last[1], to);
    else ranges.push([from, to]);
  }
  return { intervalS, saturatedRanges: ranges, saturatedWorkers: [...workers].sort((a, b) => a - b) };
}

/** JSON safe inside a `<script>` element: no `</script>`, `<!--`, or U+2028/2029 can end or break it. */
export function embedJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Third-party text placed inside `<script>`/`<style>`: its closing tag, if any, cannot end the element. */
function inline(text: string, tag: 'script' | 'style'): string {
  return text.replace(new RegExp(`</(${tag})`, 'gi'), '<\\/$1');
}

const STATUS: Record<RunStatus, { tone: 'ok' | 'bad' | 'warn'; icon: string; label: string; meaning: string }> = {
  passed: { tone: 'ok', icon: '✓', label: 'PASSED', meaning: 'every worker finished and every threshold held' },
  'thresholds-failed': { tone: 'bad', icon: '✗', label: 'THRESHOLDS FAILED', meaning: 'at least one threshold was crossed' },
  incomplete: { tone: 'warn', icon: '!', label: 'INCOMPLETE', meaning: 'a worker was lost or the run was stopped' },
  failed: { tone: 'bad', icon: '✗', label: 'FAILED', meaning: 'the run produced no usable measurements' },
  running: { tone: 'warn', icon: '…', label: 'RUNNING', meaning: 'the run is still going: these are its numbers so far' },
};

/**
 * uPlot formats numbers with `navigator.language` when it loads; a browser started from a
 * `C.UTF-8` shell reports a tag Intl refuses (`en-US@posix`), which would leave the page without
 * charts. Such a tag is replaced by en-US before uPlot loads.
 */
const LOCALE_GUARD = `try{new Intl.NumberFormat(navigator.language)}catch(e){try{Object.defineProperty(Object.getPrototypeOf(navigator),'language',{get:function(){return 'en-US'},configurable:true})}catch(e2){}}`;

/** The whole page. `assets` defaults to the installed uPlot. */
export function renderHtml(r: Report, assets: HtmlAssets = uplotAssets()): string {
  const st = STATUS[r.status] ?? STATUS.failed;
  const hints = chartHints(r.timeline);
  const title = `${r.scenario} · ${st.label} · ${r.runId}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(`loadfarm · ${title}`)}</title>
<style>${inline(assets.uplotCss, 'style')}</style>
<style>${REPORT_CSS}</style>
</head>
<body>
<main class="page">
${header(r, st)}
${warnings(r)}
${kpis(r)}
${details(r)}
${thresholds(r)}
${metricsTable(r)}
${r.limit ? limitSection(r.limit) : ''}${r.abortedBy ? `<p class="note" id="aborted-by">Stopped ${r.abortedBy.afterS} s into the run by threshold ${escapeHtml(`${r.abortedBy.metric} ${r.abortedBy.expression}`)} (was ${r.abortedBy.actual ?? 'not recorded'}, abortOnFail).</p>` : ''}
${charts(r, hints)}
${errorsTable(r)}
${checksTable(r)}
${workersTable(r)}
${countersTable(r)}
<footer>loadfarm report of run <span class="mono">${escapeHtml(r.runId)}</span> · this file is self-contained: it needs no network</footer>
</main>
<script type="application/json" id="loadfarm-report">${embedJson(r)}</script>
<script>${LOCALE_GUARD}
${inline(assets.uplotJs, 'script')}</script>
<script>${inline(CLIENT_JS, 'script')}</script>
</body>
</html>
`;
}

function header(r: Report, st: (typeof STATUS)[RunStatus]): string {
  return `<header class="head">
  <div>
    <div class="eyebrow">loadfarm report</div>
    <h1>${escapeHtml(r.scenario)}</h1>
    <div class="sub">target <code>${escapeHtml(r.target)}</code> · run <code>${escapeHtml(r.runId)}</code></div>
  </div>
  <div class="badge ${st.tone}" data-status="${escapeHtml(r.status)}" title="${escapeHtml(st.meaning)}">
    <span class="icon">${st.icon}</span>
    <span>${st.label}<small>exit ${r.exitCode} · ${escapeHtml([st.meaning, ...statusReasons(r)].join(' · '))}</small></span>
  </div>
</header>`;
}

function warnings(r: Report): string {
  if (r.warnings.length === 0) return '';
  return `<section class="alert" data-warnings="${r.warnings.length}">
  <h3>⚠ ${r.warnings.length === 1 ? 'Warning' : `${r.warnings.length} warnings`}: some numbers are doubtful</h3>
  <ul>${r.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>
</section>`;
}

function kpis(r: Report): string {
  const errorTotal = sum(r.errors) + sum(r.generatorErrors);
  const saturated = r.workers.filter((w) => w.health.saturated).length;
  const okThresholds = r.thresholds.filter((t) => t.ok).length;
  /** `bad` colours the value (the number itself is bad); `flag` colours the detail (something about it is). */
  const card = (label: string, value: string, detail: string, o: { bad?: boolean; flag?: boolean } = {}) =>
    `<div class="kpi"><div class="label">${label}</div><div class="value${o.bad ? ' bad' : ''}">${value}</div><div class="detail${o.flag ? ' flag' : ''}">${detail}</div></div>`;
  const cards = [
    card('Requests', int(r.requests), `${num(r.durationS > 0 ? r.requests / r.durationS : 0)}/s on average`),
    card('Error rate', `${num(r.errorRate * 100)}%`, `${int(errorTotal)} error${errorTotal === 1 ? '' : 's'}`, { bad: errorTotal > 0 }),
    card('Duration', escapeHtml(formatDuration(r.durationS * 1000)), `from ${time(r.startedAt).slice(11)}`),
    card(
      'Users launched',
      int(r.users.launched),
      [r.arrivals.dropped > 0 ? `${int(r.arrivals.dropped)} dropped at the cap` : 'none dropped', ...(r.users.cut > 0 ? [`${int(r.users.cut)} cut`] : [])].join(' · '),
      { flag: r.arrivals.dropped > 0 || r.users.cut > 0 },
    ),
    card('Workers', String(r.workers.length), saturated > 0 ? `${saturated} saturated` : 'none saturated', { flag: saturated > 0 }),
    card('Data sent', bytes(r.bytes.sent), `${bytes(r.bytes.received)} received`),
  ];
  const checks = Object.values(r.checks);
  if (checks.length > 0) {
    const pass = checks.reduce((n, c) => n + c.pass, 0);
    const all = checks.reduce((n, c) => n + c.pass + c.fail, 0);
    cards.push(card('Checks passed', `${num((pass / all) * 100)}%`, `${int(all - pass)} of ${int(all)} failed`, { bad: pass < all }));
  }
  if (r.thresholds.length > 0) cards.push(card('Thresholds held', `${okThresholds} / ${r.thresholds.length}`, okThresholds < r.thresholds.length ? `${r.thresholds.length - okThresholds} crossed` : 'all held', { bad: okThresholds < r.thresholds.length }));
  return `<section class="kpis">${cards.join('')}</section>`;
}

function details(r: Report): string {
  const rows: Array<[string, string]> = [
    ['run', r.runId],
    ['scenario', r.scenario],
    ['target', r.target],
    ['workers', String(r.workers.length)],
    ['stagger', formatDuration(r.staggerMs)],
    ['seed', String(r.seed)],
    ['started', time(r.startedAt)],
    ['ended', time(r.endedAt)],
    ['status', `${r.status} (exit ${r.exitCode})`],
    ['users', `${r.users.launched} launched${r.users.cut > 0 ? `, ${r.users.cut} cut` : ''}`],
  ];
  return `<dl class="details">${rows.map(([k, v]) => `<div><dt>${k}</dt><dd title="${escapeHtml(v)}">${escapeHtml(v)}</dd></div>`).join('')}</dl>`;
}

function thresholds(r: Report): string {
  if (r.thresholds.length === 0) return `<h2>Thresholds</h2><div class="card empty">No thresholds: the run passes when every worker finishes.</div>`;
  const rows = r.thresholds
    .map(
      (t) => `<tr data-ok="${t.ok}">
  <td class="text">${t.ok ? '<span class="pill ok">PASS</span>' : '<span class="pill bad">FAIL</span>'}</td>
  <td class="text name">${escapeHtml(t.metric)}</td>
  <td class="text mono">${escapeHtml(t.expression)}</td>
  <td class="strong">${t.actual === null ? '–' : num(t.actual)}</td>
  <td class="text">${t.message ? escapeHtml(t.message) : ''}</td>
</tr>`,
    )
    .join('');
  return `<h2>Thresholds</h2>
<div class="card table-wrap"><table><thead><tr><th class="text">result</th><th class="text">metric</th><th class="text">rule</th><th>actual</th><th class="text"></th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function metricsTable(r: Report): string {
  const names = Object.keys(r.metrics);
  if (names.length === 0) return `<h2>Metrics</h2><div class="card empty">No latency was recorded.</div>`;
  const cells = (m: MetricStats) => [m.rate, m.min, m.mean, m.p50, m.p90, m.p95, m.p99, m.p999, m.max].map((v, i) => `<td${i === 6 ? ' class="strong"' : ''}>${num(v)}</td>`).join('');
  const rows = names
    .map((name) => {
      const m = r.metrics[name];
      const sat = m.saturatedShare > 0;
      const mark = sat
        ? `<span class="sat-mark" data-saturated-mark title="${pct(m.saturatedShare)} of these values were measured while a generator was saturated">⚠</span>`
        : '';
      return `<tr${sat ? ` class="saturated" data-saturated="${m.saturatedShare}"` : ''}><td class="name">${escapeHtml(name)}${mark}</td><td>${int(m.count)}</td>${cells(m)}</tr>`;
    })
    .join('');
  const spoiled = names.some((n) => r.metrics[n].saturatedShare > 0);
  return `<h2>Metrics <span class="hint">latency in ms · percentiles from HDR histograms merged across workers</span></h2>
<div class="card table-wrap"><table><thead><tr><th class="text">metric</th><th>count</th><th>rate/s</th><th>min</th><th>mean</th><th>p50</th><th>p90</th><th>p95</th><th>p99</th><th>p99.9</th><th>max</th></tr></thead>
<tbody>${rows}</tbody></table></div>
${spoiled ? '<p class="note"><span class="sat-mark">⚠</span> includes values measured while a load generator was saturated: those latencies are inflated (see the warnings and the shaded stretches of the charts).</p>' : ''}`;
}

function charts(r: Report, h: ChartHints): string {
  const saturated = h.saturatedRanges.length > 0;
  const intervals = r.timeline.filter((p) => p.saturated.length > 0).length;
  const legend = saturated
    ? `<p class="legend-line" data-saturation-legend><span class="swatch"></span><span><strong>Shaded:</strong> a load generator was saturated (worker${h.saturatedWorkers.length > 1 ? 's' : ''} ${h.saturatedWorkers.join(', ')}, ${intervals} of ${r.timeline.length} intervals). Latencies measured there are inflated: the generator, not the target, was the bottleneck.</span></p>`
    : '';
  return `<section id="charts" data-interval-s="${h.intervalS}" data-saturated-ranges="${escapeHtml(JSON.stringify(h.saturatedRanges))}" data-saturated="${saturated}">
<h2>Over time <span class="hint">per ${escapeHtml(formatDuration(h.intervalS * 1000))} interval · drag to zoom, double-click to reset</span></h2>
${legend}
<h2 class="group">Latency per metric</h2>
<div class="charts" id="charts-latency"></div>
<h2 class="group">Load and errors</h2>
<div class="charts" id="charts-load"></div>
<h2 class="group">Generator health</h2>
<div class="charts" id="charts-health"></div>
<noscript><p class="note">The charts need JavaScript; the tables above and below do not.</p></noscript>
</section>`;
}

function errorsTable(r: Report): string {
  const rows = [
    ...Object.entries(r.errors).map(([code, n]) => ({ code, n, side: 'target' })),
    ...Object.entries(r.generatorErrors).map(([code, n]) => ({ code, n, side: 'generator' })),
  ].sort((a, b) => b.n - a.n);
  if (rows.length === 0) return `<h2>Errors by code</h2><div class="card empty">No errors.</div>`;
  const body = rows
    .map(
      (e) =>
        `<tr><td class="name">${escapeHtml(e.code)}</td><td class="text"><span class="pill ${e.side === 'target' ? 'bad' : 'warn'}">${e.side}</span></td><td class="strong">${int(e.n)}</td><td>${r.requests > 0 ? `${num((e.n / r.requests) * 100)}%` : '–'}</td></tr>`,
    )
    .join('');
  return `<h2>Errors by code <span class="hint">target side: the service failed · generator side: the farm ran out</span></h2>
<div class="card table-wrap"><table><thead><tr><th class="text">code</th><th class="text">side</th><th>count</th><th>of requests</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

function checksTable(r: Report): string {
  const rows = Object.entries(r.checks);
  if (rows.length === 0) return '';
  const body = rows
    .map(
      ([name, c]) =>
        `<tr data-check="${escapeHtml(name)}"><td class="text">${c.fail === 0 ? '<span class="pill ok">PASS</span>' : '<span class="pill bad">FAIL</span>'}</td><td class="text name">${escapeHtml(name)}</td><td>${int(c.pass)}</td><td class="strong">${int(c.fail)}</td><td>${num((c.pass / Math.max(1, c.pass + c.fail)) * 100)}%</td></tr>`,
    )
    .join('');
  return `<h2>Checks <span class="hint">u.check: counted apart from requests and errors</span></h2>
<div class="card table-wrap"><table><thead><tr><th class="text">result</th><th class="text">check</th><th>passed</th><th>failed</th><th>pass rate</th></tr></thead><tbody>${body}</tbody></table></div>`;
}

function workersTable(r: Report): string {
  const tone = (w: WorkerReport) => (w.state === 'done' ? 'ok' : w.state === 'lost' || w.state === 'failed' ? 'bad' : 'warn');
  const rows = r.workers
    .map((w) => {
      const h = w.health;
      const sat = h.saturated ? `<span class="pill warn" data-saturated-worker="${w.index}">${h.saturatedIntervals} / ${w.snapshots}</span>` : `<span class="pill muted">0 / ${w.snapshots}</span>`;
      return `<tr${h.saturated ? ' class="saturated"' : ''}>
  <td class="strong">${w.index}</td>
  <td class="text"><span class="pill ${tone(w)}">${escapeHtml(w.state)}</span></td>
  <td class="text mono">${w.identity.first}–${w.identity.last}</td>
  <td>${int(w.requests)}</td><td>${int(w.errors)}</td><td>${int(w.usersMax)}</td><td>${int(w.connectionsMax)}</td>
  <td>${num(h.cpuMaxPct)}%</td><td>${num(h.loopLagMaxMs)} ms</td><td>${num(h.rssMaxMb)} MB</td><td>${sat}</td>
  <td class="text">${w.message ? escapeHtml(w.message) : ''}</td>
</tr>`;
    })
    .join('');
  return `<h2>Workers <span class="hint">seeds and user identities are per worker; health is the worst of any interval</span></h2>
<div class="card table-wrap"><table><thead><tr><th>worker</th><th class="text">state</th><th class="text">user ids</th><th>requests</th><th>errors</th><th>users max</th><th>conns max</th><th>CPU max</th><th>loop lag max</th><th>RSS max</th><th>saturated</th><th class="text"></th></tr></thead>
<tbody>${rows}</tbody></table></div>`;
}

function countersTable(r: Report): string {
  const entries = Object.entries(r.counters).filter(([k]) => !k.startsWith('loadfarm.'));
  if (entries.length === 0) return '';
  const rows = entries.map(([k, v]) => `<tr><td class="name">${escapeHtml(k)}</td><td>${int(v)}</td></tr>`).join('');
  return `<h2>Counters and checks</h2>
<div class="card table-wrap"><table><thead><tr><th class="text">name</th><th>count</th></tr></thead><tbody>${rows}</tbody></table></div>`;
}

function num(n: number): string {
  if (!Number.isFinite(n)) return '–';
  if (n === 0) return '0';
  const a = Math.abs(n);
  if (a >= 1000) return int(n);
  if (a >= 100) return n.toFixed(0);
  if (a >= 10) return n.toFixed(1);
  return n.toFixed(2);
}

function int(n: number): string {
  return groupThousands(Math.round(n));
}

function pct(share: number): string {
  return `${+(share * 100).toFixed(1)}%`;
}

function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1048576) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1073741824) return `${(n / 1048576).toFixed(1)} MiB`;
  return `${(n / 1073741824).toFixed(2)} GiB`;
}

function time(epochMs: number): string {
  return `${new Date(epochMs).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

function sum(values: Record<string, number>): number {
  return Object.values(values).reduce((s, v) => s + v, 0);
}

function round3(n: number): number {
  return Math.round(n * 1000) / 1000;
}
