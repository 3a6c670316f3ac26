import { createHttpDispatcher } from '../../worker/protocols/http-dispatcher';
import { Engine, backoffMs, closedBackoff } from '../../worker/engine/engine';
import { ArrivalSchedule } from '../../worker/engine/schedule';
import { Recorder } from '../../worker/metrics/recorder';
import { decodeHistogram } from '../../worker/metrics/histogram';
import { splitLoad, normalisePhases } from '../../worker/plan/split';
import { defineScenario } from '../../worker/scenario/define';
import type { Runtime } from '../../worker/engine/scope';
import type { ScenarioConfig, User } from '../../worker/scenario/types';
import type { Health } from '../../worker/metrics/snapshot';
import { startHttpServer, startTcpServer, startWsServer } from '../helpers/servers';

const health: Health = { cpuPct: 0, loopLagP99Ms: 0, loopLagMaxMs: 0, rssMb: 0, saturated: false };

function runtime(recorder: Recorder, cut: AbortController): Runtime {
  return {
    worker: 0,
    target: 'http://127.0.0.1:9',
    recorder,
    signal: cut.signal,
    dispatcher: createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder }),
    params: {},
    timeoutMs: 1000,
    sourceAddress: () => undefined,
  };
}

async function runShare(config: Omit<ScenarioConfig, 'name'>, workers = 1, index = 0, graceMs = 1000) {
  const recorder = new Recorder(index);
  const cut = new AbortController();
  const scenario = defineScenario({ name: 't', ...config });
  const share = splitLoad(scenario.load, workers)[index];
  const rt = { ...runtime(recorder, cut), ...(config.target === undefined ? {} : { target: config.target }) };
  const engine = new Engine({ scenario, share: share.load, identity: { first: 100 * index, count: share.identities }, seed: 7, runtime: rt, graceMs, cut: () => cut.abort() });
  const result = await engine.run();
  await rt.dispatcher.destroy();
  return { result, snapshot: recorder.cut(health, true), engine };
}

describe('ArrivalSchedule', () => {
  it('spaces a constant rate evenly from t=0', () => {
    const s = new ArrivalSchedule(normalisePhases({ phases: [{ duration: '1s', arrivalRate: 10 }] }));
    expect(Array.from({ length: 11 }, (_, k) => s.timeOf(k))).toEqual([0, 100, 200, 300, 400, 500, 600, 700, 800, 900, undefined]);
  });

  it('interpolates a ramp: arrivals come closer as the rate rises', () => {
    // 0 → 20/s over 10 s: 100 arrivals; cumulative N(t) = t², so arrival k is due at sqrt(k) s.
    const s = new ArrivalSchedule(normalisePhases({ phases: [{ duration: '10s', arrivalRate: 0, rampTo: 20 }] }));
    for (const k of [1, 4, 25, 81, 99]) expect(s.timeOf(k)).toBeCloseTo(Math.sqrt(k) * 1000, 6);
    expect(s.timeOf(100)).toBeUndefined();
  });

  it('carries fractional arrivals across phases', () => {
    // 1.5/s for 1 s then 0.5/s for 1 s: 2 expected arrivals at t=0 and where N reaches 1 (0.667 s).
    const s = new ArrivalSchedule(normalisePhases({ phases: [{ duration: 1, arrivalRate: 1.5 }, { duration: 1, arrivalRate: 0.5 }] }));
    expect(s.timeOf(0)).toBe(0);
    expect(s.timeOf(1)).toBeCloseTo(666.667, 2);
    expect(s.timeOf(2)).toBeUndefined();
  });
});

