// Plain undici: one Pool of -c keep-alive connections, -c loops of `request` + read the body, -d seconds.
import { parse, done, requireFromRoot } from './args.mjs';

const { Pool } = requireFromRoot('undici');
const o = parse();
const u = new URL(o.url);
const pool = new Pool(u.origin, { connections: o.c, keepAliveTimeout: 30_000 });
let requests = 0;
let errors = 0;
const end = performance.now() + o.d * 1000;
async function loop() {
  while (performance.now() < end) {
    try {
      const res = await pool.request({ path: u.pathname, method: 'GET' });
      await res.body.arrayBuffer();
      requests++;
    } catch {
      errors++;
    }
  }
}
const t0 = performance.now();
await Promise.all(Array.from({ length: o.c }, loop));
const seconds = (performance.now() - t0) / 1000;
await pool.close();
done({ requests, errors, seconds });
