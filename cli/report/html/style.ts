/** The report page's own styles (uPlot's come from its package). No web fonts: system stacks only. */
export const REPORT_CSS = `
:root {
  --ink: #0f172a; --ink-2: #334155; --muted: #64748b; --line: #e2e8f0; --line-2: #f1f5f9;
  --bg: #f6f7f9; --card: #ffffff;
  --ok: #15803d; --ok-bg: #dcfce7; --bad: #b91c1c; --bad-bg: #fee2e2; --warn: #b45309; --warn-bg: #fef3c7;
  --sat: rgba(245, 158, 11, 0.18); --sat-edge: #f59e0b;
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
}
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--ink);
  font: 14px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
}
.page { max-width: 1240px; margin: 0 auto; padding: 28px 28px 64px; }
h1, h2, h3 { margin: 0; line-height: 1.2; }
h2 { font-size: 17px; font-weight: 650; margin: 36px 0 12px; display: flex; align-items: baseline; gap: 10px; }
h2 .hint { font-size: 13px; font-weight: 400; color: var(--muted); }
code, .mono { font-family: var(--mono); font-size: 0.92em; }
.num { font-variant-numeric: tabular-nums; }

.head { display: flex; justify-content: space-between; align-items: flex-start; gap: 24px; }
.eyebrow { text-transform: uppercase; letter-spacing: 0.08em; font-size: 11px; font-weight: 650; color: var(--muted); }
.head h1 { font-size: 30px; font-weight: 700; margin: 4px 0 6px; word-break: break-word; }
.head .sub { color: var(--ink-2); font-size: 13px; }
.head .sub code { background: var(--line-2); padding: 1px 6px; border-radius: 4px; }

.badge {
  display: inline-flex; align-items: center; gap: 12px; padding: 14px 22px; border-radius: 12px;
  font-size: 24px; font-weight: 800; letter-spacing: 0.03em; white-space: nowrap; border: 2px solid;
}
.badge .icon { font-size: 26px; line-height: 1; }
.badge small { display: block; font-size: 12px; font-weight: 500; letter-spacing: 0; opacity: 0.85; }
.badge.ok { color: var(--ok); background: var(--ok-bg); border-color: #86efac; }
.badge.bad { color: var(--bad); background: var(--bad-bg); border-color: #fca5a5; }
.badge.warn { color: var(--warn); background: var(--warn-bg); border-color: #fcd34d; }

.alert { margin-top: 22px; border: 1px solid #fcd34d; background: #fffbeb; border-radius: 10px; padding: 12px 16px; }
.alert h3 { font-size: 14px; color: var(--warn); margin-bottom: 6px; }
.alert ul { margin: 0; padding-left: 20px; color: #78350f; }
.alert li + li { margin-top: 3px; }

.kpis { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 12px; margin-top: 22px; }
.kpi { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 12px 14px; }
.kpi .label { font-size: 12px; color: var(--muted); }
.kpi .value { font-size: 22px; font-weight: 700; margin-top: 2px; font-variant-numeric: tabular-nums; }
.kpi .value.bad { color: var(--bad); }
.kpi .detail { font-size: 12px; color: var(--muted); margin-top: 2px; }
.kpi .detail.flag { color: var(--warn); font-weight: 600; }

.details { display: grid; grid-template-columns: repeat(auto-fit, minmax(220px, 1fr)); gap: 4px 24px; margin: 14px 0 0; padding: 12px 14px;
  background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
.details div { display: flex; gap: 8px; min-width: 0; }
.details dt { color: var(--muted); flex: none; }
.details dd { margin: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }

.card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; overflow: hidden; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 7px 12px; text-align: right; white-space: nowrap; border-bottom: 1px solid var(--line-2); }
th { font-weight: 600; color: var(--muted); font-size: 12px; background: #fafbfc; border-bottom: 1px solid var(--line); }
th:first-child, td:first-child, td.text, th.text { text-align: left; }
td { font-variant-numeric: tabular-nums; }
tbody tr:last-child td { border-bottom: 0; }
tbody tr:hover td { background: #f8fafc; }
td.name { font-family: var(--mono); font-size: 12.5px; white-space: normal; word-break: break-all; min-width: 180px; }
td.strong { font-weight: 650; }
tr.saturated td:first-child { box-shadow: inset 3px 0 0 var(--sat-edge); }
.note { color: var(--muted); font-size: 12.5px; margin: 8px 2px 0; }
.empty { color: var(--muted); padding: 14px 16px; }

.pill { display: inline-block; padding: 1px 8px; border-radius: 999px; font-size: 11.5px; font-weight: 650; letter-spacing: 0.02em; vertical-align: 1px; }
.pill.ok { color: var(--ok); background: var(--ok-bg); }
.pill.bad { color: var(--bad); background: var(--bad-bg); }
.pill.warn { color: var(--warn); background: var(--warn-bg); }
.pill.muted { color: var(--muted); background: var(--line-2); }
.sat-mark { color: var(--warn); font-weight: 700; margin-left: 6px; font-family: system-ui, sans-serif; cursor: help; }

.legend-line { display: flex; align-items: center; gap: 8px; font-size: 13px; color: #78350f; background: #fffbeb;
  border: 1px solid #fde68a; border-radius: 8px; padding: 7px 12px; margin: 0 0 12px; }
.legend-line .swatch { width: 22px; height: 12px; border-radius: 3px; background: var(--sat); border: 1px solid var(--sat-edge); flex: none; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 14px; }
.chart-card { padding: 12px 14px 6px; min-width: 0; }
.chart-card.wide { grid-column: 1 / -1; }
.chart-card { display: flex; flex-direction: column; }
.chart-card > .empty { flex: 1; display: flex; align-items: center; justify-content: center; min-height: 120px; }
.chart-card h3 { font-size: 13.5px; font-weight: 650; display: flex; justify-content: space-between; gap: 12px; align-items: baseline; }
.chart-card h3 .unit { font-weight: 400; color: var(--muted); font-size: 12px; white-space: nowrap; }
.chart-card h3 .title { font-family: var(--mono); font-size: 12.5px; word-break: break-all; }
.chart-card h3 .title.plain { font-family: inherit; font-size: 13.5px; }
.chart { margin-top: 6px; min-height: 40px; }
.chart .uplot { width: 100%; font-family: inherit; }
.chart .u-legend { font-size: 12px; text-align: left; margin: 0; padding: 2px 0 4px; }
.chart .u-legend .u-marker { width: 10px; height: 10px; border-radius: 2px; }
.chart .u-legend .u-series:first-child .u-marker { display: none; }
.chart .u-legend .u-series:first-child th { color: var(--muted); }
.chart .u-series > * { padding: 2px 4px; }
.chart .u-legend th { font-weight: 500; color: var(--ink-2); }
.chart .u-value { font-variant-numeric: tabular-nums; color: var(--ink); }
h2.group { font-size: 14px; font-weight: 650; color: var(--ink-2); margin: 22px 0 10px; }

footer { margin-top: 40px; color: var(--muted); font-size: 12px; text-align: center; }

@media (max-width: 700px) {
  .page { padding: 18px 14px 40px; }
  .head { flex-direction: column; }
  .charts { grid-template-columns: 1fr; }
}
@media print {
  body { background: #fff; }
  .card, .kpi, .details { break-inside: avoid; }
}
`;
