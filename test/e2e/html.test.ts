import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { renderHtml } from '../../cli/report/html';
import type { Report } from '../../cli/report/types';
import { FileStore } from '../../worker/store/file';
import { layout } from '../../worker/store/layout';
import { putJson } from '../../worker/store/store';
import { chromiumExecutable } from '../helpers/chromium';
import { ROOT, rmTemp, runCli, tempDir } from '../helpers/cli';
import { syntheticReport, syntheticRun } from '../helpers/synthetic-report';

/**
 * report.html in a real headless Chromium: the one inside the @sparticuz/chromium devDependency,
 * so `npm ci` alone is enough (see test/helpers/chromium.ts for the order it is looked up in).
 * No skipping: without a browser these tests fail and say how to get one.
 */
const ARTIFACTS = path.join(ROOT, 'test-artifacts');

/** What the tests touch in the page (the project compiles without the DOM library). */
interface Canvas {
  width: number;
  height: number;
}
interface Plot {
  ctx: { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
  bbox: { top: number; height: number };
  valToPos(v: number, scale: string, canvasPixels: boolean): number;
}
interface Browser {
  document: { querySelector(selector: string): unknown };
  __loadfarmSaturatedRanges: Array<[number, number]>;
  __loadfarmShaded: Record<string, number>;
  __loadfarmCharts: Array<{ id: string; u: Plot }>;
}

interface Opened {
  page: Page;
  /** Console errors, page errors, and any request that is not for the file itself. */
  problems: string[];
  chartsReady: number;
}

describe('report.html in headless Chromium', () => {
  let dir: string;
  let context: BrowserContext | undefined;
  let executable = 'a headless Chromium';

  beforeAll(async () => {
    dir = tempDir();
    executable = await chromiumExecutable();
    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: executable,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1360, height: 900 },
      deviceScaleFactor: 1,
      // The locale a person's shell gives: from LANG=C.UTF-8 this Chromium derives `en-US@posix`,
      // which Intl refuses; the report must draw its charts all the same (html.ts LOCALE_GUARD).
      env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' },
      offline: true,
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    rmTemp(dir);
  });

  async function open(file: string): Promise<Opened> {
    if (!context) throw new Error(`no browser: ${executable} could not be launched (see the beforeAll error)`);
    const page = await context.newPage();
    const problems: string[] = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('request', (r) => r.url() !== url && !r.url().startsWith('data:') && problems.push(`request: ${r.url()}`));
    await page.goto(url, { waitUntil: 'load' });
    await page.waitForSelector('html[data-charts-ready]', { timeout: 10_000 });
    const chartsReady = Number(await page.getAttribute('html', 'data-charts-ready'));
    return { page, problems, chartsReady };
  }

  /** Sizes of every uPlot canvas, in canvas pixels. */
  function canvases(page: Page): Promise<Array<{ w: number; h: number }>> {
    return page.$$eval('.uplot canvas', (els) => els.map((c) => ({ w: (c as Canvas).width, h: (c as Canvas).height })));
  }

  it('draws every chart, shades where a generator was saturated, and logs no errors', async () => {
    const report = syntheticReport();
    const file = path.join(dir, 'saturated', 'report.html');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderHtml(report));
    const { page, problems, chartsReady } = await open(file);

    // One latency chart per metric, then throughput, errors by code, users, CPU, loop lag.
    expect(chartsReady).toBe(Object.keys(report.metrics).length + 5);
    const sizes = await canvases(page);
    expect(sizes).toHaveLength(chartsReady);
    for (const s of sizes) {
      expect(s.w).toBeGreaterThan(300);
      expect(s.h).toBeGreaterThan(100);
    }
    const ids = await page.$$eval('[data-chart]', (els) => els.map((e) => e.getAttribute('data-chart')));
    expect(ids).toEqual([...Object.keys(report.metrics).map((_, i) => `latency-${i}`), 'throughput', 'errors-by-code', 'users', 'cpu', 'loop-lag']);

    // The saturation marking: the legend line, the ranges, and the draw hook filling them.
    await expect(page.isVisible('[data-saturation-legend]')).resolves.toBe(true);
    expect(await page.textContent('[data-saturation-legend]')).toMatch(/a load generator was saturated \(worker 1, 7 of 40 intervals\)/);
    expect(await page.evaluate(() => (globalThis as unknown as Browser).__loadfarmSaturatedRanges)).toEqual([[14.5, 21.5]]);
    const shaded = (await page.evaluate(() => (globalThis as unknown as Browser).__loadfarmShaded)) as Record<string, number>;
    expect(Object.keys(shaded)).toHaveLength(chartsReady);
    expect(Object.values(shaded).every((n) => n === 1)).toBe(true);

    // And the shade is on the canvas: inside the range the plot's background is amber, outside it is not.
    const tinted = (await page.evaluate(() => {
      const { u } = (globalThis as unknown as Browser).__loadfarmCharts[0];
      const ctx = u.ctx;
      const column = (t: number) => {
        const x = Math.round(u.valToPos(t, 'x', true));
        const px = ctx.getImageData(x, u.bbox.top, 1, u.bbox.height).data;
        let amber = 0;
        for (let i = 0; i < px.length; i += 4) {
          // The canvas is transparent: the fill rgba(245, 158, 11, 0.18) stays as it is where nothing is drawn over it.
          if (Math.abs(px[i] - 245) <= 3 && Math.abs(px[i + 1] - 158) <= 3 && Math.abs(px[i + 2] - 11) <= 3 && Math.abs(px[i + 3] - 46) <= 2) amber++;
        }
        return amber / (px.length / 4);
      };
      return { inside: column(17.7), outside: column(6.3) };
    })) as { inside: number; outside: number };
    expect(tinted.inside).toBeGreaterThan(0.5);
    expect(tinted.outside).toBe(0);

    // Status, tables, warnings.
    expect(await page.getAttribute('.badge', 'data-status')).toBe('thresholds-failed');
    expect(await page.$$eval('[data-saturated-mark]', (els) => els.length)).toBe(Object.keys(report.metrics).length);
    expect(await page.isVisible('.alert')).toBe(true);

    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'report.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('a run without saturation has no shading and no legend; it survives a resize', async () => {
    const file = path.join(dir, 'calm', 'report.html');
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, renderHtml(syntheticReport({ saturated: null, intervals: 12 })));
    const { page, problems, chartsReady } = await open(file);
    expect(chartsReady).toBeGreaterThan(5);
    expect(await page.$('[data-saturation-legend]')).toBeNull();
    expect(await page.getAttribute('.badge', 'data-status')).toBe('passed');
    const shaded = (await page.evaluate(() => (globalThis as unknown as Browser).__loadfarmShaded)) as Record<string, number>;
    expect(Object.values(shaded).every((n) => n === 0)).toBe(true);

    await page.setViewportSize({ width: 700, height: 900 });
    await page.waitForFunction(() => {
      const c = (globalThis as unknown as Browser).document.querySelector('.uplot canvas') as Canvas;
      return c.width > 0 && c.width < 700;
    });
    for (const s of await canvases(page)) expect(s.w).toBeGreaterThan(200);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('the report.html that `loadfarm report --out` writes opens and draws its charts', async () => {
    // A run left in a file store (plan, snapshots, statuses) as workers leave it; the built CLI merges it.
    const run = syntheticRun({ intervals: 20, saturated: [3, 5] });
    const store = new FileStore(path.join(dir, 'store'));
    await putJson(store, layout.plan(run.plan.runId), run.plan);
    for (const s of run.snapshots) await putJson(store, layout.snapshot(run.plan.runId, s.worker, s.seq), s);
    for (const [i, st] of run.statuses) await putJson(store, layout.status(run.plan.runId, i), st);
    const out = path.join(dir, 'out');
    const res = await runCli(['report', run.plan.runId, '--store', store.url, '--out', out]);
    expect(res.stderr).toBe('');
    const file = path.join(out, 'report.html');
    expect(res.stdout).toContain(`\nhtml report: ${file}\n`);
    expect(fs.readFileSync(path.join(store.root, layout.reportHtml(run.plan.runId)), 'utf8')).toBe(fs.readFileSync(file, 'utf8'));

    const { page, problems, chartsReady } = await open(file);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    expect(chartsReady).toBe(Object.keys(report.metrics).length + 5);
    expect((await canvases(page)).every((s) => s.w > 0 && s.h > 0)).toBe(true);
    expect(await page.evaluate(() => (globalThis as unknown as Browser).__loadfarmSaturatedRanges)).toEqual([[3.5, 6.5]]);
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'report-cli.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });
});
