import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { layout } from '../../worker/store/layout';
import type { Store } from '../../worker/store/store';
import { renderHtml } from './html';
import { openFile } from './html/open';
import { renderText } from './text';
import type { Report } from './types';

export interface EmitOptions {
  store: Store;
  /** Print report.json on stdout instead of the text report. */
  json?: boolean;
  /** Also write report.json, report.txt and report.html into this folder. */
  outDir?: string;
  /** Open report.html with the desktop's browser (xdg-open / open) when there is one. */
  open?: boolean;
  write?: (text: string) => void;
}

export interface EmittedReport {
  /** Where report.json was written (store first). */
  places: string[];
  /** report.html: a local file when there is one (--out, a file store, or a copy made for --open), else its store URL. */
  html: string;
}

/**
 * Prints the report (text or JSON) and saves it: report.json, report.txt and report.html in the
 * store (kept with the run), and in `outDir` when asked. Returns where a person can find it.
 * With `json`, stdout carries report.json only and the html line goes to stderr.
 */
export async function emitReport(report: Report, o: EmitOptions): Promise<EmittedReport> {
  const write = o.write ?? ((t: string) => process.stdout.write(t));
  const json = JSON.stringify(report, null, 2);
  const text = renderText(report);
  const html = renderHtml(report);
  // A report of a run still going is the numbers so far: it is never saved as the run's report.
  const save = report.status !== 'running';
  if (save) {
    await o.store.put(layout.report(report.runId), json);
    await o.store.put(`runs/${report.runId}/report.txt`, text);
    await o.store.put(layout.reportHtml(report.runId), html);
  }
  const places: string[] = [];
  const local = save && o.store.url.startsWith('file://') ? o.store.url.slice('file://'.length) : undefined;
  if (local) places.push(path.join(local, layout.report(report.runId)));
  else if (save) places.push(`${o.store.url}/${layout.report(report.runId)}`);
  let htmlPlace = local ? path.join(local, layout.reportHtml(report.runId)) : `${o.store.url}/${layout.reportHtml(report.runId)}`;
  if (!save && !o.outDir) {
    htmlPlace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-')), 'report.html');
    fs.writeFileSync(htmlPlace, html);
  }
  if (o.outDir) {
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'report.json'), json);
    fs.writeFileSync(path.join(o.outDir, 'report.txt'), text);
    fs.writeFileSync(path.join(o.outDir, 'report.html'), html);
    places.push(path.join(o.outDir, 'report.json'));
    htmlPlace = path.join(o.outDir, 'report.html');
  } else if (!local && o.open) {
    htmlPlace = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-')), 'report.html');
    fs.writeFileSync(htmlPlace, html);
  }
  if (o.json) {
    write(`${json}\n`);
    process.stderr.write(`html report: ${htmlPlace}\n`);
  } else write(`${text}\n${places.length > 0 ? `report: ${places.join(', ')}\n` : ''}html report: ${htmlPlace}\n`);
  if (o.open) {
    const problem = await openFile(htmlPlace);
    if (problem) process.stderr.write(`loadfarm: ${problem}\n`);
  }
  return { places, html: htmlPlace };
}
