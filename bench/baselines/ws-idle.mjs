// Plain `ws`: open -n idle connections (no compression), at most 500 dialing at once, and report
// the RSS each one costs: (RSS with n − RSS with 1) / (n − 1), both after a full GC.
// Run with --expose-gc. --heap writes heap snapshots (before, after) to /tmp/<pid>-*.heapsnapshot. --state adds a small object per connection, like a virtual user's.
import { parse, done, memory, requireFromRoot } from './args.mjs';

const WebSocket = requireFromRoot('ws');
const o = parse();
const held = [];
const open = () => new Promise((resolve, reject) => {
  const ws = new WebSocket(o.url, { perMessageDeflate: false });
  ws.once('open', () => {
    ws.on('message', () => {});
    ws.on('error', () => {});
    held.push(ws);
    resolve();
  });
  ws.once('error', reject);
});
await open();
const before = await memory();
if (o.flags.has('heap')) (await import('node:v8')).writeHeapSnapshot(`/tmp/${process.pid}-before.heapsnapshot`);
let next = 1;
let failed = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: 500 }, async () => {
  while (next < o.n) {
    next++;
    await open().catch(() => failed++);
  }
}));
const dialSeconds = (performance.now() - t0) / 1000;
await new Promise((r) => setTimeout(r, 1000));
const after = await memory();
if (o.flags.has('heap')) (await import('node:v8')).writeHeapSnapshot(`/tmp/${process.pid}-after.heapsnapshot`);
const n = held.length;
done({ connections: n, failed, dialSeconds, before, after, rssPerConn: (after.rss - before.rss) / (n - 1), heapPerConn: (after.heapUsed - before.heapUsed) / (n - 1) });
