// What an idle virtual user costs on the JS heap, without any connection: the engine runs N users
// that think until the load ends, and the heap after a full GC is compared with 1 user's.
//   npx tsx --expose-gc scripts/user-heap.ts            bytes per user
//   SNAP=1 npx tsx --expose-gc scripts/user-heap.ts     also writes /tmp/user-heap-{1,20001}.heapsnapshot;
//   node bench/lib/heap-types.mjs /tmp/user-heap-1.heapsnapshot /tmp/user-heap-20001.heapsnapshot 20000
//                                                       then gives the bytes per user by constructor
import { Engine } from '../worker/engine/engine';
import { Recorder } from '../worker/metrics/recorder';
import { createHttpDispatcher } from '../worker/protocols/http-dispatcher';
import { splitLoad } from '../worker/plan/split';
import { defineScenario } from '../worker/scenario/define';
import type { User } from '../worker/scenario/types';

async function measure(n: number): Promise<number> {
  const recorder = new Recorder(0);
  const cut = new AbortController();
  const scenario = defineScenario({
    name: 't',
    load: { users: n, duration: '3s' },
    async user(u: User) {
      if (u.iteration > 0) return u.think(u.endsIn() / 1000);
      await u.think(u.endsIn() / 1000);
    },
  });
  const runtime = { worker: 0, target: 'http://127.0.0.1:9', recorder, signal: cut.signal, dispatcher: createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder }), params: {}, timeoutMs: 1000, sourceAddress: () => undefined };
  const engine = new Engine({ scenario, share: splitLoad(scenario.load, 1)[0].load, identity: { first: 0, count: n }, seed: 1, runtime, graceMs: 100, cut: () => cut.abort() });
  const done = engine.run();
  await new Promise((r) => setTimeout(r, 1500));
  (globalThis as unknown as { gc(): void }).gc();
  const heap = process.memoryUsage().heapUsed;
  if (process.env.SNAP) require('v8').writeHeapSnapshot(`/tmp/user-heap-${n}.heapsnapshot`);
  engine.stop();
  cut.abort();
  await done;
  return heap;
}
(async () => {
  const a = await measure(1);
  const b = await measure(20001);
  console.log(`heap per idle user: ${((b - a) / 20000).toFixed(0)} B`);
})();
