import * as fs from 'node:fs';
import * as path from 'node:path';
import { layout } from '../../worker/store/layout';
import type { Store } from '../../worker/store/store';
import { renderText } from './text';
import type { Report } from './types';

export interface EmitOptions {
  store: Store;
  /** Print report.json on stdout instead of the text report. */
  json?: boolean;
  /** Also write report.json and report.txt into this folder. */
  outDir?: string;
  write?: (text: string) => void;
}

/**
 * Prints the report (text or JSON) and saves it: report.json in the store (kept with the run),
 * and in `outDir` when asked. Returns where a person can find it.
 */
export async function emitReport(report: Report, o: EmitOptions): Promise<string[]> {
  const write = o.write ?? ((t: string) => process.stdout.write(t));
  const json = JSON.stringify(report, null, 2);
  const text = renderText(report);
  await o.store.put(layout.report(report.runId), json);
  await o.store.put(`runs/${report.runId}/report.txt`, text);
  const places: string[] = [];
  if (o.store.url.startsWith('file://')) places.push(path.join(o.store.url.slice('file://'.length), layout.report(report.runId)));
  else places.push(`${o.store.url}/${layout.report(report.runId)}`);
  if (o.outDir) {
    fs.mkdirSync(o.outDir, { recursive: true });
    fs.writeFileSync(path.join(o.outDir, 'report.json'), json);
    fs.writeFileSync(path.join(o.outDir, 'report.txt'), text);
    places.push(path.join(o.outDir, 'report.json'));
  }
  if (o.json) write(`${json}\n`);
  else write(`${text}\nreport: ${places.join(', ')}\n`);
  return places;
}
