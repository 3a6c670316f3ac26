import { createRng } from '../../../worker/engine/rng';
import { backoffCeiling, exponentialDelay, fullJitter, MAX_TIMER_MS, parseReconnect, RECONNECT_DEFAULTS } from '../../../worker/protocols/reconnect';

const policy = { baseMs: 100, capMs: 10_000 };

describe('full jitter backoff', () => {
  test('the ceiling doubles from base per attempt and stops at the cap', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => backoffCeiling(k, policy))).toEqual([100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000]);
    // Far past any overflow of 2^k: still the cap, never NaN or Infinity.
    expect(backoffCeiling(5000, policy)).toBe(10_000);
    expect(backoffCeiling(5000, { baseMs: 100, capMs: Infinity })).toBe(MAX_TIMER_MS);
  });

  test('a delay is within [0, ceiling): random 0 gives 0, random just under 1 gives just under the ceiling', () => {
    expect(fullJitter(3, policy, () => 0)).toBe(0);
    expect(fullJitter(3, policy, () => 0.999999)).toBeCloseTo(799.9992, 3);
    expect(fullJitter(50, policy, () => 0.5)).toBe(5000);
    const rng = createRng(42);
    for (let k = 0; k < 20; k++) {
      for (let i = 0; i < 500; i++) {
        const d = fullJitter(k, policy, rng.next);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(backoffCeiling(k, policy));
      }
    }
  });

  test('full jitter is uniform over the whole window (not "equal jitter" from half of it)', () => {
    const rng = createRng(7);
    const n = 20_000;
    const quarters = [0, 0, 0, 0];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const d = fullJitter(2, policy, rng.next); // window [0, 400)
      quarters[Math.floor(d / 100)]++;
      sum += d;
    }
    // Each quarter of the window gets a quarter of the delays, the lowest one included.
    for (const q of quarters) expect(Math.abs(q / n - 0.25)).toBeLessThan(0.015);
    expect(sum / n).toBeGreaterThan(190);
    expect(sum / n).toBeLessThan(210);
  });

  test('the same seed gives the same delays', () => {
    const a = createRng(99);
    const b = createRng(99);
    const c = createRng(100);
    const seq = (r: ReturnType<typeof createRng>) => Array.from({ length: 8 }, (_, k) => fullJitter(k, policy, r.next));
    const first = seq(a);
    expect(seq(b)).toEqual(first);
    expect(seq(c)).not.toEqual(first);
  });
});

describe('exponential delays (random disconnects)', () => {
  test('mean close to the requested mean; never negative; clamped to what a timer can wait', () => {
    const rng = createRng(3);
    const n = 20_000;
    let sum = 0;
    let below = 0;
    for (let i = 0; i < n; i++) {
      const d = exponentialDelay(1000, rng.next);
      expect(d).toBeGreaterThanOrEqual(0);
      sum += d;
      if (d < 1000) below++;
    }
    expect(sum / n).toBeGreaterThan(960);
    expect(sum / n).toBeLessThan(1040);
    // P(X < mean) = 1 - 1/e for an exponential distribution.
    expect(Math.abs(below / n - (1 - Math.exp(-1)))).toBeLessThan(0.015);
    expect(exponentialDelay(1000, () => 0)).toBe(0);
    expect(exponentialDelay(1e12, () => 0.999999)).toBe(MAX_TIMER_MS);
  });
});

describe('parseReconnect', () => {
  test('true takes the defaults; durations are read as durations', () => {
    expect(parseReconnect(true)).toEqual({ policy: RECONNECT_DEFAULTS, problems: [] });
    expect(parseReconnect({ base: '250ms', cap: '30s', maxAttempts: 5 }).policy).toEqual({ baseMs: 250, capMs: 30_000, maxAttempts: 5 });
    expect(parseReconnect({ maxAttempts: Infinity }).policy).toEqual({ baseMs: 100, capMs: 10_000, maxAttempts: Infinity });
    expect(parseReconnect(false)).toEqual({ problems: [] });
  });

  test('every problem is reported, each with the field and the value received', () => {
    const { policy: p, problems } = parseReconnect({ base: 'soon', cap: 0, maxAttempts: 2.5 }, 'reconnect');
    expect(p).toBeUndefined();
    expect(problems).toEqual([
      `reconnect.base: expected a duration above 0 like '500ms' or '10s', received "soon"`,
      `reconnect.cap: expected a duration above 0 like '500ms' or '10s', received 0`,
      'reconnect.maxAttempts: expected a whole number of at least 1 (or Infinity), received 2.5',
    ]);
  });
});
