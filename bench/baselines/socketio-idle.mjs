// Plain socket.io-client: open -n idle connections (websocket transport, one Manager each, no
// reconnection), at most 200 connecting at once, and report the RSS each one costs, as ws-idle.mjs.
import { parse, done, memory, requireFromRoot } from './args.mjs';

const { io } = requireFromRoot('socket.io-client');
const o = parse();
const held = [];
const open = () => new Promise((resolve, reject) => {
  const s = io(o.url, { transports: ['websocket'], forceNew: true, reconnection: false, perMessageDeflate: false, timeout: 20_000 });
  s.once('connect', () => {
    held.push(s);
    resolve();
  });
  s.once('connect_error', (err) => {
    s.close();
    reject(err);
  });
});
await open();
const before = await memory();
if (o.flags.has('heap')) (await import('node:v8')).writeHeapSnapshot(`/tmp/${process.pid}-before.heapsnapshot`);
let next = 1;
let failed = 0;
const t0 = performance.now();
await Promise.all(Array.from({ length: 200 }, async () => {
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
