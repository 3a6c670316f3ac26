// Plain `ws`: -c connections, each sends a message and sends the next when the echo comes back, -d seconds.
// --timed also times every exchange into an HDR histogram (the same settings as loadfarm's).
import { parse, done, requireFromRoot } from './args.mjs';

const WebSocket = requireFromRoot('ws');
const hdr = requireFromRoot('hdr-histogram-js');
const o = parse();
const timed = o.flags.has('timed');
const h = timed ? hdr.build({ bitBucketSize: 64, lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3, useWebAssembly: false, autoResize: false }) : undefined;
let exchanges = 0;
let errors = 0;
const sockets = await Promise.all(
  Array.from({ length: o.c }, () => new Promise((resolve, reject) => {
    const ws = new WebSocket(o.url, { perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })),
);
const t0 = performance.now();
const end = t0 + o.d * 1000;
await Promise.all(
  sockets.map((ws) => new Promise((resolve) => {
    let sentAt = 0;
    const send = () => {
      if (performance.now() >= end) return resolve();
      if (timed) sentAt = performance.now();
      ws.send('ping');
    };
    ws.on('message', () => {
      if (timed) h.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
      exchanges++;
      send();
    });
    ws.on('error', () => {
      errors++;
      resolve();
    });
    send();
  })),
);
const seconds = (performance.now() - t0) / 1000;
for (const ws of sockets) ws.terminate();
done({ exchanges, errors, seconds, perSecond: exchanges / seconds, p99Us: h?.getValueAtPercentile(99) });
