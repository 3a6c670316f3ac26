import { setMaxListeners } from 'node:events';
import * as net from 'node:net';
import scenario, { device } from '../../examples/iot-device';
import {
  IOT_ERRORS,
  IOT_TYPES,
  IotCode,
  IotHeader,
  IotLogin,
  IotLoginOk,
  IotTelemetry,
  iotFraming,
  startIotServer,
  type IotServer,
} from '../../cli/demo/iot-server';
import { LoadError } from '../../worker/protocols/errors';
import { createTestRuntime, latency, type TestRuntime } from '../helpers/runtime';

/**
 * The IoT device service (cli/demo/iot-server.ts) against the example device journey
 * (examples/iot-device.ts), run in-process: what the service counted equals what the recorder did.
 */

let server: IotServer;
let rt: TestRuntime;

beforeEach(async () => {
  server = await startIotServer();
});

afterEach(async () => {
  await rt?.close();
  await server.close();
});

const MESSAGES = {
  LOGIN: { type: IOT_TYPES.LOGIN, body: IotLogin },
  LOGIN_OK: { type: IOT_TYPES.LOGIN_OK, body: IotLoginOk },
  LOGIN_FAIL: { type: IOT_TYPES.LOGIN_FAIL, body: IotCode },
  TELEMETRY: { type: IOT_TYPES.TELEMETRY, body: IotTelemetry },
  ACK: { type: IOT_TYPES.ACK },
  ERROR: { type: IOT_TYPES.ERROR, body: IotCode },
};

async function session(u = rt.user()) {
  const conn = await u.tcp.connect(server.address, { framing: iotFraming });
  return conn.session({ header: IotHeader, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });
}

const telemetry = { ts: 1_700_000_000_000n, temp: 21.5, humidity: 40, readings: [1, 2, 3] };

test('the example journey: 40 devices in parallel, and the service counts what the report counts', async () => {
  rt = createTestRuntime({ params: { iot: server.address } });
  setMaxListeners(100, rt.controller.signal); // each thinking user listens for the stop
  const users = Array.from({ length: 40 }, (_, i) => rt.user({ id: 1000 + i, seed: 7 }));
  await Promise.all(users.map((u) => device(u, { address: u.params.iot, messages: 12, think: [0, 0.005] })));

  const snap = rt.snapshot();
  const count = (name: string) => latency(snap, name)?.count ?? 0;
  const seen = server.seen;
  expect(snap.errors).toEqual({});
  expect(seen.errors).toBe(0);
  expect(count('tcp.connect')).toBe(40);
  expect(seen.connections).toBe(40);
  expect(count('tcp.login')).toBe(seen.logins);
  expect(seen.logins).toBe(40);
  expect(seen.sessions).toBe(40);
  expect(count('tcp.telemetry')).toBe(seen.telemetry);
  expect(count('tcp.poll')).toBe(seen.polls);
  expect(seen.telemetry + seen.polls).toBe(40 * 12);
  // The seeded mix: about 70% telemetry, and some of each.
  expect(seen.telemetry).toBeGreaterThan(seen.polls);
  expect(seen.polls).toBeGreaterThan(0);
  expect(snap.counters['iot.commands'] ?? 0).toBe(seen.commands);
  expect(seen.commands).toBeGreaterThan(0);
  expect(snap.ops).toBe(40 + 40 + 40 * 12);
  expect(snap.gauges.connections).toBe(0);
  // Every device closed its connection: its session ended with it.
  await waitFor(() => seen.sessionsOpen === 0);
});

test('the scenario module runs the same journey against u.params.iot', async () => {
  expect(scenario.name).toBe('iot-devices');
  expect(typeof scenario.user).toBe('function');
  rt = createTestRuntime({ params: { iot: server.address }, timeoutMs: 2000 });
  const u = rt.user({ id: 5 });
  // The scenario's think times are seconds long: stop the user once it has logged in.
  const journey = Promise.resolve(scenario.user!(u));
  await waitFor(() => server.seen.logins === 1);
  rt.controller.abort();
  await expect(journey).rejects.toMatchObject({ code: 'LF_STOPPED' });
  expect(rt.snapshot().errors).toEqual({});
});

