import { HealthMonitor } from '../../../worker/metrics/health';

/** The generator's own health, measured under a real event loop (no fake timers). */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Freezes the event loop for `ms` without using CPU (as a synchronous read of a slow disk does). */
function freeze(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Keeps the event loop busy for `ms`. */
function spin(ms: number) {
  const end = Date.now() + ms;
  while (Date.now() < end);
}

let monitor: HealthMonitor | undefined;
afterEach(() => monitor?.stop());

test('one 1.1 s freeze of the event loop flags the interval, though CPU and sustained lag stay low', async () => {
  monitor = new HealthMonitor();
  await sleep(2000);
  freeze(1100);
  await sleep(30); // the loop runs again before the snapshot is cut
  const h = monitor.take();
  expect(h.loopLagMaxMs).toBeGreaterThanOrEqual(1000);
  expect(h.cpuPct).toBeLessThan(50);
  expect(h.saturated).toBe(true);
  expect(h.saturatedBy).toEqual(['loop-stall']);
});

test('a 1.1 s busy loop in a 4 s interval flags it as a stall, and the next quiet interval is clean', async () => {
  monitor = new HealthMonitor();
  await sleep(3000);
  spin(1100);
  const h = monitor.take();
  expect(h.loopLagMaxMs).toBeGreaterThanOrEqual(1000);
  expect(h.saturated).toBe(true);
  expect(h.saturatedBy).toContain('loop-stall');
  await sleep(1200);
  const next = monitor.take();
  expect(next.saturated).toBe(false);
  expect(next.loopLagMaxMs).toBeLessThan(1000);
});

test('a short last interval after an idle run is folded with the one before: no false CPU alarm', async () => {
  monitor = new HealthMonitor();
  await sleep(1500);
  const idle = monitor.take();
  expect(idle.saturated).toBe(false);
  // What a worker does as its load ends: a burst of work, then the final snapshot 20-odd ms later.
  spin(20);
  const last = monitor.take();
  expect(last.cpuWindowMs).toBeGreaterThanOrEqual(1000);
  expect(last.cpuPct).toBeLessThan(20);
  expect(last.saturated).toBe(false);
  expect(last.saturatedBy).toEqual([]);
  expect(last.cores).toBeGreaterThanOrEqual(1);
});
