import * as fs from 'node:fs';
import * as path from 'node:path';
import { chartHints, embedJson, renderHtml, uplotAssets } from '../../cli/report/html';
import { openFile, opener } from '../../cli/report/html/open';
import { emitReport } from '../../cli/report/output';
import type { TimelinePoint } from '../../cli/merge/merge';
import { FileStore } from '../../worker/store/file';
import { rmTemp, tempDir } from '../helpers/cli';
import { syntheticReport } from '../helpers/synthetic-report';

/** The text of every `<script>` element, as an HTML parser would end them (at the first `</script`). */
function scripts(html: string): Array<{ attrs: string; body: string }> {
  const out: Array<{ attrs: string; body: string }> = [];
  const re = /<script([^>]*)>([\s\S]*?)<\/script/gi;
  for (let m = re.exec(html); m; m = re.exec(html)) out.push({ attrs: m[1], body: m[2] });
  return out;
}

function embedded(html: string): unknown {
  const s = scripts(html).find((x) => x.attrs.includes('id="loadfarm-report"'));
  expect(s).toBeDefined();
  return JSON.parse(s!.body);
}

describe('report.html', () => {
  const report = syntheticReport();
  const html = renderHtml(report);

  it('is self-contained: no remote src or href, uPlot and its CSS inlined, a CSP that forbids fetching', () => {
    expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?\s*(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b/i);
    expect(html).not.toMatch(/@import/i);
    expect(scripts(html).every((s) => !/\bsrc\s*=/.test(s.attrs))).toBe(true);
    const { uplotJs, uplotCss } = uplotAssets();
    expect(uplotJs.length).toBeGreaterThan(20_000);
    expect(html).toContain(uplotJs.slice(0, 500));
    expect(html).toContain(uplotCss.slice(0, 200));
    expect(html).toContain(`content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"`);
  });

  it('embeds the report JSON, which parses back to the same report', () => {
    expect(embedded(html)).toEqual(JSON.parse(JSON.stringify(report)));
    // Three scripts: the data, uPlot, the page's own.
    expect(scripts(html).map((s) => s.attrs.trim())).toEqual(['type="application/json" id="loadfarm-report"', '', '']);
  });

  it('a metric named </script> cannot break out of the page', () => {
    const hostile = '</script><script>alert(1)</script><!--';
    const sep = 'line\u2028sep\u2029para';
    const r = syntheticReport({ extraMetrics: [hostile, sep], intervals: 6, saturated: null });
    r.warnings.push('<img src=x onerror=alert(1)>');
    const page = renderHtml(r);
    expect(page).not.toContain('<script>alert(1)');
    expect(page).not.toContain('<img src=x');
    expect(scripts(page)).toHaveLength(3);
    // Raw U+2028/2029 end a line in older JavaScript parsers: none in any script.
    for (const s of scripts(page)) expect(s.body).not.toMatch(/[\u2028\u2029]/);
    const back = embedded(page) as typeof r;
    expect(Object.keys(back.metrics)).toEqual(expect.arrayContaining([hostile, sep]));
    expect(back.warnings).toContain('<img src=x onerror=alert(1)>');
    // Shown as text in the table.
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!--');
    expect(embedJson({ a: '</script>&\u2028' })).toBe('{"a":"\\u003c/script\\u003e\\u0026\\u2028"}');
  });

  it('shows the summary, a pass/fail badge, thresholds, metrics, errors and workers', () => {
    expect(report.status).toBe('thresholds-failed'); // ws.echo p99 spikes while worker 1 is saturated
    expect(html).toMatch(/<div class="badge bad" data-status="thresholds-failed"[^>]*>\s*<span class="icon">✗<\/span>\s*<span>THRESHOLDS FAILED/);
    for (const text of ['shop-api', 'http://127.0.0.1:8080', report.runId, '<dt>stagger</dt><dd title="2s">2s</dd>', '<dt>seed</dt><dd title="7">7</dd>', 'HTTP 503', 'ECONNRESET', 'check item ok: pass']) {
      expect(html).toContain(text);
    }
    expect(html.match(/<tr data-ok="(true|false)">/g)).toEqual(['<tr data-ok="true">', '<tr data-ok="false">', '<tr data-ok="true">']);
    for (const name of Object.keys(report.metrics)) expect(html).toContain(`<td class="name">${name.replace(/&/g, '&amp;')}`);
    const passed = renderHtml(syntheticReport({ saturated: null, intervals: 5 }));
    expect(passed).toMatch(/<div class="badge ok" data-status="passed"/);
    expect(passed).not.toContain('data-saturation-legend');
    expect(passed).not.toContain('data-saturated-mark');
  });

  it('marks the metrics and workers a saturated generator spoiled, and passes the shaded ranges to the charts', () => {
    const marked = [...html.matchAll(/<tr class="saturated" data-saturated="([\d.]+)"><td class="name">([^<]+)<span class="sat-mark" data-saturated-mark/g)];
    expect(marked.map((m) => m[2])).toEqual(Object.keys(report.metrics));
    expect(html).toContain('<span class="pill warn" data-saturated-worker="1">7 / 40</span>');
    expect(html).toContain('data-saturation-legend');
    expect(html).toMatch(/<section id="charts" data-interval-s="1" data-saturated-ranges="\[\[14\.5,21\.5\]\]" data-saturated="true">/);
  });
});

