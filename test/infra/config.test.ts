/** Pure parts of infra/: context parsing, names and facts, cost estimates. No synth. */
import { CONTEXT_DEFAULTS, SELF_DELETE_GRACE_MINUTES, parseContext, roundUpToMinute, selfDeleteAt } from '../../infra/config';
import { costPerHour, instancePriceUsdPerHour } from '../../infra/cost';
import {
  allParameterNames, checkEnvName, envFactsFromParameters, envNameFromStackName, envNames, parameterNames, stackName,
} from '../../infra/names';

const NOW = new Date('2026-11-23T10:00:30.500Z');

describe('parseContext', () => {
  test('defaults: env default, 2 on-demand c7i.large workers, 4 h to live rounded up to the minute', () => {
    const r = parseContext({}, NOW);
    expect(r).toEqual({
      ok: true,
      config: {
        env: 'default', workers: 2, instanceType: 'c7i.large', spot: false,
        expiresAt: '2026-11-23T14:01:00Z',
        vpcCidr: '10.64.0.0/16', maxAzs: 2, keepResults: false, privateWorkers: false,
        resultsExpirationDays: 30, workerBundle: 'dist/worker.js', account: undefined, region: undefined,
      },
    });
  });

  test('string values from -c are converted', () => {
    const r = parseContext({
      env: 'perf-1', workers: '10', instanceType: 'c7g.2xlarge', spot: 'true', ttlHours: '0.5',
      vpcCidr: '10.1.0.0/20', maxAzs: '3', keepResults: 'false', privateWorkers: 'false',
      resultsExpirationDays: '7', account: '123456789012', region: 'eu-west-1',
    }, NOW);
    expect(r.ok && r.config).toMatchObject({
      env: 'perf-1', workers: 10, instanceType: 'c7g.2xlarge', spot: true, expiresAt: '2026-11-23T10:31:00Z',
      vpcCidr: '10.1.0.0/20', maxAzs: 3, keepResults: false, privateWorkers: false, resultsExpirationDays: 7,
      account: '123456789012', region: 'eu-west-1',
    });
  });

  test('numbers and booleans from cdk.json are accepted', () => {
    const r = parseContext({ workers: 4, spot: true, ttlHours: 1 }, NOW);
    expect(r.ok && r.config).toMatchObject({ workers: 4, spot: true, expiresAt: '2026-11-23T11:01:00Z' });
  });

  test('an explicit expiresAt wins over ttlHours', () => {
    const r = parseContext({ ttlHours: '1', expiresAt: '2026-11-24T00:00:00Z' }, NOW);
    expect(r.ok && r.config.expiresAt).toBe('2026-11-24T00:00:00Z');
  });

  test('every problem is reported, one line each, naming the key and the value', () => {
    const r = parseContext({
      env: 'Bad_Name', workers: '0', instanceType: 'huge', spot: 'yes', ttlHours: '1000',
      vpcCidr: '10.0.0.0/8', maxAzs: '2.5', keepResults: 'maybe', account: '42', region: 'moon',
      expiresAt: 'tomorrow',
    }, NOW);
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems).toEqual([
      expect.stringMatching(/^context env: environment name must be .*; got "Bad_Name"$/),
      'context workers must be a whole number from 1 to 200; got "0"',
      'context instanceType must look like c7i.large (family.size); got "huge"',
      'context spot must be true or false; got "yes"',
      'context ttlHours must be a number from 0.25 to 168; got "1000"',
      'context vpcCidr must have a prefix length from /16 to /24; got "10.0.0.0/8"',
      'context maxAzs must be a whole number from 1 to 6; got "2.5"',
      'context keepResults must be true or false; got "maybe"',
      'context account must be a 12-digit AWS account id; got "42"',
      'context region must look like us-east-1; got "moon"',
      'context expiresAt must be an ISO 8601 time such as 2030-01-01T12:00:00Z; got "tomorrow"',
    ]);
    for (const p of problems) expect(p).not.toContain('\n');
  });

  test('expiresAt too soon or in the past is refused', () => {
    const r = parseContext({ expiresAt: '2026-11-23T10:05:00Z' }, NOW);
    expect(r.ok ? [] : r.problems).toEqual([
      expect.stringMatching(/^context expiresAt must be at least 10 minutes in the future .*got "2026-11-23T10:05:00Z"$/),
    ]);
  });

  test('expiresAt more than 168 hours ahead is refused: the cap holds for `cdk deploy -c expiresAt` too', () => {
    const r = parseContext({ expiresAt: '2099-12-31T00:00:00Z' }, NOW);
    expect(r.ok ? [] : r.problems).toEqual([
      expect.stringMatching(/^context expiresAt must be at most 168 hours \(7 days\) in the future .*got "2099-12-31T00:00:00Z"$/),
    ]);
    const edge = parseContext({ expiresAt: '2026-11-30T10:00:00Z' }, NOW);
    expect(edge.ok && edge.config.expiresAt).toBe('2026-11-30T10:00:00Z');
  });

  test('kept results have no expiry; an expiry given with keepResults is refused', () => {
    const kept = parseContext({ keepResults: 'true' }, NOW);
    expect(kept.ok && kept.config.resultsExpirationDays).toBeUndefined();
    expect(kept.ok && kept.config.keepResults).toBe(true);
    const both = parseContext({ keepResults: 'true', resultsExpirationDays: '30' }, NOW);
    expect(both.ok ? [] : both.problems).toEqual([
      'context resultsExpirationDays cannot be combined with keepResults=true (kept results never expire); got "30"',
    ]);
  });

  test('the stack deletes itself an hour after the expiry', () => {
    expect(SELF_DELETE_GRACE_MINUTES).toBe(60);
    expect(selfDeleteAt('2030-01-01T23:30:00Z')).toBe('2030-01-02T00:30:00Z');
  });

  test('a malformed CIDR is refused', () => {
    const r = parseContext({ vpcCidr: '10.300.0.0/16' }, NOW);
    expect(r.ok ? [] : r.problems).toEqual([
      `context vpcCidr must be an IPv4 CIDR such as ${CONTEXT_DEFAULTS.vpcCidr}; got "10.300.0.0/16"`,
    ]);
  });

  test('roundUpToMinute leaves whole minutes alone', () => {
    expect(roundUpToMinute(new Date('2030-01-01T00:00:00.000Z'))).toBe('2030-01-01T00:00:00Z');
    expect(roundUpToMinute(new Date('2030-01-01T00:00:00.001Z'))).toBe('2030-01-01T00:01:00Z');
  });
});