test('LOGIN_FAIL for an unknown device: `unexpected response LOGIN_FAIL`, counted once on each side', async () => {
  rt = createTestRuntime();
  const s = await session();
  const err = await s.request('LOGIN', { deviceId: 'sensor-1', firmware: 0x0200 }, { name: 'login', expect: 'LOGIN_OK' }).catch((e: unknown) => e);

  expect(err).toBeInstanceOf(LoadError);
  expect((err as LoadError).code).toBe('unexpected response LOGIN_FAIL');
  expect(rt.snapshot().errors).toEqual({ 'unexpected response LOGIN_FAIL': 1 });
  expect(server.seen).toMatchObject({ logins: 1, loginFailures: 1, sessions: 0 });
  // Old firmware fails with its own code; expecting both kinds lets the journey branch.
  const old = await s.request('LOGIN', { deviceId: 'dev-1', firmware: 0x0009 }, { expect: ['LOGIN_OK', 'LOGIN_FAIL'] });
  expect(old.kind === 'LOGIN_FAIL' && old.body.code).toBe(2);
});

test('a session the connection did not log in to: ERROR (bad session), counted on each side', async () => {
  rt = createTestRuntime();
  const a = await session();
  const login = await a.request('LOGIN', { deviceId: 'dev-a', firmware: 0x0100 }, { expect: 'LOGIN_OK' });
  // Another connection presenting a's session id.
  const b = await session();
  b.set({ session: login.body.session });
  const err = await b.request('TELEMETRY', telemetry, { name: 'telemetry', expect: 'ACK' }).catch((e: unknown) => e);

  expect((err as LoadError).code).toBe('unexpected response ERROR');
  expect((err as LoadError).message).toContain(`{"code":${IOT_ERRORS.BAD_SESSION}}`);
  a.set({ session: login.body.session });
  expect((await a.request('TELEMETRY', telemetry, { name: 'telemetry', expect: 'ACK' })).kind).toBe('ACK');
  const snap = rt.snapshot();
  expect(snap.errors).toEqual({ 'unexpected response ERROR': 1 });
  expect(latency(snap, 'tcp.telemetry')?.count).toBe(2);
  expect(server.seen).toMatchObject({ telemetry: 1, errors: 1, sessions: 1 });
});

test('a value out of range is answered ERROR (bad message); the connection stays usable', async () => {
  rt = createTestRuntime();
  const s = await session();
  const login = await s.request('LOGIN', { deviceId: 'dev-9', firmware: 0x0100 }, { expect: 'LOGIN_OK' });
  s.set({ session: login.body.session });
  const bad = await s.request('TELEMETRY', { ...telemetry, humidity: 101 }, { expect: ['ACK', 'ERROR'] });
  expect(bad.kind === 'ERROR' && bad.body.code).toBe(IOT_ERRORS.BAD_MESSAGE);
  expect((await s.request('TELEMETRY', telemetry, { expect: 'ACK' })).kind).toBe('ACK');
  expect(server.seen).toMatchObject({ telemetry: 2, errors: 1, readings: 3 });
});

test('the service survives garbage: a bad frame closes that connection and is counted', async () => {
  const socket = net.connect(Number(new URL(server.address).port), '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const closed = new Promise((r) => socket.once('close', r));
  socket.on('error', () => {});
  socket.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]));
  await closed;
  expect(server.seen.errors).toBe(1);
  // A frame shorter than the header, on another connection.
  const short = net.connect(Number(new URL(server.address).port), '127.0.0.1');
  short.on('error', () => {});
  const shortClosed = new Promise((r) => short.once('close', r));
  short.write(Buffer.concat([iotFraming.encode(Buffer.from([1, 2]))]));
  await shortClosed;
  expect(server.seen.errors).toBe(2);
  // And it still serves.
  rt = createTestRuntime();
  const s = await session();
  expect((await s.request('LOGIN', { deviceId: 'dev-2', firmware: 0x0100 }, { expect: 'LOGIN_OK' })).kind).toBe('LOGIN_OK');
});

async function waitFor(done: () => boolean, timeoutMs = 2000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > until) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}
