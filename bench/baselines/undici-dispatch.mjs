// undici's low-level API: one Pool of -c connections, -c loops of `dispatch` with a handler that
// keeps the body's chunks (no AbortSignal, no Readable stream), -d seconds. What an HTTP client
// built on undici pays at the least.
import { parse, done, requireFromRoot } from './args.mjs';

const { Pool } = requireFromRoot('undici');
const o = parse();
const u = new URL(o.url);
const pool = new Pool(u.origin, { connections: o.c, keepAliveTimeout: 30_000 });
let requests = 0;
let errors = 0;
const end = performance.now() + o.d * 1000;
const once = () =>
  new Promise((resolve) => {
    const chunks = [];
    let status = 0;
    pool.dispatch(
      { path: u.pathname, method: 'GET' },
      {
        onConnect() {},
        onHeaders(statusCode) {
          status = statusCode;
          return true;
        },
        onData(chunk) {
          chunks.push(chunk);
          return true;
        },
        onComplete() {
          Buffer.concat(chunks);
          if (status > 0) requests++;
          resolve();
        },
        onError() {
          errors++;
          resolve();
        },
      },
    );
  });
async function loop() {
  while (performance.now() < end) await once();
}
const t0 = performance.now();
await Promise.all(Array.from({ length: o.c }, loop));
const seconds = (performance.now() - t0) / 1000;
await pool.close();
done({ requests, errors, seconds });
