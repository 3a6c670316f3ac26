import { costLine, formatSpan, formatUsd, formatUtc, timeLeft } from '../../../cli/aws/format';
import { pollUntil } from '../../../cli/aws/poll';
import { costPerHour } from '../../../infra/cost';
import { fakeClock } from './helpers';

describe('formatting for the AWS commands', () => {
  test('time spans round down to the minute', () => {
    expect(formatSpan(0)).toBe('0m');
    expect(formatSpan(59_999)).toBe('0m');
    expect(formatSpan(45 * 60_000)).toBe('45m');
    expect(formatSpan(3 * 3_600_000 + 12 * 60_000 + 59_000)).toBe('3h 12m');
    expect(formatSpan(4 * 3_600_000)).toBe('4h');
    expect(formatSpan(50 * 3_600_000)).toBe('2d 2h');
    expect(formatSpan(-5)).toBe('0m');
  });

  test('time left until an expiry, or since it', () => {
    const now = new Date('2030-01-01T12:00:00Z');
    expect(timeLeft('2030-01-01T15:12:00Z', now)).toBe('3h 12m left');
    expect(timeLeft('2030-01-01T11:40:00Z', now)).toBe('expired 20m ago');
    expect(timeLeft('2030-01-01T12:00:00Z', now)).toBe('expired 0m ago');
    expect(timeLeft('not a time', now)).toBe('unknown');
    expect(timeLeft(undefined, now)).toBe('unknown');
  });

  test('UTC times and dollars', () => {
    expect(formatUtc('2030-01-01T16:05:00Z')).toBe('2030-01-01 16:05 UTC');
    expect(formatUsd(0.1899)).toBe('$0.19');
    expect(formatUsd(0.004)).toBe('$0.004');
    expect(formatUsd(12)).toBe('$12.00');
  });

  test('the cost line uses costPerHour and the time to live', () => {
    const perHour = costPerHour('c7i.large', 3, false)!.usdPerHour;
    const line = costLine({ instanceType: 'c7i.large', workers: 3, spot: false, privateWorkers: false, ttlHours: 4 });
    expect(line).toBe(
      `about ${formatUsd(perHour)}/hour (on-demand list price, us-east-1 prices; data transfer not included), ` +
        `≈ ${formatUsd(perHour * 4)} for the 4h time to live`,
    );
    expect(costLine({ instanceType: 'c7i.large', workers: 3, spot: true, privateWorkers: false, ttlHours: 0.5 })).toContain(
      'spot estimate',
    );
    expect(costLine({ instanceType: 'c7i.large', workers: 3, spot: true, privateWorkers: false, ttlHours: 0.5 })).toContain(
      'for the 30m time to live',
    );
    expect(costLine({ instanceType: 'zz9.huge', workers: 1, spot: false, privateWorkers: false, ttlHours: 1 })).toBe(
      "unknown: zz9.huge is not in loadfarm's price table (see infra/cost.ts)",
    );
  });
});

describe('pollUntil', () => {
  test('backs off between checks and stops when done', async () => {
    const clock = fakeClock();
    let n = 0;
    const result = await pollUntil({
      clock,
      timeoutMs: 60_000,
      initialDelayMs: 1000,
      factor: 2,
      maxDelayMs: 3000,
      check: async () => ({ done: ++n === 5, value: n }),
    });
    expect(result).toEqual({ done: true, value: 5, elapsedMs: 1000 + 2000 + 3000 + 3000 });
    expect(clock.slept).toEqual([1000, 2000, 3000, 3000]);
  });

  test('never sleeps past the deadline, and looks once more at it', async () => {
    const clock = fakeClock();
    let n = 0;
    const result = await pollUntil({ clock, timeoutMs: 2500, initialDelayMs: 1000, factor: 2, check: async () => ({ done: false, value: ++n }) });
    expect(clock.slept).toEqual([1000, 1500]);
    expect(result).toEqual({ done: false, last: 3, elapsedMs: 2500 });
  });

  test('a zero timeout checks exactly once', async () => {
    const clock = fakeClock();
    const result = await pollUntil({ clock, timeoutMs: 0, check: async () => ({ done: false, value: 'x' }) });
    expect(result).toEqual({ done: false, last: 'x', elapsedMs: 0 });
    expect(clock.slept).toEqual([]);
  });
});
