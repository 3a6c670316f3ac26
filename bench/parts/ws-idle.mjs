// Idle WebSocket connections held by one worker process: RSS per connection at ~20k.
import { idleMemory } from './idle.mjs';

export const title = 'Idle WebSocket connections held by one worker: memory per connection';

/** One process may hold 20,000 descriptors (`ulimit -n`, not raisable here): 19,500 leaves the worker its own. */
export const WS_N = 19_500;

export async function run(ctx) {
  const n = ctx.quick ? 2000 : WS_N;
  const r = await idleMemory(ctx, {
    label: 'idle WebSocket',
    scenario: 'bench/scenarios/ws-idle.js',
    serverArgv: ['node', 'bench/targets/ws-server.mjs', '--processes', '4'],
    scheme: 'ws',
    n,
    rampS: ctx.quick ? 2 : 8,
    baselineScript: 'bench/baselines/ws-idle.mjs',
    baselineText: 'plain ws',
    goalKb: 6,
  });
  return {
    title,
    ...r,
    method:
      `loadfarm: \`bench/scenarios/ws-idle.js\` on 1 worker, ${n.toLocaleString('en-US')} users started over a few seconds, each opening one ` +
      'WebSocket (`u.ws.connect()`, no compression) and holding it idle with `await u.think(u.endsIn() / 1000)`; the worker\'s RSS after a full ' +
      'GC once every connection is open, against the same run with 1 user. plain ws: `bench/baselines/ws-idle.mjs`, the same count of `ws` ' +
      'clients in one process, RSS after GC with 1 and with all. The target is `bench/targets/ws-server.mjs` in 4 processes sharing the port. ' +
      `${WS_N.toLocaleString('en-US')} rather than 20,000: one process may hold 20,000 descriptors here, and the worker needs some of its own.`,
  };
}
