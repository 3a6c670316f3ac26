import { header, responseText, type HarEntry } from './har';
import { occurrences } from './render';

/** A value that comes back in one response and is sent in a later request. */
export interface Found {
  /** The recorded value, as text. */
  value: string;
  numeric: boolean;
  /** Index (in the kept entries) of the response it comes from. */
  from: number;
  /** Where in that response: a JSON path, or a cookie the response sets. */
  where: { json: (string | number)[] } | { cookie: string };
  /** Index of the first request that sends it. */
  firstUse: number;
}

/**
 * Values worth wiring: a JSON number of 3+ digits, a JSON string of 8+ characters holding a
 * digit or of 20+ characters, or a cookie value a response sets. Shorter or plain-word values
 * match too much by chance.
 */
function worthIt(v: unknown): v is string | number {
  if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) >= 100;
  if (typeof v !== 'string') return false;
  return (v.length >= 8 && /\d/.test(v)) || v.length >= 20;
}

/** Everything a request sends, as one text: URL, header values, body. */
export function requestText(e: HarEntry): string {
  const body = e.request.postData?.text ?? (e.request.postData?.params ?? []).map((p) => `${p.name}=${p.value ?? ''}`).join('&');
  let url = e.request.url;
  try {
    url = decodeURIComponent(url);
  } catch {
    // A URL that does not decode is searched as it is.
  }
  return [url, ...e.request.headers.map((h) => h.value), body].join('\n');
}

function leaves(v: unknown, path: (string | number)[], out: { path: (string | number)[]; value: unknown }[]): void {
  if (Array.isArray(v)) v.forEach((x, i) => leaves(x, [...path, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) leaves(x, [...path, k], out);
  else out.push({ path, value: v });
}

/** Cookies a response sets: name → value. */
export function setCookies(e: HarEntry): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of e.response.headers) {
    if (h.name.toLowerCase() !== 'set-cookie') continue;
    for (const line of h.value.split('\n')) {
      const pair = line.split(';')[0];
      const eq = pair.indexOf('=');
      if (eq > 0) out.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  return out;
}

/**
 * The values the recording shows coming back from a response and sent again later, each from
 * the first response that holds it, provided no earlier request sent it first (then the client
 * knew it already: a typed value, not the server's).
 */
export function correlate(entries: HarEntry[]): Found[] {
  const sent = entries.map(requestText);
  const found: Found[] = [];
  const known = new Set<string>();
  entries.forEach((e, i) => {
    const candidates: { value: string; numeric: boolean; where: Found['where'] }[] = [];
    const text = responseText(e);
    const mime = (e.response.content?.mimeType ?? header(e.response.headers, 'content-type') ?? '').toLowerCase();
    if (text !== undefined && (mime.includes('json') || /^\s*[[{]/.test(text))) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      const out: { path: (string | number)[]; value: unknown }[] = [];
      leaves(body, [], out);
      for (const l of out) if (worthIt(l.value)) candidates.push({ value: String(l.value), numeric: typeof l.value === 'number', where: { json: l.path } });
    }
    for (const [name, value] of setCookies(e)) if (value.length >= 4) candidates.push({ value, numeric: false, where: { cookie: name } });
    for (const c of candidates) {
      if (known.has(c.value)) continue;
      if (sent.slice(0, i + 1).some((t) => occurrences(t, c.value).length > 0)) continue;
      const firstUse = sent.findIndex((t, j) => j > i && occurrences(t, c.value).length > 0);
      if (firstUse === -1) continue;
      known.add(c.value);
      found.push({ ...c, from: i, firstUse });
    }
  });
  return found;
}
