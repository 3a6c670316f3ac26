import * as path from 'node:path';
import { startChatServer, type ChatServer } from '../../cli/demo/chat-server';
import { startDemoTargets, type DemoTargets } from '../../cli/demo/targets';
import { ROOT, runCli } from '../helpers/cli';

/** Every example runs one user once (`loadfarm validate`) against the service it was written for. */
describe('examples/', () => {
  let targets: DemoTargets;
  let chat: ChatServer;
  beforeAll(async () => {
    targets = await startDemoTargets();
    chat = (await startChatServer())!;
  });
  afterAll(async () => {
    await targets.close();
    await chat.close();
  });

  const cases: [string, () => string][] = [
    ['http.ts', () => targets.httpUrl],
    ['websocket.ts', () => targets.wsUrl],
    ['websocket-reconnect.ts', () => targets.wsUrl],
    ['tcp.ts', () => targets.tcpAddress],
    ['iot-device.ts', () => targets.iotAddress],
    ['socketio.ts', () => chat.url],
  ];

  it.each(cases)('%s validates and its one user succeeds', async (file, target) => {
    const res = await runCli(['validate', path.join(ROOT, 'examples', file), '--target', target()]);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/one user: ok\n$/);
    expect(res.code).toBe(0);
  });

  it('the Socket.IO example really chatted: joins and messages reached the server', () => {
    expect(chat.seen.joins).toBeGreaterThanOrEqual(1);
    expect(chat.seen.says).toBeGreaterThanOrEqual(5);
  });
});
