// Plain node:net: -c loops of connect, then end() (the next dial once the FIN is written), -d seconds.
// With --hold: dial -n connections at once and report how fast they were all established.
import * as net from 'node:net';
import { parse, done } from './args.mjs';

const o = parse();
const u = new URL(o.url);
const host = u.hostname;
const port = Number(u.port);
let connects = 0;
let errors = 0;

if (o.flags.has('hold')) {
  const t0 = performance.now();
  const sockets = [];
  await new Promise((resolve) => {
    let settled = 0;
    for (let i = 0; i < o.n; i++) {
      const s = net.connect({ host, port, noDelay: true });
      sockets.push(s);
      s.once('connect', () => {
        connects++;
        if (++settled === o.n) resolve();
      });
      s.once('error', () => {
        errors++;
        if (++settled === o.n) resolve();
      });
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  for (const s of sockets) s.destroy();
  done({ connects, errors, seconds, perSecond: connects / seconds });
}

const end = performance.now() + o.d * 1000;
const once = () =>
  new Promise((resolve) => {
    const s = net.connect({ host, port, noDelay: true });
    s.on('data', () => {});
    s.once('error', () => {
      errors++;
      resolve();
    });
    s.once('connect', () => {
      connects++;
      s.end(resolve);
    });
  });
async function loop() {
  while (performance.now() < end) {
    await once();
    // Like a closed-model user, yield a turn between journeys.
    await new Promise((r) => setImmediate(r));
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: o.c }, loop));
const seconds = (performance.now() - t0) / 1000;
done({ connects, errors, seconds, perSecond: connects / seconds });
