/**
 * The report page's script, run in the browser after uPlot. Plain ES5-ish JavaScript in a string
 * (no bundler step, no template substitutions). It reads the report from
 * `<script id="loadfarm-report" type="application/json">` and the chart hints from the
 * `#charts` element's data attributes (`data-interval-s`, `data-saturated-ranges`), and draws:
 * latency p50/p95/p99 per metric, throughput and errors/s, errors by code, users and
 * connections, and per-worker CPU and event-loop lag.
 *
 * Saturated stretches are shaded by a uPlot `drawClear` hook (under the axes and lines).
 * For tests and tools it exposes:
 * - `window.__loadfarmSaturatedRanges`: [fromS, toS][] it shades;
 * - `window.__loadfarmShaded[chartId]`: how many ranges the hook last filled on that chart;
 * - `window.__loadfarmCharts`: [{ id, u }] the uPlot instances;
 * - `<html data-charts-ready="N">` once N charts are drawn.
 */
export const CLIENT_JS = String.raw`
(function () {
  'use strict';
  var report = JSON.parse(document.getElementById('loadfarm-report').textContent);
  var root = document.getElementById('charts');
  var tl = report.timeline || [];
  var intervalS = Number(root.getAttribute('data-interval-s')) || 1;
  var ranges = JSON.parse(root.getAttribute('data-saturated-ranges') || '[]');
  window.__loadfarmSaturatedRanges = ranges;
  window.__loadfarmShaded = {};

  var PALETTE = ['#2563eb', '#db2777', '#0d9488', '#7c3aed', '#ea580c', '#65a30d', '#0891b2', '#ca8a04', '#475569', '#dc2626'];
  var ERR_PALETTE = ['#dc2626', '#ea580c', '#ca8a04', '#db2777', '#7c3aed', '#0891b2', '#475569', '#65a30d'];
  var SAT_FILL = 'rgba(245, 158, 11, 0.18)';
  var AXIS = { stroke: '#64748b', grid: { stroke: '#eef1f5', width: 1 }, ticks: { stroke: '#e2e8f0', width: 1, size: 4 }, font: '11px system-ui, sans-serif' };
  var xs = tl.map(function (p) { return p.t; });
  var maxT = xs.length ? xs[xs.length - 1] : 0;
  var charts = [];
  // Time ticks on whole intervals (then round multiples of them), never between two points.
  var X_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200].map(function (k) { return k * intervalS; });

  function fmtT(s) {
    if (s == null) return '';
    if (maxT < 120) return (Math.round(s * 10) / 10) + 's';
    var m = Math.floor(s / 60), r = Math.round(s - m * 60);
    return m + ':' + (r < 10 ? '0' : '') + r;
  }
  function fmtNum(v) {
    if (v == null || !isFinite(v)) return '–';
    var a = Math.abs(v);
    if (a === 0) return '0';
    if (a >= 1000) return Math.round(v).toLocaleString('en-US');
    if (a >= 100) return v.toFixed(0);
    if (a >= 10) return v.toFixed(1);
    return v.toFixed(2);
  }
  function unitFmt(unit) {
    return function (u, v) { return v == null ? '–' : fmtNum(v) + unit; };
  }
  function fromZero(u, min, max) {
    return uPlot.rangeNum(0, max > 0 ? max : 1, 0.1, true);
  }

  // Fills the saturated stretches across the plot area, clipped to it. Canvas pixels.
  function shade(u) {
    var id = u.root.parentNode.getAttribute('data-chart');
    var drawn = 0;
    if (ranges.length) {
      var ctx = u.ctx, b = u.bbox;
      ctx.save();
      ctx.fillStyle = SAT_FILL;
      for (var i = 0; i < ranges.length; i++) {
        var x0 = Math.max(b.left, u.valToPos(ranges[i][0], 'x', true));
        var x1 = Math.min(b.left + b.width, u.valToPos(ranges[i][1], 'x', true));
        if (x1 > x0) {
          ctx.fillRect(x0, b.top, x1 - x0, b.height);
          drawn++;
        }
      }
      ctx.restore();
    }
    window.__loadfarmShaded[id] = drawn;
  }

  function card(groupId, title, unit, mono, marked, wide) {
    var group = document.getElementById(groupId);
    var c = document.createElement('div');
    c.className = 'card chart-card' + (wide ? ' wide' : '');
    var h = document.createElement('h3');
    var t = document.createElement('span');
    t.className = 'title' + (mono ? '' : ' plain');
    t.textContent = title;
    if (marked) {
      var m = document.createElement('span');
      m.className = 'sat-mark';
      m.textContent = '⚠';
      m.title = 'includes values measured while a generator was saturated';
      t.appendChild(m);
    }
    var un = document.createElement('span');
    un.className = 'unit';
    un.textContent = unit;
    h.appendChild(t);
    h.appendChild(un);
    c.appendChild(h);
    group.appendChild(c);
    return c;
  }

  function empty(c, text) {
    var d = document.createElement('div');
    d.className = 'empty';
    d.textContent = text;
    c.appendChild(d);
  }

  function plot(c, id, series, data, o) {
    o = o || {};
    var el = document.createElement('div');
    el.className = 'chart';
    el.setAttribute('data-chart', id);
    c.appendChild(el);
    var height = o.height || 210;
    var axes = [
      Object.assign({}, AXIS, { size: 34, incrs: X_INCRS, values: function (u, splits) { return splits.map(fmtT); } }),
      Object.assign({}, AXIS, { size: 52 }),
    ];
    var scales = { x: { time: false }, y: { range: fromZero } };
    if (o.right) {
      scales[o.right.scale] = { range: fromZero };
      axes.push(Object.assign({}, AXIS, { scale: o.right.scale, side: 1, size: 48, grid: { show: false }, stroke: o.right.stroke }));
    }
    var u = new uPlot({
      width: Math.max(240, el.clientWidth),
      height: height,
      series: [{ label: 'time', value: function (u, v) { return v == null ? '–' : fmtT(v); } }].concat(series),
      scales: scales,
      axes: axes,
      cursor: { drag: { x: true, y: false }, points: { size: 7 } },
      legend: { live: true },
      hooks: { drawClear: [shade] },
    }, [xs].concat(data), el);
    charts.push({ id: id, u: u, el: el, height: height });
    return u;
  }

  function line(label, color, unit, extra) {
    return Object.assign({ label: label, stroke: color, width: 1.6, value: unitFmt(unit), points: { size: 4 } }, extra || {});
  }
  function perInterval(p, n) { return n == null ? null : n / intervalS; }

  if (tl.length === 0) {
    empty(card('charts-latency', 'No timeline', '', false, false), 'This run recorded no snapshots: nothing to chart.');
    document.documentElement.setAttribute('data-charts-ready', '0');
    return;
  }

  // Latency: one chart per metric, p50 / p95 / p99 per interval.
  Object.keys(report.metrics).forEach(function (name, i) {
    var c = card('charts-latency', name, 'ms · p50 / p95 / p99', true, report.metrics[name].saturatedShare > 0);
    var pick = function (k) { return tl.map(function (p) { var m = p.metrics[name]; return m ? m[k] : null; }); };
    plot(c, 'latency-' + i, [
      line('p50', '#2563eb', ' ms'),
      line('p95', '#7c3aed', ' ms'),
      line('p99', '#dc2626', ' ms', { width: 2 }),
    ], [pick('p50'), pick('p95'), pick('p99')]);
  });

  // Throughput and errors per second (errors on their own right-hand scale).
  var tc = card('charts-load', 'Throughput', 'ops/s · errors/s (right)', false, false, true);
  plot(tc, 'throughput', [
    line('ops/s', '#2563eb', '/s', { fill: 'rgba(37, 99, 235, 0.08)' }),
    line('errors/s', '#dc2626', '/s', { scale: 'err' }),
  ], [tl.map(function (p) { return perInterval(p, p.ops); }), tl.map(function (p) { return perInterval(p, p.errors); })],
  { right: { scale: 'err', stroke: '#dc2626' } });

  var codes = {};
  tl.forEach(function (p) { Object.keys(p.errorsByCode || {}).forEach(function (k) { codes[k] = (codes[k] || 0) + p.errorsByCode[k]; }); });
  var codeList = Object.keys(codes).sort(function (a, b) { return codes[b] - codes[a]; });
  var ec = card('charts-load', 'Errors by code', 'errors/s', false, false);
  if (codeList.length === 0) empty(ec, 'No errors in this run.');
  else {
    plot(ec, 'errors-by-code', codeList.map(function (k, i) { return line(k, ERR_PALETTE[i % ERR_PALETTE.length], '/s'); }),
      codeList.map(function (k) { return tl.map(function (p) { return perInterval(p, p.errorsByCode[k] || 0); }); }));
  }

  var uc = card('charts-load', 'Active users and connections', 'most in each interval', false, false);
  plot(uc, 'users', [
    line('users', '#0d9488', '', { fill: 'rgba(13, 148, 136, 0.08)' }),
    line('connections', '#ea580c', ''),
  ], [tl.map(function (p) { return p.users; }), tl.map(function (p) { return p.connections; })]);

  // Per-worker health.
  var workerIds = {};
  tl.forEach(function (p) { Object.keys(p.health || {}).forEach(function (k) { workerIds[k] = true; }); });
  var ws = Object.keys(workerIds).map(Number).sort(function (a, b) { return a - b; });
  var health = function (k) {
    return ws.map(function (w) { return tl.map(function (p) { var h = p.health && p.health[w]; return h ? h[k] : null; }); });
  };
  var wSeries = function (unit) { return ws.map(function (w, i) { return line('worker ' + w, PALETTE[i % PALETTE.length], unit); }); };
  plot(card('charts-health', 'CPU per worker', '%', false, false), 'cpu', wSeries('%'), health('cpuPct'));
  plot(card('charts-health', 'Event-loop lag per worker', 'ms · p99 of each interval', false, false), 'loop-lag', wSeries(' ms'), health('loopLagP99Ms'));

  var pending = false;
  window.addEventListener('resize', function () {
    if (pending) return;
    pending = true;
    requestAnimationFrame(function () {
      pending = false;
      charts.forEach(function (c) { c.u.setSize({ width: Math.max(240, c.el.clientWidth), height: c.height }); });
    });
  });
  window.__loadfarmCharts = charts;
  document.documentElement.setAttribute('data-charts-ready', String(charts.length));
})();
`;
