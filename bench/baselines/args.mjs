// Flags shared by the baseline scripts: -c connections, -d seconds, -n count, then the URL.
import { createRequire } from 'node:module';

export const requireFromRoot = createRequire(new URL('../../package.json', import.meta.url));

export function parse(argv = process.argv.slice(2)) {
  const o = { c: 50, d: 10, n: 1000, url: undefined, flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c') o.c = Number(argv[++i]);
    else if (a === '-d') o.d = Number(argv[++i]);
    else if (a === '-n') o.n = Number(argv[++i]);
    else if (a.startsWith('--')) o.flags.add(a.slice(2));
    else o.url = a;
  }
  if (!o.url) throw new Error('a target URL is needed');
  return o;
}

/** Prints the result as one JSON line and leaves. */
export function done(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.exit(0);
}

/** Full GC (when run with --expose-gc), then memory. */
export async function memory() {
  for (let i = 0; i < 3; i++) {
    globalThis.gc?.();
    await new Promise((r) => setTimeout(r, 50));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers };
}
