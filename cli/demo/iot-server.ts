import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { array, f32, FrameError, i64, lengthPrefixed, str, struct, StructError, u16, u32, u8 } from '../../worker/protocols/binary';

/**
 * A binary IoT device service to point load at (the demo's, and the tests'): plain node:net and
 * the struct codec. Big-endian frames `[u32 length][u8 type][u32 seq][u32 session][body]`, the
 * length counting what follows it. Every reply carries its request's seq.
 *
 *   LOGIN 1         deviceId str(16), firmware u16  → LOGIN_OK 2 (session u32)
 *                                                      or LOGIN_FAIL 3 (code u8: 1 unknown device
 *                                                      — not `dev-…` —, 2 firmware below 1.0)
 *   TELEMETRY 4     ts i64, temp f32, humidity u8,   → ACK 5
 *                   readings u16[] (u8 count)
 *   COMMAND_POLL 6  (no body)                        → COMMAND 7 (cmd u8, arg u32) every 3rd poll
 *                                                      of a session, else NONE 8
 *   anything with a session this connection did not log in to → ERROR 9 (code 1); a body that
 *   does not decode or a value out of range (humidity > 100) → ERROR (code 2); an unknown type →
 *   ERROR (code 3). A frame over 64 KiB or shorter than the header closes the connection.
 *
 * A session belongs to the connection that logged in and ends with it. What the service saw is
 * counted in `seen`, for checking a report against the target.
 */
export const IOT_TYPES = {
  LOGIN: 1,
  LOGIN_OK: 2,
  LOGIN_FAIL: 3,
  TELEMETRY: 4,
  ACK: 5,
  COMMAND_POLL: 6,
  COMMAND: 7,
  NONE: 8,
  ERROR: 9,
} as const;

/** Codes of ERROR replies. */
export const IOT_ERRORS = { BAD_SESSION: 1, BAD_MESSAGE: 2, UNKNOWN_TYPE: 3 } as const;
/** Codes of LOGIN_FAIL replies. */
export const IOT_LOGIN_FAILURES = { UNKNOWN_DEVICE: 1, FIRMWARE_TOO_OLD: 2 } as const;
/** Lowest firmware accepted (1.0). */
export const IOT_MIN_FIRMWARE = 0x0100;
const MAX_FRAME_BYTES = 64 * 1024;
const COMMAND_EVERY = 3;

const be = { endian: 'big' } as const;
export const IotHeader = struct({ type: u8, seq: u32, session: u32 }, { name: 'Header', ...be });
export const IotLogin = struct({ deviceId: str(16, 'ascii'), firmware: u16 }, { name: 'Login', ...be });
export const IotLoginOk = struct({ session: u32 }, { name: 'LoginOk', ...be });
export const IotCode = struct({ code: u8 }, { name: 'Code', ...be });
export const IotTelemetry = struct(
  { ts: i64, temp: f32, humidity: u8, readings: array(u16, { prefix: 'u8' }) },
  { name: 'Telemetry', ...be },
);
export const IotCommand = struct({ cmd: u8, arg: u32 }, { name: 'Command', ...be });
/** The framing of the service's stream. */
export const iotFraming = lengthPrefixed({ width: 4, endian: 'big', maxFrameBytes: MAX_FRAME_BYTES });

export interface IotCounts {
  connections: number;
  /** Frames received that had a header (whatever came of them). */
  frames: number;
  logins: number;
  loginFailures: number;
  telemetry: number;
  /** Readings carried by the telemetry messages. */
  readings: number;
  polls: number;
  /** COMMAND replies to polls (the others were NONE). */
  commands: number;
  /** ERROR replies, and connections closed for a frame that could not be read. */
  errors: number;
  /** Sessions opened by a successful login. */
  sessions: number;
  /** Sessions whose connection is still open. */
  sessionsOpen: number;
}

export interface IotServer {
  /** `tcp://host:port` */
  readonly address: string;
  readonly seen: IotCounts;
  close(): Promise<void>;
}

interface Device {
  deviceId: string;
  polls: number;
}

