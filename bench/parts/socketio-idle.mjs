// Idle Socket.IO connections held by one worker process: RSS per connection.
import { idleMemory } from './idle.mjs';

export const title = 'Idle Socket.IO connections held by one worker: memory per connection';

export async function run(ctx) {
  const n = ctx.quick ? 1000 : 10_000;
  const r = await idleMemory(ctx, {
    label: 'idle Socket.IO',
    scenario: 'bench/scenarios/socketio-idle.js',
    serverArgv: ['node', 'bench/targets/socketio-server.mjs', '--processes', '2'],
    scheme: 'http',
    n,
    rampS: ctx.quick ? 2 : 10,
    baselineScript: 'bench/baselines/socketio-idle.mjs',
    baselineText: 'plain socket.io-client',
    goalKb: 20,
    waitMs: 90_000,
  });
  return {
    title,
    ...r,
    method:
      `loadfarm: \`bench/scenarios/socketio-idle.js\` on 1 worker, ${n.toLocaleString('en-US')} users each opening one Socket.IO connection ` +
      '(`u.socketio.connect(undefined, { transports: [\'websocket\'] })`: its own Manager, no reconnection) and holding it idle; RSS after a full ' +
      'GC with all open against the same run with 1 user. plain socket.io-client: `bench/baselines/socketio-idle.mjs` (`io(url, { forceNew: true, ' +
      "transports: ['websocket'], reconnection: false })` per connection). The target, `bench/targets/socketio-server.mjs`, runs in 2 other processes.",
  };
}
