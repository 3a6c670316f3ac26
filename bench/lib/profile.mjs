// Summarises a V8 .cpuprofile: self time by function and by source file (bundled frames are
// mapped back through the bundle's source map, so dist/worker.js shows as worker/… and node_modules/…),
// and inclusive time of the frames that matter.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const maps = new Map();
function sourceMapFor(file) {
  if (maps.has(file)) return maps.get(file);
  let map = null;
  try {
    const text = fs.readFileSync(`${file}.map`, 'utf8');
    map = new SourceMap(JSON.parse(text));
  } catch {
    map = null;
  }
  maps.set(file, map);
  return map;
}

/** Where a frame's code comes from: the original file (through a source map) or the script itself. */
function origin(frame, root) {
  let url = frame.url || '';
  if (url.startsWith('file://')) url = fileURLToPath(url);
  if (!url) return { file: `(${frame.functionName || 'program'})`, line: 0 };
  const map = url.endsWith('.js') ? sourceMapFor(url) : null;
  if (map && frame.lineNumber >= 0) {
    const e = map.findEntry(frame.lineNumber, frame.columnNumber);
    if (e && e.originalSource) {
      let src = e.originalSource;
      if (src.startsWith('file://')) src = fileURLToPath(src);
      else src = path.resolve(path.dirname(url), src);
      // A build's node_modules is a link to the project's: name packages from node_modules/ on.
      const nm = src.lastIndexOf('/node_modules/');
      return { file: nm >= 0 ? src.slice(nm + 1) : path.relative(root, src), line: e.originalLine + 1 };
    }
  }
  return { file: url.startsWith('node:') ? url : path.relative(root, url) || url, line: frame.lineNumber + 1 };
}

/** A package-level bucket for a file: worker/protocols/http.ts, undici, ws, node:internal, (gc), … */
export function bucketOf(file) {
  const nm = file.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = file.slice(nm + 'node_modules/'.length).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  if (file.startsWith('node:')) return file.split('/').slice(0, 2).join('/');
  return file;
}

/**
 * @returns {{ totalMs, functions: {name, file, line, selfMs, selfPct}[], files: {file, selfMs, selfPct}[], inclusive: (pred) => number }}
 */
export function summarise(profileFile, root = process.cwd()) {
  const p = JSON.parse(fs.readFileSync(profileFile, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + Math.max(0, dt));
  }
  let totalUs = 0;
  let idleUs = 0;
  const fn = new Map();
  const files = new Map();
  const info = new Map();
  for (const n of p.nodes) {
    const o = origin(n.callFrame, root);
    info.set(n.id, { name: n.callFrame.functionName || '(anonymous)', ...o });
    const us = selfUs.get(n.id) ?? 0;
    if (n.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    totalUs += us;
    const key = `${n.callFrame.functionName || '(anonymous)'} ${o.file}:${o.line}`;
    fn.set(key, { name: n.callFrame.functionName || '(anonymous)', file: o.file, line: o.line, selfUs: (fn.get(key)?.selfUs ?? 0) + us });
    const b = bucketOf(o.file);
    files.set(b, (files.get(b) ?? 0) + us);
  }
  const pct = (us) => Math.round((us / Math.max(1, totalUs)) * 1000) / 10;
  /** Busy time (µs) of samples with a frame matching `pred` on their stack, each sample once. */
  const inclusive = (pred) => {
    let us = 0;
    for (const [id, t] of selfUs) {
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        if (pred(info.get(cur))) {
          us += t;
          break;
        }
      }
    }
    return us / 1000;
  };
  return {
    totalMs: totalUs / 1000,
    idleMs: idleUs / 1000,
    functions: [...fn.values()].sort((a, b) => b.selfUs - a.selfUs).map((f) => ({ ...f, selfMs: f.selfUs / 1000, selfPct: pct(f.selfUs) })),
    files: [...files.entries()].sort((a, b) => b[1] - a[1]).map(([file, us]) => ({ file, selfMs: us / 1000, selfPct: pct(us) })),
    inclusive: (pred) => {
      const ms = inclusive(pred);
      return { ms, pct: pct(ms * 1000) };
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const s = summarise(process.argv[2], process.argv[3] ?? process.cwd());
  console.log(`busy ${s.totalMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms`);
  console.log('by file / package (self):');
  for (const f of s.files.slice(0, 25)) console.log(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.file}`);
  console.log('by function (self):');
  for (const f of s.functions.slice(0, 40)) console.log(`  ${f.selfPct.toFixed(1).padStart(5)}%  ${f.name}  ${f.file}:${f.line}`);
}
