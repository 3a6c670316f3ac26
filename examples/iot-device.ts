// IoT devices on a binary TCP protocol: big-endian frames [u32 length][u8 type][u32 seq][u32 session][body].
// Each device logs in, then sends telemetry and polls for commands on one connection, with think
// times between messages. `loadfarm demo` runs it (the `device` flow of demo.ts) against the
// service in cli/demo/iot-server.ts; against your own:
//   npx loadfarm run examples/iot-device.ts --target tcp://127.0.0.1:7100 --workers 2
import { array, defineScenario, f32, i64, lengthPrefixed, str, struct, u16, u32, u8, type User } from 'loadfarm';

const be = { endian: 'big' } as const;
const Header = struct({ type: u8, seq: u32, session: u32 }, { name: 'Header', ...be });
const Login = struct({ deviceId: str(16, 'ascii'), firmware: u16 }, { name: 'Login', ...be });
const LoginOk = struct({ session: u32 }, { name: 'LoginOk', ...be });
const Code = struct({ code: u8 }, { name: 'Code', ...be });
const Telemetry = struct(
  { ts: i64, temp: f32, humidity: u8, readings: array(u16, { prefix: 'u8' }) },
  { name: 'Telemetry', ...be },
);
const Command = struct({ cmd: u8, arg: u32 }, { name: 'Command', ...be });

/** The protocol's messages: type codes and body layouts (no body: nothing after the header). */
const MESSAGES = {
  LOGIN: { type: 1, body: Login },
  LOGIN_OK: { type: 2, body: LoginOk },
  LOGIN_FAIL: { type: 3, body: Code },
  TELEMETRY: { type: 4, body: Telemetry },
  ACK: { type: 5 },
  COMMAND_POLL: { type: 6 },
  COMMAND: { type: 7, body: Command },
  NONE: { type: 8 },
  ERROR: { type: 9, body: Code },
};

export interface DeviceOptions {
  /** `tcp://host:port` of the device service. */
  address: string;
  /** Messages after the login, each telemetry (70%) or a command poll. */
  messages: number;
  /** Think time before each message, seconds: [min, max]. */
  think: [number, number];
}

/**
 * One device's session. Metrics: tcp.connect, tcp.login, tcp.telemetry, tcp.poll, and the
 * counter `iot.commands` for the commands received.
 */
export async function device(u: User, o: DeviceOptions): Promise<void> {
  const conn = await u.tcp.connect(o.address, { framing: lengthPrefixed({ width: 4, endian: 'big' }) });
  // Sequence numbers go up by one per request and each reply must carry its request's.
  const dev = conn.session({ header: Header, typeField: 'type', seqField: 'seq', messages: MESSAGES, state: { session: 0 } });

  const login = await dev.request('LOGIN', { deviceId: `dev-${u.id}`, firmware: 0x0102 }, { name: 'login', expect: 'LOGIN_OK' });
  dev.set({ session: login.body.session }); // carried in every later header

  for (let i = 0; i < o.messages; i++) {
    await u.think(...o.think);
    if (u.rng.bool(0.7)) {
      const readings = Array.from({ length: u.rng.int(0, 8) }, () => u.rng.int(0, 4095));
      const telemetry = { ts: BigInt(Date.now()), temp: u.rng.float(15, 30), humidity: u.rng.int(20, 90), readings };
      await dev.request('TELEMETRY', telemetry, { name: 'telemetry', expect: 'ACK' });
    } else {
      const reply = await dev.request('COMMAND_POLL', {}, { name: 'poll', expect: ['COMMAND', 'NONE'] });
      if (reply.kind === 'COMMAND') u.count('iot.commands');
    }
  }
  await conn.close();
}

export default defineScenario({
  name: 'iot-devices',
  target: 'tcp://127.0.0.1:7100',
  load: {
    phases: [
      { name: 'ramp', duration: '30s', arrivalRate: 5, rampTo: 50 },
      { name: 'steady', duration: '2m', arrivalRate: 50 },
    ],
    maxUsers: 5000,
  },
  thresholds: {
    'tcp.login': ['p(99) < 500'],
    'tcp.telemetry': ['p(99) < 250'],
    'tcp.poll': ['p(99) < 250'],
    errors: ['rate < 0.01'],
  },
  user: (u) => device(u, { address: u.params.iot ?? u.target, messages: 20, think: [0.5, 2] }),
});
