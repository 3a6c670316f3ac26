import type { Report } from '../../cli/report/types';
import { rmTemp, runCli, tempDir } from '../helpers/cli';

describe('loadfarm demo', () => {
  let dir: string;
  beforeAll(() => (dir = tempDir()));
  afterAll(() => rmTemp(dir));

  it('runs the example on 2 local workers against its own targets and passes', async () => {
    const res = await runCli(['demo', '--store', dir, '--json', '--quiet'], { timeoutMs: 90_000 });
    expect(res.code).toBe(0);
    const report = JSON.parse(res.stdout) as Report;
    expect(report.status).toBe('passed');
    expect(report.workers.map((w) => w.state)).toEqual(['done', 'done']);
    for (const metric of ['http.GET /', 'http.GET /items/:id', 'ws.connect', 'ws.echo', 'tcp.connect', 'tcp.login', 'tcp.telemetry', 'tcp.poll']) {
      expect(report.metrics[metric]?.count).toBeGreaterThan(0);
    }
    expect(report.errors).toEqual({});
    // What the targets saw equals what the report counted.
    const seen = /the targets saw (\d+) HTTP requests, (\d+) WebSocket messages, (\d+) device logins, (\d+) telemetry messages, (\d+) command polls \((\d+) device errors\)/.exec(res.stderr);
    expect(seen).not.toBeNull();
    expect(Number(seen![1])).toBe(report.metrics['http.GET /'].count + report.metrics['http.GET /items/:id'].count);
    expect(Number(seen![2])).toBe(report.metrics['ws.echo'].count);
    expect(Number(seen![3])).toBe(report.metrics['tcp.login'].count);
    expect(Number(seen![4])).toBe(report.metrics['tcp.telemetry'].count);
    expect(Number(seen![5])).toBe(report.metrics['tcp.poll'].count);
    expect(Number(seen![6])).toBe(0);
  });
});
