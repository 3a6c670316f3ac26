import * as fs from 'node:fs';
import { UsageError } from '../errors';

/** The parts of a HAR 1.2 file (as browsers export it) that an import reads. */
export interface HarHeader {
  name: string;
  value: string;
}
export interface HarEntry {
  startedDateTime: string;
  /** Total time of the request, ms. */
  time: number;
  request: {
    method: string;
    url: string;
    headers: HarHeader[];
    postData?: { mimeType?: string; text?: string; params?: { name: string; value?: string }[] };
  };
  response: {
    status: number;
    headers: HarHeader[];
    redirectURL?: string;
    content?: { mimeType?: string; text?: string; encoding?: string };
  };
  /** Chrome and Edge: 'document', 'xhr', 'fetch', 'script', 'stylesheet', 'image', 'font', … */
  _resourceType?: string;
}

/**
 * Reads a HAR file: its entries sorted by start time (the recorded order). A file that is not
 * a HAR 1.2 log is a UsageError saying what was found.
 */
export function readHar(file: string): HarEntry[] {
  if (!fs.existsSync(file)) throw new UsageError(`import har: ${file}: no such file`);
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new UsageError(`import har: ${file} is not JSON (${(err as Error).message}); export it from the browser's network panel with "Save all as HAR"`);
  }
  const entries = (value as { log?: { entries?: unknown } } | null)?.log?.entries;
  if (!Array.isArray(entries)) throw new UsageError(`import har: ${file} has no log.entries: expected a HAR 1.2 file ({ "log": { "entries": [...] } })`);
  const problems: string[] = [];
  entries.forEach((e: Partial<HarEntry>, i) => {
    if (typeof e?.request?.method !== 'string' || typeof e.request.url !== 'string') problems.push(`import har: ${file}: log.entries[${i}].request: expected a method and a url`);
    else if (typeof e.startedDateTime !== 'string' || Number.isNaN(Date.parse(e.startedDateTime))) problems.push(`import har: ${file}: log.entries[${i}].startedDateTime: expected a date, got ${JSON.stringify(e.startedDateTime)}`);
  });
  if (problems.length > 0) throw new UsageError(problems[0], problems.slice(1));
  const list = (entries as HarEntry[]).map((e) => ({
    ...e,
    time: typeof e.time === 'number' && e.time >= 0 ? e.time : 0,
    request: { ...e.request, headers: e.request.headers ?? [] },
    response: { ...(e.response ?? { status: 0 }), headers: e.response?.headers ?? [] },
  }));
  // A stable sort keeps the file's order for requests started in the same millisecond.
  return list.sort((a, b) => Date.parse(a.startedDateTime) - Date.parse(b.startedDateTime));
}

export function header(headers: HarHeader[], name: string): string | undefined {
  const n = name.toLowerCase();
  return headers.find((h) => h.name.toLowerCase() === n)?.value;
}

/** The response body as text, or undefined (absent, or binary in base64). */
export function responseText(e: HarEntry): string | undefined {
  const c = e.response.content;
  if (!c || typeof c.text !== 'string') return undefined;
  if (c.encoding === 'base64') {
    const mime = (c.mimeType ?? '').toLowerCase();
    return mime.includes('json') || mime.startsWith('text/') ? Buffer.from(c.text, 'base64').toString('utf8') : undefined;
  }
  return c.text;
}