export async function startIotServer(host = '127.0.0.1', listenPort = 0): Promise<IotServer> {
  const seen: IotCounts = { connections: 0, frames: 0, logins: 0, loginFailures: 0, telemetry: 0, readings: 0, polls: 0, commands: 0, errors: 0, sessions: 0, sessionsOpen: 0 };
  const sockets = new Set<net.Socket>();
  let nextSession = 0x1000;

  const server = net.createServer((socket) => {
    seen.connections++;
    sockets.add(socket);
    socket.setNoDelay(true);
    const reader = iotFraming.reader();
    /** This connection's sessions. */
    const sessions = new Map<number, Device>();
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      seen.sessionsOpen -= sessions.size;
    });

    const reply = (type: number, seq: number, session: number, body?: Buffer) => {
      const header = IotHeader.encode({ type, seq, session });
      socket.write(iotFraming.encode(body === undefined ? header : Buffer.concat([header, body])));
    };
    const error = (seq: number, session: number, code: number) => {
      seen.errors++;
      reply(IOT_TYPES.ERROR, seq, session, IotCode.encode({ code }));
    };

    const handle = (frame: Buffer) => {
      const { value: h, end } = IotHeader.decodeFrom(frame);
      seen.frames++;
      const body = frame.subarray(end);
      try {
        switch (h.type) {
          case IOT_TYPES.LOGIN: {
            const login = IotLogin.decode(body);
            seen.logins++;
            const fail = !login.deviceId.startsWith('dev-')
              ? IOT_LOGIN_FAILURES.UNKNOWN_DEVICE
              : login.firmware < IOT_MIN_FIRMWARE
                ? IOT_LOGIN_FAILURES.FIRMWARE_TOO_OLD
                : 0;
            if (fail !== 0) {
              seen.loginFailures++;
              return reply(IOT_TYPES.LOGIN_FAIL, h.seq, 0, IotCode.encode({ code: fail }));
            }
            const session = nextSession;
            nextSession = nextSession >= 0xffffffff ? 0x1000 : nextSession + 1;
            sessions.set(session, { deviceId: login.deviceId, polls: 0 });
            seen.sessions++;
            seen.sessionsOpen++;
            return reply(IOT_TYPES.LOGIN_OK, h.seq, session, IotLoginOk.encode({ session }));
          }
          case IOT_TYPES.TELEMETRY: {
            const device = sessions.get(h.session);
            if (device === undefined) return error(h.seq, h.session, IOT_ERRORS.BAD_SESSION);
            const t = IotTelemetry.decode(body);
            seen.telemetry++;
            if (t.humidity > 100 || !Number.isFinite(t.temp)) return error(h.seq, h.session, IOT_ERRORS.BAD_MESSAGE);
            seen.readings += t.readings.length;
            return reply(IOT_TYPES.ACK, h.seq, h.session);
          }
          case IOT_TYPES.COMMAND_POLL: {
            const device = sessions.get(h.session);
            if (device === undefined) return error(h.seq, h.session, IOT_ERRORS.BAD_SESSION);
            if (body.length !== 0) return error(h.seq, h.session, IOT_ERRORS.BAD_MESSAGE);
            seen.polls++;
            device.polls++;
            if (device.polls % COMMAND_EVERY !== 0) return reply(IOT_TYPES.NONE, h.seq, h.session);
            seen.commands++;
            const cmd = 1 + ((device.polls / COMMAND_EVERY) % 3);
            return reply(IOT_TYPES.COMMAND, h.seq, h.session, IotCommand.encode({ cmd, arg: device.polls }));
          }
          default:
            return error(h.seq, h.session, IOT_ERRORS.UNKNOWN_TYPE);
        }
      } catch (err) {
        if (!(err instanceof StructError)) throw err;
        return error(h.seq, h.session, IOT_ERRORS.BAD_MESSAGE);
      }
    };

    socket.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      try {
        for (let frame = reader.next(); frame !== undefined; frame = reader.next()) handle(frame);
      } catch (err) {
        // A frame too large, or too short for a header: the stream cannot be trusted any more.
        if (!(err instanceof FrameError) && !(err instanceof StructError)) throw err;
        seen.errors++;
        socket.destroy();
      }
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(listenPort, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    address: `tcp://${host.includes(':') ? `[${host}]` : host}:${port}`,
    seen,
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
