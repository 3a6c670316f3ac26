import * as path from 'node:path';
import { correlate, type Found } from './correlate';
import { header, type HarEntry } from './har';
import { groupIds } from './names';
import { accessor, identifier, jsonLiteral, key, lit, templ, type Var } from './render';
import { selectEntries } from './select';

export interface ImportOptions {
  /** Hosts whose requests are kept. @default the host of the first request that is not an asset */
  includeHosts?: string[];
  /** Keep scripts, styles, images, fonts and media. @default false */
  keepStatic?: boolean;
  /** Names the scenario. */
  sourceName: string;
}

export interface Imported {
  code: string;
  requests: number;
  droppedStatic: number;
  droppedHosts: Map<string, number>;
  variables: number;
  origin: string;
}

/** Request headers a replay leaves to the client or that only describe the browser. */
const DROPPED_HEADERS = new Set([
  'host', 'content-length', 'connection', 'keep-alive', 'accept-encoding', 'accept-language', 'user-agent', 'referer',
  'origin', 'upgrade-insecure-requests', 'cache-control', 'pragma', 'te', 'priority', 'dnt', 'if-none-match',
  'if-modified-since', 'purpose', 'sec-purpose', 'transfer-encoding', 'upgrade', 'expect', 'http2-settings',
]);

/** Headers people keep as variables: what logs the user in. */
const VARIABLE_HEADERS = new Set(['authorization', 'cookie', 'x-csrf-token', 'x-xsrf-token', 'x-api-key']);

/** The shortest gap between requests that becomes a think time, ms. */
const MIN_THINK_MS = 100;

/**
 * A readable TypeScript scenario from a browser's HAR: the journey's requests in recorded
 * order with the headers that matter and their bodies, think times from the recorded gaps,
 * assets dropped, the recorded origin replaced by the target, ids in paths grouped into metric
 * names, login headers and cookies as variables, and values that come back from one response
 * and are sent later read from that response (a comment says where each came from).
 */
export function generateScenario(entries: HarEntry[], o: ImportOptions): Imported {
  const sel = selectEntries(entries, o);
  const kept = sel.kept;
  const found = correlate(kept);
  const vars: (Var & Found)[] = [];
  const taken = new Set<string>(['u', 'res']);
  for (const f of found) {
    const name = unique(taken, varName(f, kept[f.from]));
    vars.push({ ...f, name });
  }
  const responseUsed = new Set(vars.map((v) => v.from));
  const lines: string[] = [];
  const say = (s = '') => lines.push(s ? `    ${s}` : '');
  const headerVars = new Map<string, string>();
  let usesCookieHelper = false;

  kept.forEach((e, i) => {
    const available = vars.filter((v) => v.from < i);
    if (i > 0) {
      const prev = kept[i - 1];
      const gap = Date.parse(e.startedDateTime) - (Date.parse(prev.startedDateTime) + prev.time);
      if (gap >= MIN_THINK_MS) say(`await u.think(${Math.round(gap / 100) / 10});`);
    }
    const url = new URL(e.request.url);
    const sameOrigin = url.origin === sel.origin;
    const where = sameOrigin ? `${url.pathname}${url.search}` : url.href;
    const method = e.request.method.toUpperCase();
    const status = e.response.status;
    const redirect = e.response.redirectURL || header(e.response.headers, 'location');
    say(`// ${i + 1}. ${method} ${where}${status ? ` → ${status}${redirect ? ` (redirect to ${redirect})` : ''}` : ''}${sameOrigin ? '' : ' (another host: kept absolute)'}`);

    const opts: string[] = [];
    const hdrs: string[] = [];
    for (const h of e.request.headers) {
      const n = h.name.toLowerCase();
      if (n.startsWith(':') || n.startsWith('sec-') || DROPPED_HEADERS.has(n)) continue;
      const expr = templ(h.value, available);
      if (VARIABLE_HEADERS.has(n)) {
        const k = `${n}\n${expr}`;
        let name = headerVars.get(k);
        if (!name) {
          name = unique(taken, identifier([n]));
          headerVars.set(k, name);
          say(`const ${name} = ${expr};${expr.startsWith("'") ? ' // as recorded' : ''}`);
        }
        hdrs.push(key(n) === name ? name : `${key(n)}: ${name}`);
      } else hdrs.push(`${key(n)}: ${expr}`);
    }
    const named = groupIds(url.pathname);
    if (named !== url.pathname) opts.push(`name: ${lit(named)}`);
    if (hdrs.length > 0) opts.push(`headers: { ${hdrs.join(', ')} }`);
    const body = bodyExpr(e, available);
    const call = httpCall(method, templ(where, available), body, opts);
    say(`${responseUsed.has(i) ? `const res${i + 1} = ` : ''}await ${call};`);
    for (const v of vars.filter((x) => x.from === i)) {
      if ('json' in v.where) {
        say(`// ${v.name}: from the JSON body of response ${i + 1} (${method} ${url.pathname}), at ${v.where.json.join('.') || '(the body)'}; first sent by request ${v.firstUse + 1}`);
        say(`const ${v.name} = res${i + 1}.json<any>()${accessor(v.where.json)};`);
      } else {
        usesCookieHelper = true;
        say(`// ${v.name}: the cookie ${v.where.cookie} that response ${i + 1} (${method} ${url.pathname}) sets; first sent by request ${v.firstUse + 1}`);
        say(`const ${v.name} = cookieValue(res${i + 1}, ${lit(v.where.cookie)});`);
      }
    }
    say();
  });
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();

  const droppedHostsText = [...sel.droppedHosts].map(([h, n]) => `${h} (${n})`).join(', ');
  const name = path.basename(o.sourceName).replace(/\.har$/i, '') || 'recording';
  const code = [
    '/**',
    ` * Generated by \`loadfarm import har ${path.basename(o.sourceName)}\`: ${kept.length} requests of the recording, in recorded order.`,
    ` * Recorded against ${sel.origin}: paths are relative, so the target (or --target) replaces it.`,
    sel.droppedStatic > 0 ? ` * ${sel.droppedStatic} static assets dropped (--keep-static keeps them).` : undefined,
    droppedHostsText ? ` * Requests to other hosts dropped: ${droppedHostsText} (--include-host HOST keeps them).` : undefined,
    ' * Review the load, the think times and the recorded secrets before running it at scale.',
    ' */',
    `import { defineScenario${usesCookieHelper ? ', type HttpResponse' : ''} } from 'loadfarm';`,
    '',
    'export default defineScenario({',
    `  name: ${lit(name)},`,
    `  target: ${lit(sel.origin)},`,
    "  load: { phases: [{ duration: '1m', arrivalRate: 1 }] },",
    '  async user(u) {',
    ...lines,
    '  },',
    '});',
    ...(usesCookieHelper
      ? [
          '',
          '/** The value a response\'s Set-Cookie gives cookie `name` (empty when it sets none). */',
          'function cookieValue(res: HttpResponse, name: string): string {',
          "  const set = res.headers['set-cookie'];",
          '  for (const line of ([] as string[]).concat(set ?? [])) {',
          "    const pair = line.split(';')[0];",
          "    const eq = pair.indexOf('=');",
          '    if (eq > 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();',
          '  }',
          "  return '';",
          '}',
        ]
      : []),
    '',
  ]
    .filter((l) => l !== undefined)
    .join('\n');
  return { code, requests: kept.length, droppedStatic: sel.droppedStatic, droppedHosts: sel.droppedHosts, variables: vars.length, origin: sel.origin };
}