describe('Engine, open model', () => {
  it('starts arrivals on schedule within tolerance, each with its own identity', async () => {
    const starts: { id: number; at: number }[] = [];
    const t0 = performance.now();
    const { snapshot, result } = await runShare({
      load: { phases: [{ duration: '1s', arrivalRate: 20 }] },
      user: (u: User) => void starts.push({ id: u.id, at: performance.now() - t0 }),
    });
    expect(result.completed).toBe(true);
    expect(starts).toHaveLength(20);
    expect(new Set(starts.map((s) => s.id)).size).toBe(20);
    starts.forEach((s, k) => {
      expect(s.at).toBeGreaterThanOrEqual(k * 50 - 2);
      // Upper bound generous: a busy machine delays timers; lateness is measured as schedule lag.
      expect(s.at).toBeLessThan(k * 50 + 250);
    });
    expect(snapshot.arrivals).toEqual({ started: 20, dropped: 0 });
    const lag = decodeHistogram(snapshot.histograms['loadfarm.schedule_lag']);
    expect(lag.totalCount).toBe(20);
  });

  it('takes only its share of the arrivals: k % workers === index', async () => {
    const seen: number[][] = [[], [], []];
    await Promise.all(
      [0, 1, 2].map((i) =>
        runShare({ load: { phases: [{ duration: '500ms', arrivalRate: 40 }] }, user: (u: User) => void seen[i].push(u.id) }, 3, i),
      ),
    );
    expect(seen.map((s) => s.length)).toEqual([7, 7, 6]);
    expect(seen[1][0]).toBe(100);
  });

  it('drops and counts arrivals beyond maxUsers', async () => {
    const { snapshot } = await runShare({
      load: { phases: [{ duration: '500ms', arrivalRate: 40 }], maxUsers: 3 },
      user: (u: User) => u.think(10),
    }, 1, 0, 50);
    expect(snapshot.arrivals.started).toBe(3);
    expect(snapshot.arrivals.dropped).toBe(17);
    expect(snapshot.gauges.usersMax).toBe(3);
  });

  it('cuts users still running when the grace is over', async () => {
    const t0 = performance.now();
    const { result, snapshot } = await runShare({ load: { phases: [{ duration: '200ms', arrivalRate: 10 }] }, user: (u: User) => u.think(30) }, 1, 0, 300);
    expect(result.cutUsers).toBe(2);
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(snapshot.gauges.users).toBe(0);
    expect(snapshot.users).toEqual({ launched: 2, cut: 2 });
    // Users cut while thinking had no operation in flight: nothing failed.
    expect(snapshot.errors).toEqual({});
    expect(snapshot.ops).toBe(0);
  });

  it('counts every operation in flight at the cut: one op and one CUT_IN_FLIGHT error each, as many as the server received', async () => {
    let received = 0;
    let answered = 0;
    const server = await startHttpServer((req, res) => {
      received++;
      if (req.url === '/slow') return; // never answers: in flight until the cut
      answered++;
      res.end('ok');
    });
    const recorder = new Recorder(0);
    const cut = new AbortController();
    const dispatcher = createHttpDispatcher({ connections: null, sourceAddress: () => undefined, recorder });
    const scenario = defineScenario({
      name: 't',
      load: { phases: [{ duration: '300ms', arrivalRate: 20 }] },
      async user(u: User) {
        await u.http.get('/fast');
        await u.http.get('/slow', { timeout: '30s' });
      },
    });
    const rt = { ...runtime(recorder, cut), target: server.url, dispatcher };
    const engine = new Engine({ scenario, share: splitLoad(scenario.load, 1)[0].load, identity: { first: 0, count: 100 }, seed: 1, runtime: rt, graceMs: 300, cut: () => { cut.abort(); void dispatcher.destroy(); } });
    const result = await engine.run();
    const snapshot = recorder.cut(health, true);
    await server.close();
    const slow = received - answered;
    expect(result.cutUsers).toBe(6);
    expect(slow).toBe(6);
    expect(snapshot.users).toEqual({ launched: 6, cut: 6 });
    expect(snapshot.errors).toEqual({ CUT_IN_FLIGHT: slow });
    expect(snapshot.ops).toBe(received);
  });

  it('a WebSocket request waiting for its reply at the cut is one CUT_IN_FLIGHT operation; the server got every message', async () => {
    let received = 0;
    const server = await startWsServer({ onConnection: (ws) => ws.on('message', () => received++) });
    const recorder = new Recorder(0);
    const cut = new AbortController();
    const scenario = defineScenario({
      name: 't',
      load: { phases: [{ duration: '200ms', arrivalRate: 20 }] },
      async user(u: User) {
        const conn = await u.ws.connect(server.url);
        await conn.request('hello', () => true, { name: 'echo', timeout: '30s' });
      },
    });
    const rt = { ...runtime(recorder, cut), target: server.url };
    const engine = new Engine({ scenario, share: splitLoad(scenario.load, 1)[0].load, identity: { first: 0, count: 100 }, seed: 1, runtime: rt, graceMs: 300, cut: () => cut.abort() });
    const result = await engine.run();
    const snapshot = recorder.cut(health, true);
    await server.close();
    expect(result.cutUsers).toBe(4);
    expect(received).toBe(4);
    expect(snapshot.errors).toEqual({ CUT_IN_FLIGHT: received });
    // 4 connects and 4 requests cut in flight.
    expect(snapshot.ops).toBe(4 + received);
  });

  it('stop() ends the load early and the result says so', async () => {
    const recorder = new Recorder(0);
    const cut = new AbortController();
    const scenario = defineScenario({ name: 't', load: { phases: [{ duration: '10s', arrivalRate: 10 }] }, user: async () => {} });
    const engine = new Engine({ scenario, share: splitLoad(scenario.load, 1)[0].load, identity: { first: 0, count: 100 }, seed: 1, runtime: runtime(recorder, cut), graceMs: 100, cut: () => cut.abort() });
    setTimeout(() => engine.stop(), 250);
    const t0 = performance.now();
    const result = await engine.run();
    expect(result.completed).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('Engine, closed model', () => {
  it('keeps N users looping for the duration, ramped, with stable ids and per-user state', async () => {
    const iterations = new Map<number, number>();
    const firstStart = new Map<number, number>();
    const iterationSeen: [number, number][] = [];
    const t0 = performance.now();
    const { snapshot } = await runShare({
      load: { users: 4, duration: '600ms', rampUp: '400ms' },
      async user(u: User) {
        if (!firstStart.has(u.id)) firstStart.set(u.id, performance.now() - t0);
        u.vars.n = ((u.vars.n as number) ?? 0) + 1;
        iterations.set(u.id, u.vars.n as number);
        // Asserted after the run: an expectation failing inside a journey is a load error nobody reads.
        iterationSeen.push([u.iteration, (u.vars.n as number) - 1]);
        await u.think(0.05);
      },
    });
    for (const [iteration, expected] of iterationSeen) expect(iteration).toBe(expected);
    expect(snapshot.errors).toEqual({});
    expect(snapshot.users).toEqual({ launched: 4, cut: 0 });
    expect([...iterations.keys()].sort()).toEqual([0, 1, 2, 3]);
    // Ramp: user j starts at j * 100 ms.
    [0, 1, 2, 3].forEach((j) => expect(firstStart.get(j)!).toBeGreaterThanOrEqual(j * 100 - 2));
    // User 0 runs ~600 ms of 50 ms iterations; user 3 starts 300 ms later.
    expect(iterations.get(0)!).toBeGreaterThanOrEqual(8);
    expect(iterations.get(3)!).toBeLessThan(iterations.get(0)!);
  });

  it('users looping requests back to back each keep one keep-alive connection: the server accepts as many as there are users', async () => {
    let requests = 0;
    const server = await startHttpServer((_req, res) => {
      requests++;
      res.end('ok');
    });
    const { snapshot } = await runShare({
      target: server.url,
      load: { users: 5, duration: '400ms' },
      async user(u: User) {
        await u.http.get('/');
      },
    });
    await server.close();
    expect(requests).toBeGreaterThan(50);
    expect(snapshot.ops).toBe(requests);
    expect(server.accepted).toBe(5);
    expect(snapshot.counters['http.connections']).toBe(server.accepted);
  });

  it('a journey that awaits nothing still lets timers run, and the load ends on time', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 10);
    const t0 = performance.now();
    const { snapshot } = await runShare({
      load: { users: 3, duration: '300ms', backoff: false },
      async user(u: User) {
        u.count('spins');
      },
    });
    clearInterval(ticker);
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(snapshot.counters.spins).toBeGreaterThan(100);
  });

  it('users due at once are started in slices: a timer due during the start runs before the last user starts', async () => {
    let startedWhenTimerRan = -1;
    let started = 0;
    setTimeout(() => (startedWhenTimerRan = started), 5);
    await runShare({
      load: { users: 4000, duration: '200ms', backoff: false },
      async user(u: User) {
        if (u.iteration > 0) return u.think(u.endsIn() / 1000);
        started++;
        // Some synchronous work per user start, as a dial does.
        let x = 0;
        for (let i = 0; i < 2000; i++) x += Math.sqrt(i);
        u.vars.x = x;
      },
    });
    expect(started).toBe(4000);
    expect(startedWhenTimerRan).toBeGreaterThan(0);
    expect(startedWhenTimerRan).toBeLessThan(4000);
  });

  it('a journey that throws is counted once by code and the user goes on', async () => {
    const { snapshot } = await runShare({
      load: { users: 1, duration: '300ms', backoff: false },
      async user(u: User) {
        await u.think(0.02);
        throw Object.assign(new Error('boom'), { code: 'EBOOM' });
      },
    });
    const n = snapshot.errors['exception EBOOM'];
    expect(n).toBeGreaterThanOrEqual(3);
    expect(snapshot.ops).toBe(n);
  });

  it('a user whose iterations fail backs off (min, doubling to max): the server sees a bounded number of attempts', async () => {
    let resets = 0;
    const server = await startTcpServer((socket) => {
      resets++;
      socket.resetAndDestroy();
    });
    const journey = async (u: User) => {
      const conn = await u.tcp.connect(server.address);
      await conn.readExact(1);
    };
    const errors = (snap: { errors: Record<string, number> }) => Object.values(snap.errors).reduce((a, b) => a + b, 0);
    const hammer = await runShare({ load: { users: 3, duration: '1s', backoff: false }, user: journey });
    const hammered = resets;
    resets = 0;
    const { snapshot } = await runShare({ load: { users: 3, duration: '1s', backoff: { min: '200ms', max: '400ms' } }, user: journey });
    await server.close();
    // Per user: fail at 0, pause 200 ms, fail, 400, fail, 400, fail, 400 (past the end): at most 5 in 1 s.
    expect(resets).toBeGreaterThanOrEqual(3 * 3);
    expect(resets).toBeLessThanOrEqual(3 * 5);
    // Each reset ends one iteration with one error: the server's count and the tool's agree.
    expect(errors(snapshot)).toBe(resets);
    expect(errors(hammer.snapshot)).toBe(hammered);
    expect(hammered).toBeGreaterThan(resets * 3);
  });

  it('backoff: none after a success, min after one failure, doubling, capped at max; off with backoff: false', () => {
    const b = closedBackoff(defineScenario({ name: 't', load: { users: 1, duration: 1, backoff: { min: '100ms', max: '350ms' } }, user: () => {} }));
    expect([0, 1, 2, 3, 9].map((n) => backoffMs(b, n))).toEqual([0, 100, 200, 350, 350]);
    expect(closedBackoff(defineScenario({ name: 't', load: { users: 1, duration: 1 }, user: () => {} }))).toEqual({ minMs: 1000, maxMs: 30_000 });
    expect(closedBackoff(defineScenario({ name: 't', load: { users: 1, duration: 1, backoff: false }, user: () => {} }))).toBeNull();
  });

  it('same seed, same user → same random sequence', async () => {
    const draws: number[][] = [];
    for (let i = 0; i < 2; i++) {
      const seq: number[] = [];
      await runShare({ load: { users: 1, duration: '10ms' }, user: (u: User) => void (u.iteration === 0 && seq.push(u.rng.next(), u.rng.int(1, 6))) });
      draws.push(seq);
    }
    expect(draws[0]).toEqual(draws[1]);
  });
});
