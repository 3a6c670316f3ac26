import { Command } from 'commander';
import { Problems } from '../options';
import { UsageError } from '../errors';

/**
 * `loadfarm targets`: the demo's loopback services on the ports the examples name, to try the
 * examples as they are written. Runs until Ctrl-C, or `--for` at most.
 */
export function targetsCommand(): Command {
  return new Command('targets')
    .description('serve the loopback targets the examples expect (HTTP + WebSocket :8080, TCP ping :7000, IoT :7100, Socket.IO :3000)')
    .option('--host <address>', 'loopback address to listen on', '127.0.0.1')
    .option('--for <duration>', 'stop after this long', '1h')
    .action(async (flags: { host: string; for: string }) => {
      const p = new Problems();
      const forMs = p.durationMs('--for', flags.for, 1) ?? 3_600_000;
      if (!/^127\.\d+\.\d+\.\d+$|^::1$/.test(flags.host)) p.add('--host', 'a loopback address (127.x.x.x or ::1): these are test services', flags.host);
      if (p.any) throw new UsageError(p.list[0], p.list.slice(1));
      const [{ startDemoTargets }, { startChatServer }] = await Promise.all([import('../demo/targets'), import('../demo/chat-server')]);
      const targets = await startDemoTargets(flags.host, { http: 8080, tcp: 7000, iot: 7100 });
      const chat = await startChatServer(flags.host, 3000);
      const out = process.stdout;
      out.write(`HTTP API    ${targets.httpUrl}   (GET /, GET /items/:id, POST /echo, GET /slow?ms=N, GET /status/:code)\n`);
      out.write(`WebSocket   ${targets.wsUrl}   (JSON echo)\n`);
      out.write(`TCP ping    ${targets.tcpAddress}   (examples/tcp.ts)\n`);
      out.write(`IoT devices ${targets.iotAddress}   (examples/iot-device.ts)\n`);
      out.write(chat ? `Socket.IO   ${chat.url}/chat   (examples/socketio.ts)\n` : 'Socket.IO   not served: the socket.io package is not installed\n');
      out.write('Ctrl-C to stop.\n');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, forMs);
        process.once('SIGINT', () => {
          clearTimeout(timer);
          resolve();
        });
        process.once('SIGTERM', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      await Promise.all([targets.close(), chat?.close()]);
    });
}