describe('names', () => {
  test('stack, parameters and tags follow from the environment name', () => {
    expect(envNames('perf')).toEqual({
      env: 'perf',
      stackName: 'loadfarm-perf',
      parameterPrefix: '/loadfarm/perf/',
      parameters: {
        bucket: '/loadfarm/perf/bucket',
        asg: '/loadfarm/perf/asg',
        region: '/loadfarm/perf/region',
        workers: '/loadfarm/perf/workers',
        'expires-at': '/loadfarm/perf/expires-at',
        'instance-type': '/loadfarm/perf/instance-type',
        spot: '/loadfarm/perf/spot',
      },
      tags: { env: 'loadfarm:env', expiresAt: 'loadfarm:expires-at' },
    });
    expect(stackName('default')).toBe('loadfarm-default');
  });

  test('environment names', () => {
    for (const ok of ['default', 'a', 'team-a-2', 'x'.repeat(32)]) expect(checkEnvName(ok)).toBeUndefined();
    for (const bad of ['', 'Default', '1abc', 'a_b', 'ends-', 'x'.repeat(33), 'a/b']) {
      expect(checkEnvName(bad)).toMatch(/^environment name must be/);
    }
  });

  test('envNameFromStackName recognises loadfarm stacks only', () => {
    expect(envNameFromStackName('loadfarm-perf')).toBe('perf');
    expect(envNameFromStackName('loadfarm-')).toBeUndefined();
    expect(envNameFromStackName('CDKToolkit')).toBeUndefined();
  });

  test('envFactsFromParameters reads what the stack publishes', () => {
    const n = parameterNames('perf');
    const params = [
      { Name: n.bucket, Value: 'loadfarm-perf-resultsbucket-abc' },
      { Name: n.asg, Value: 'loadfarm-perf-WorkersGroupASG-xyz' },
      { Name: n.region, Value: 'eu-west-1' },
      { Name: n.workers, Value: '4' },
      { Name: n['expires-at'], Value: '2030-01-01T00:00:00Z' },
      { Name: n['instance-type'], Value: 'c7i.large' },
      { Name: n.spot, Value: 'true' },
      { Name: '/loadfarm/perf/unrelated', Value: 'x' },
    ];
    expect(envFactsFromParameters('perf', params)).toEqual({
      ok: true,
      facts: {
        env: 'perf', bucket: 'loadfarm-perf-resultsbucket-abc', asg: 'loadfarm-perf-WorkersGroupASG-xyz',
        region: 'eu-west-1', workers: 4, expiresAt: '2030-01-01T00:00:00Z', instanceType: 'c7i.large', spot: true,
      },
    });
  });

  test('envFactsFromParameters reads the optional facts when published, and checks them', () => {
    const n = allParameterNames('perf');
    const base = (['bucket', 'asg', 'region', 'workers', 'expires-at', 'instance-type', 'spot'] as const)
      .map((k) => ({ Name: n[k], Value: k === 'workers' ? '2' : k === 'spot' ? 'false' : k === 'expires-at' ? '2030-01-01T00:00:00Z' : 'x' }));
    const r = envFactsFromParameters('perf', [
      ...base, { Name: n['keep-results'], Value: 'true' }, { Name: n['deletes-at'], Value: '2030-01-01T01:00:00Z' },
    ]);
    expect(r.ok && [r.facts.keepResults, r.facts.deletesAt]).toEqual([true, '2030-01-01T01:00:00Z']);
    const bad = envFactsFromParameters('perf', [...base, { Name: n['keep-results'], Value: 'yes' }]);
    expect(bad).toEqual({ ok: false, problems: ['SSM parameter /loadfarm/perf/keep-results must be true or false; got "yes"'] });
  });

  test('envFactsFromParameters lists every missing or malformed parameter', () => {
    const n = parameterNames('perf');
    const r = envFactsFromParameters('perf', [
      { Name: n.bucket, Value: 'b' }, { Name: n.workers, Value: 'four' }, { Name: n.spot, Value: 'yes' },
    ]);
    expect(r).toEqual({
      ok: false,
      problems: [
        'SSM parameter /loadfarm/perf/asg is missing',
        'SSM parameter /loadfarm/perf/region is missing',
        'SSM parameter /loadfarm/perf/expires-at is missing',
        'SSM parameter /loadfarm/perf/instance-type is missing',
        'SSM parameter /loadfarm/perf/workers must be a whole number; got "four"',
        'SSM parameter /loadfarm/perf/spot must be true or false; got "yes"',
      ],
    });
  });
});