describe('chartHints', () => {
  const point = (t: number, saturated: number[] = []): TimelinePoint => ({ t, ops: 1, errors: 0, errorsByCode: {}, users: 1, connections: 0, metrics: {}, saturated, health: {} });

  it('finds the interval and merges touching saturated intervals into ranges centred on the points', () => {
    const h = chartHints([point(2), point(4, [1]), point(6, [0, 1]), point(8), point(10, [3])]);
    expect(h).toEqual({ intervalS: 2, saturatedRanges: [[3, 7], [9, 11]], saturatedWorkers: [0, 1, 3] });
  });

  it('copes with a gap in the timeline, a single point and none', () => {
    expect(chartHints([point(5), point(10, [0]), point(25, [0])]).saturatedRanges).toEqual([[7.5, 12.5], [22.5, 27.5]]);
    expect(chartHints([point(0.5, [2])])).toEqual({ intervalS: 0.5, saturatedRanges: [[0.25, 0.75]], saturatedWorkers: [2] });
    expect(chartHints([])).toEqual({ intervalS: 1, saturatedRanges: [], saturatedWorkers: [] });
  });
});

describe('emitReport', () => {
  let dir: string;
  beforeAll(() => (dir = tempDir()));
  afterAll(() => rmTemp(dir));

  it('writes report.html to the store and --out, and prints where it is', async () => {
    const report = syntheticReport({ intervals: 4 });
    const store = new FileStore(path.join(dir, 'store'));
    let printed = '';
    const out = path.join(dir, 'out');
    const res = await emitReport(report, { store, outDir: out, write: (t) => (printed += t) });
    const stored = path.join(dir, 'store', 'runs', report.runId, 'report.html');
    expect(fs.readFileSync(stored, 'utf8')).toBe(fs.readFileSync(path.join(out, 'report.html'), 'utf8'));
    expect(res.html).toBe(path.join(out, 'report.html'));
    expect(printed).toMatch(new RegExp(`\\nhtml report: ${res.html.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));

    const res2 = await emitReport(report, { store, write: () => {} });
    expect(res2.html).toBe(stored);
  });
});

describe('--open', () => {
  let dir: string;
  beforeAll(() => (dir = tempDir()));
  afterAll(() => rmTemp(dir));

  it('starts xdg-open (open on macOS) from PATH with the file, or says it cannot', async () => {
    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    const seen = path.join(dir, 'seen');
    // Written aside and renamed: the test never reads a file the script has created but not yet filled.
    fs.writeFileSync(path.join(bin, 'xdg-open'), `#!/bin/sh\nprintf '%s' "$1" > '${seen}.part' && mv '${seen}.part' '${seen}'\n`, { mode: 0o755 });
    const envPath = [path.join(dir, 'nothing-here'), bin].join(path.delimiter);
    expect(opener({ platform: 'linux', envPath })).toEqual({ cmd: path.join(bin, 'xdg-open'), args: [] });
    expect(opener({ platform: 'darwin', envPath })).toBeUndefined();

    await expect(openFile('/tmp/some report.html', { platform: 'linux', envPath })).resolves.toBeUndefined();
    for (let i = 0; i < 100 && !fs.existsSync(seen); i++) await new Promise((r) => setTimeout(r, 20));
    expect(fs.readFileSync(seen, 'utf8')).toBe('/tmp/some report.html');

    await expect(openFile('/tmp/r.html', { platform: 'darwin', envPath })).resolves.toBe('cannot open /tmp/r.html: no open command on this machine');
  });
});
