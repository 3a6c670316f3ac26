// Plain node:http with a keep-alive Agent of -c sockets, -c loops of GET + read the body, -d seconds.
import * as http from 'node:http';
import { parse, done } from './args.mjs';

const o = parse();
const agent = new http.Agent({ keepAlive: true, maxSockets: o.c });
let requests = 0;
let errors = 0;
const end = performance.now() + o.d * 1000;
const once = () =>
  new Promise((resolve) => {
    const req = http.get(o.url, { agent }, (res) => {
      res.on('data', () => {});
      res.on('end', () => {
        requests++;
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
  });
async function loop() {
  while (performance.now() < end) await once();
}
const t0 = performance.now();
await Promise.all(Array.from({ length: o.c }, loop));
const seconds = (performance.now() - t0) / 1000;
agent.destroy();
done({ requests, errors, seconds });