describe('costPerHour', () => {
  test('on-demand: instance + root volume + public IPv4, per worker', () => {
    const c = costPerHour('c7i.large', 10, false);
    expect(c?.basis).toBe('on-demand list price');
    expect(c?.usdPerWorkerHour).toBeCloseTo(0.08925 + 16 * 0.08 / 730 + 0.005, 6);
    expect(c?.usdPerHour).toBeCloseTo(10 * (c?.usdPerWorkerHour ?? 0), 6);
    expect(c?.usdPerHourFixed).toBe(0);
  });

  test('spot is cheaper than on-demand', () => {
    const od = costPerHour('m7g.xlarge', 3, false)!;
    const spot = costPerHour('m7g.xlarge', 3, true)!;
    expect(spot.basis).toBe('spot estimate');
    expect(spot.usdPerHour).toBeLessThan(od.usdPerHour / 2);
  });

  test('private workers add NAT and interface endpoints, drop the public addresses', () => {
    const c = costPerHour('c6i.xlarge', 2, false, { privateWorkers: true, azs: 3 })!;
    expect(c.usdPerHourFixed).toBeCloseTo(0.045 + 0.005 + 3 * 3 * 0.01, 6);
    expect(c.usdPerWorkerHour).toBeCloseTo(0.17 + 16 * 0.08 / 730, 6);
  });

  test('sizes scale from large; unknown types give undefined', () => {
    expect(instancePriceUsdPerHour('c7i.4xlarge')).toBeCloseTo(0.714, 6);
    expect(instancePriceUsdPerHour('t3.micro')).toBeCloseTo(0.0104, 6);
    expect(costPerHour('z9.large', 1, false)).toBeUndefined();
    expect(costPerHour('c7i.hyper', 1, false)).toBeUndefined();
    expect(costPerHour('nonsense', 1, false)).toBeUndefined();
  });
});
