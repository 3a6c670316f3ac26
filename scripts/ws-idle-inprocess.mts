// Memory per idle WebSocket connection in one process, without a worker, a store or snapshots: plain
// `ws` against loadfarm's `u.ws.connect()` (test runtime), RSS, JS heap, external and what is outside
// the heap, per connection after two full GCs.
//   node --expose-gc --import tsx scripts/ws-idle-inprocess.mts "$PWD" raw 8000
//   node --expose-gc --import tsx scripts/ws-idle-inprocess.mts "$PWD" lf 8000
// (ulimit -n must exceed the count.) The echo target is bench/targets/ws-server.mjs, on loopback.
import { spawn } from 'node:child_process';
const [root, mode, nArg] = process.argv.slice(2);
const n = Number(nArg ?? 5000);
const server = spawn('node', [`${root}/bench/targets/ws-server.mjs`], { stdio: ['ignore', 'pipe', 'inherit'] });
const port: number = await new Promise((res) => server.stdout!.on('data', (d) => { const m = /listening (\d+)/.exec(String(d)); if (m) res(Number(m[1])); }));
const url = `ws://127.0.0.1:${port}`;
const gc = (globalThis as unknown as { gc(): void }).gc;
const mem = () => { gc(); gc(); const m = process.memoryUsage(); return m; };
const keep: unknown[] = [];
// Everything loaded and one connection made before the baseline, so that only connections are counted.
let open: () => Promise<unknown>;
if (mode === 'raw') {
  const { default: WebSocket } = await import(`${root}/node_modules/ws/index.js`);
  open = () => new Promise((r) => { const ws = new WebSocket(url, { perMessageDeflate: false }); keep.push(ws); ws.once('open', r); });
} else {
  const { createTestRuntime } = await import(`${root}/test/helpers/runtime.ts`);
  const rt = createTestRuntime({ target: url, timeoutMs: 20000 });
  let id = 0;
  open = async () => keep.push(await rt.user({ id: ++id }).ws.connect());
}
await open();
await new Promise((r) => setTimeout(r, 500));
const m0 = mem();
for (let i = 0; i < n; i += 500) await Promise.all(Array.from({ length: Math.min(500, n - i) }, open));
await new Promise((r) => setTimeout(r, 1000));
const m1 = mem();
const per = (k: keyof typeof m0) => ((m1[k] - m0[k]) / n / 1024).toFixed(2);
console.log(mode, 'KB/conn rss', per('rss'), 'heapTotal', per('heapTotal'), 'heapUsed', per('heapUsed'), 'external', per('external'), 'arrayBuffers', per('arrayBuffers'), 'native(rss-heapTotal)', ((m1.rss - m1.heapTotal - (m0.rss - m0.heapTotal)) / n / 1024).toFixed(2));
server.kill(); process.exit(0);
