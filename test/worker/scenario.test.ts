import { parseDuration, formatDuration } from '../../worker/scenario/duration';
import { validateScenario } from '../../worker/scenario/validate';
import { parseThreshold } from '../../worker/scenario/thresholds';
import { LIMITS, MAX_RUN_SPAN_MS, TIMER_MAX_MS } from '../../worker/scenario/limits';
import { HARD_STOP_SLACK_MS } from '../../cli/plan';

const user = async () => {};

describe('durations', () => {
  it.each([
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['500ms', 500],
    ['1m30s', 90_000],
    [45, 45_000],
    ['1.5s', 1500],
    ['10', 10_000],
  ])('%p is %p ms', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['fast', '', '3 weeks', '-1s', '5x', null, {}, -3, NaN])('%p is not a duration', (input) => expect(parseDuration(input)).toBeUndefined());

  it('formats for people', () => {
    expect(formatDuration(950)).toBe('950ms');
    expect(formatDuration(12_500)).toBe('12.5s');
    expect(formatDuration(200_000)).toBe('3m20s');
    expect(formatDuration(3_900_000)).toBe('1h5m');
  });
});

describe('validateScenario', () => {
  it('accepts both load models, user or flows', () => {
    expect(validateScenario({ name: 'a', load: { phases: [{ duration: '1s', arrivalRate: 1, rampTo: 5 }], maxUsers: 10 }, user })).toEqual([]);
    expect(validateScenario({ name: 'a', load: { users: 3, duration: 10, rampUp: '2s' }, flows: [{ name: 'x', weight: 2, user }] })).toEqual([]);
  });

  it('reports every problem with where and what it got', () => {
    const problems = validateScenario({
      name: '',
      target: 'ftp://x',
      load: { phases: [{ duration: '1s', arrivalRate: 1 }, { duration: 'soon', arrivalRate: 'fast' }], maxUsers: 0 },
      thresholds: { 'http.GET /': ['p(99) < 250', 'p99 under 250'] },
    });
    expect(problems).toEqual([
      'name: expected a non-empty string, got ""',
      'target: expected a URL like http://127.0.0.1:8080, ws://host:port or tcp://host:port (scheme http, https, ws, wss or tcp), got "ftp://x"',
      `load.phases[1].duration: expected a duration > 0 like '30s', '2m' or 60, got "soon"`,
      'load.phases[1].arrivalRate: expected a number >= 0, got "fast"',
      'load.maxUsers: expected a whole number >= 1, got 0',
      'user: expected an async function (u) => { … } or flows: [{ name, weight, user }], got nothing',
      `thresholds['http.GET /'][1]: expected an expression like 'p(99) < 250', 'avg < 100', 'max <= 2000', 'count > 10' or 'rate < 0.01', got "p99 under 250"`,
    ]);
  });

  it('names the closed model fields', () => {
    expect(validateScenario({ name: 'a', load: { users: 2.5, duration: 0 }, user })).toEqual([
      'load.users: expected a whole number >= 1, got 2.5',
      "load.duration: expected a duration > 0 like '5m', got 0",
    ]);
  });

  it('refuses a load that is neither model, both journeys, and flows without weight', () => {
    expect(validateScenario({ name: 'a', load: { rps: 5 }, user })[0]).toMatch(/^load: expected \{ phases/);
    expect(validateScenario({ name: 'a', load: { users: 1, duration: 1 }, user, flows: [] })).toEqual(['user: expected either user or flows, not both, got "both"']);
    expect(validateScenario({ name: 'a', load: { users: 1, duration: 1 }, flows: [{ name: 'f', weight: 0, user }] })).toEqual(['flows: expected at least one flow with weight > 0, got "all weights 0"']);
    expect(validateScenario(undefined)).toEqual(['scenario: expected the object returned by defineScenario({...}) as the default export, got nothing']);
  });
});

describe('upper bounds', () => {
  it('refuses a 25-day load, a 1e9 arrival rate held for a million hours, and each bound names its limit', () => {
    expect(validateScenario({ name: 'a', load: { users: 1, duration: '25d' }, user })).toEqual([
      'load.duration: expected a duration at most 168h (the longest load), got "25d"',
    ]);
    expect(validateScenario({ name: 'a', load: { phases: [{ duration: '1000000h', arrivalRate: 1e9 }] }, user })).toEqual([
      'load.phases[0].duration: expected a duration at most 168h (the longest load), got "1000000h"',
      'load.phases[0].arrivalRate: expected a number at most 1000000 (new users per second across the farm), got 1000000000',
    ]);
  });

  it('bounds the sum of the phases, rampTo, rampUp, grace, http.timeout and users', () => {
    const problems = validateScenario({
      name: 'a',
      load: { phases: [{ duration: '160h', arrivalRate: 1 }, { duration: '9h', arrivalRate: 1, rampTo: 2e6 }] },
      user,
      grace: '2h',
      http: { timeout: 5000 },
    });
    expect(problems).toEqual([
      'load.phases[1].rampTo: expected a number at most 1000000 (new users per second across the farm), got 2000000',
      'load.phases: expected phases lasting at most 168h (the longest load) in all, got "169h in all"',
      "grace: expected a duration like '10s', at most 1h (the longest grace), got \"2h\"",
      "http.timeout: expected a duration > 0 like '30s' (a number is seconds), at most 1h (the longest timeout), got 5000",
    ]);
    expect(validateScenario({ name: 'a', load: { users: 2e7, duration: '1m', rampUp: '2m' }, user })).toEqual([
      'load.users: expected a number at most 10000000 (users across the farm), got 20000000',
      'load.rampUp: expected a duration no longer than load.duration (1m), got "2m"',
    ]);
  });

  it('checks the closed model\'s backoff: false or bounded { min, max }', () => {
    const closed = (backoff: unknown) => validateScenario({ name: 'a', load: { users: 1, duration: '1m', backoff }, user });
    expect(closed(false)).toEqual([]);
    expect(closed({ min: '1s', max: '30s' })).toEqual([]);
    expect(closed({ min: '10s', max: '2h', maxx: 1 })).toEqual([
      'load.backoff.maxx: unknown key — did you mean max?',
      'load.backoff.max: expected a duration at most 1h (the longest backoff), got "2h"',
    ]);
    expect(closed({ min: '10s', max: '1s' })).toEqual(['load.backoff.max: expected a duration no shorter than load.backoff.min (10s), got "1s"']);
    expect(closed(true)).toEqual([`load.backoff: expected false or { min: '1s', max: '30s' }, got true`]);
  });

  it('accepts the limits themselves', () => {
    expect(validateScenario({ name: 'a', load: { users: LIMITS.users, duration: '24h', rampUp: '24h' }, user, grace: '1h', http: { timeout: '1h' } })).toEqual([]);
    expect(validateScenario({ name: 'a', load: { phases: [{ duration: '12h', arrivalRate: 1e6 }, { duration: '12h', arrivalRate: 0, rampTo: 1e6 }], maxUsers: 1e7 }, user })).toEqual([]);
  });

  it('keeps every timer of the longest run under Node\'s 32-bit limit and the SSM 48 h execution timeout', () => {
    // A worker's hard stop is load + grace + slack after its own start.
    expect(LIMITS.loadMs + LIMITS.graceMs + HARD_STOP_SLACK_MS).toBeLessThanOrEqual(TIMER_MAX_MS);
    // The CLI follows a run until the last worker's deadline: a timer of the longest run span.
    // (On the AWS farm, cli/run/cloud.ts refuses a run past SSM's 172,800 s execution timeout.)
    expect(MAX_RUN_SPAN_MS + HARD_STOP_SLACK_MS + 60_000).toBeLessThanOrEqual(TIMER_MAX_MS);
  });
});

describe('parseThreshold', () => {
  it('parses every form', () => {
    expect(parseThreshold('p(99) < 250')).toEqual({ stat: { kind: 'percentile', p: 99 }, op: '<', value: 250 });
    expect(parseThreshold('p(99.9)<=1e3')).toEqual({ stat: { kind: 'percentile', p: 99.9 }, op: '<=', value: 1000 });
    expect(parseThreshold('rate < 0.01')).toEqual({ stat: { kind: 'rate' }, op: '<', value: 0.01 });
    expect(parseThreshold('count >= 10')).toMatchObject({ stat: { kind: 'count' }, op: '>=' });
    expect(parseThreshold('avg != 3')).toMatchObject({ stat: { kind: 'avg' }, op: '!=' });
  });
  it('refuses the rest', () => {
    expect(parseThreshold('p(0) < 1')).toHaveProperty('problem');
    expect(parseThreshold('p(101) < 1')).toHaveProperty('problem');
    expect(parseThreshold('median < 1')).toHaveProperty('problem');
    expect(parseThreshold('p(99) < fast')).toHaveProperty('problem');
  });
});
