import * as path from 'node:path';
import { Command } from 'commander';
import { packageRoot } from '../paths';
import { DEFAULT_STORE, runLocal } from './run';

export function demoCommand(): Command {
  return new Command('demo')
    .description('start loopback targets (HTTP, WebSocket, binary TCP) and run examples/demo.ts on 2 local workers')
    .option('-w, --workers <n>', 'worker processes', '2')
    .option('--store <url>', 'file://DIR or s3://BUCKET/PREFIX', DEFAULT_STORE)
    .option('--json', 'print report.json instead of the text report')
    .option('-q, --quiet', 'no live progress')
    .option('--open', 'open report.html in the browser when the run ends')
    .action(async (flags: { workers: string; store: string; json?: boolean; quiet?: boolean; open?: boolean }) => {
      const { startDemoTargets } = await import('../demo/targets');
      const targets = await startDemoTargets();
      process.stderr.write(`demo targets: ${targets.httpUrl} (HTTP), ${targets.wsUrl} (WebSocket), ${targets.iotAddress} (binary TCP, IoT devices)\n`);
      try {
        const report = await runLocal(path.join(packageRoot(), 'examples', 'demo.ts'), {
          workers: flags.workers,
          store: flags.store,
          target: targets.httpUrl,
          param: [`iot=${targets.iotAddress}`],
          interval: '1s',
          json: flags.json,
          quiet: flags.quiet,
          open: flags.open,
        });
        const { http, wsMessages, iot } = targets.seen;
        process.stderr.write(
          `the targets saw ${http} HTTP requests, ${wsMessages} WebSocket messages, ` +
            `${iot.logins} device logins, ${iot.telemetry} telemetry messages, ${iot.polls} command polls (${iot.errors} device errors)\n`,
        );
        process.exitCode = report.exitCode;
      } finally {
        await targets.close();
      }
    });
}