/** `u.http.get(url, { … })`, `u.http.post(url, body, { … })`, or `u.http.request(METHOD, …)` for other methods. */
function httpCall(method: string, url: string, body: string | undefined, opts: string[]): string {
  const options = opts.length > 0 ? `{ ${opts.join(', ')} }` : undefined;
  const m = method.toLowerCase();
  if (['post', 'put', 'patch'].includes(m)) return `u.http.${m}(${[url, body ?? 'undefined', ...(options ? [options] : [])].join(', ')})`;
  if (body === undefined && ['get', 'head', 'delete'].includes(m)) return `u.http.${m}(${[url, ...(options ? [options] : [])].join(', ')})`;
  const all = [...(body === undefined ? [] : [`body: ${body}`]), ...opts];
  return `u.http.request(${[lit(method), url, ...(all.length ? [`{ ${all.join(', ')} }`] : [])].join(', ')})`;
}

/** The request body as an expression: a JSON literal, a form or text as a string; undefined when none. */
function bodyExpr(e: HarEntry, vars: readonly Var[]): string | undefined {
  const pd = e.request.postData;
  if (!pd) return undefined;
  const mime = (pd.mimeType ?? '').toLowerCase();
  let text = pd.text;
  if (text === undefined && pd.params) text = pd.params.map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(p.value ?? '')}`).join('&');
  if (text === undefined || text === '') return undefined;
  if (mime.includes('json')) {
    try {
      return jsonLiteral(JSON.parse(text), vars, '    ');
    } catch {
      // A body labelled JSON that is not is sent as the recorded text.
    }
  }
  return templ(text, vars);
}

/** A variable name for a found value: its JSON key (with its parent for a bare `id`) or its cookie's name. */
function varName(f: Found, from: HarEntry): string {
  if ('cookie' in f.where) return identifier([f.where.cookie, 'cookie']);
  const keys = f.where.json.filter((p): p is string => typeof p === 'string');
  const last = keys[keys.length - 1];
  if (last === undefined) return 'value';
  if (/^(id|key|value)$/i.test(last)) {
    const parent = keys[keys.length - 2] ?? lastWord(from);
    if (parent) return identifier([singular(parent), last]);
  }
  return identifier([last]);
}

function lastWord(e: HarEntry): string | undefined {
  const segs = new URL(e.request.url).pathname.split('/').filter((s) => s && !/\d/.test(s));
  return segs[segs.length - 1];
}

function singular(w: string): string {
  return w.length > 3 && w.endsWith('s') ? w.slice(0, -1) : w;
}

function unique(taken: Set<string>, name: string): string {
  let n = name;
  for (let i = 2; taken.has(n); i++) n = `${name}${i}`;
  taken.add(n);
  return n;
}
