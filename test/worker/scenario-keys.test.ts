import { validateScenario } from '../../worker/scenario/validate';
import { defineScenario } from '../../worker/scenario/define';
import { editDistance, nearest } from '../../worker/scenario/keys';

const user = async () => {};

describe('unknown scenario keys', () => {
  it('names a misspelt key in load and suggests the right one, and says where grace goes', () => {
    const problems = validateScenario({ name: 'a', load: { users: 1, duration: '2s', rampup: '1s', gracePeriod: '1s' }, user });
    expect(problems).toEqual([
      'load.rampup: unknown key — did you mean rampUp?',
      'load.gracePeriod: unknown key — did you mean grace? (grace goes at the top level of the scenario, next to load)',
    ]);
  });

  it('refuses grace inside load: it belongs at the top level', () => {
    expect(validateScenario({ name: 'a', load: { users: 1, duration: '2s', grace: '1s' }, user })).toEqual([
      'load.grace: unknown key — grace goes at the top level of the scenario, next to load',
    ]);
  });

  it('checks every object: top level, open load, phases, flows, http', () => {
    const problems = validateScenario(
      defineScenario({
        name: 'a',
        load: { phases: [{ duration: '1s', arrivalRate: 1, rampUp: 5 } as never], maxusers: 3 } as never,
        flows: [{ name: 'f', wieght: 2, user } as never],
        http: { timeout: '1s', conections: 4 } as never,
        treshold: {},
        duration: '1m',
      } as never),
    );
    expect(problems).toEqual([
      'treshold: unknown key — did you mean thresholds?',
      'duration: unknown key — duration goes inside load',
      'load.maxusers: unknown key — did you mean maxUsers?',
      'load.phases[0].rampUp: unknown key — did you mean rampTo?',
      'flows[0].wieght: unknown key — did you mean weight?',
      'http.conections: unknown key — did you mean connections?',
    ]);
  });

  it('lists the keys when nothing is close, and hints when the model key itself is misspelt', () => {
    expect(validateScenario({ name: 'a', load: { users: 1, duration: 1, zzz: 1 }, user })).toEqual([
      'load.zzz: unknown key — expected one of users, duration, rampUp, backoff',
    ]);
    const problems = validateScenario({ name: 'a', load: { Users: 3, duration: '1m' }, user });
    expect(problems).toContain('load.Users: unknown key — did you mean users?');
  });

  it('accepts every documented key, and the defineScenario brand', () => {
    expect(
      validateScenario(
        defineScenario({
          name: 'a',
          target: 'http://127.0.0.1:1',
          load: { phases: [{ name: 'p', duration: '1s', arrivalRate: 1, rampTo: 2 }], maxUsers: 5 },
          thresholds: { errors: ['rate < 0.1'] },
          flows: [{ name: 'f', weight: 1, user }],
          http: { timeout: '1s', connections: 2 },
          grace: '1s',
        }),
      ),
    ).toEqual([]);
  });

  it('measures distance with swaps, case aside', () => {
    expect(editDistance('wieght', 'weight')).toBe(1);
    expect(nearest('RAMPUP', ['rampUp', 'users'])).toBe('rampUp');
    expect(nearest('xyz', ['rampUp', 'users'])).toBeUndefined();
  });
});
