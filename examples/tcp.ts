// A binary TCP request/response protocol: frames of [u32 length][u8 type][u32 seq][body].
// Run it:  npx loadfarm run examples/tcp.ts --target tcp://127.0.0.1:7000 --workers 2
import { defineScenario } from 'loadfarm';

const PING = 1;
const PONG = 2;

function frame(type: number, seq: number, body: Buffer): Buffer {
  const out = Buffer.alloc(4 + 5 + body.length);
  out.writeUInt32BE(5 + body.length, 0);
  out.writeUInt8(type, 4);
  out.writeUInt32BE(seq, 5);
  body.copy(out, 9);
  return out;
}

export default defineScenario({
  name: 'tcp-ping',
  target: 'tcp://127.0.0.1:7000',
  load: { phases: [{ duration: '10s', arrivalRate: 20 }] },
  thresholds: { 'tcp.ping': ['p(99) < 50'] },
  async user(u) {
    const conn = await u.tcp.connect(); // timed as tcp.connect
    for (let seq = 1; seq <= 5; seq++) {
      conn.write(frame(PING, seq, Buffer.from(`device-${u.id}`)));
      // Timed from the write to the whole reply frame, as tcp.ping.
      const reply = await conn.readFrame({ width: 4, name: 'ping' });
      u.check('pong matches', reply[0] === PONG && reply.readUInt32BE(1) === seq);
    }
    await conn.close();
  },
});
