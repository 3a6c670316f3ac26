import { parseDuration, formatDuration } from '../../worker/scenario/duration';
import { validateScenario } from '../../worker/scenario/validate';
import { parseThreshold } from '../../worker/scenario/thresholds';

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
