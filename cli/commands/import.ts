import { Command } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors';
import { generateScenario } from '../har/generate';
import { readHar } from '../har/har';
import { collect } from '../options';

/** `loadfarm import har recording.har [-o scenario.ts] [--include-host H …] [--keep-static]` */
export function importCommand(): Command {
  const cmd = new Command('import').description('turn recorded traffic into a scenario');
  cmd.addCommand(
    new Command('har')
      .description("write a TypeScript scenario from a browser's HAR export (the journey's requests, in recorded order)")
      .argument('<recording>', 'a HAR 1.2 file (browser devtools: Network → Save all as HAR)')
      .option('-o, --out <file>', 'where to write the scenario (default: print it)')
      .option('--include-host <host>', 'keep requests to this host (repeatable; default: the host of the first page request)', collect)
      .option('--keep-static', 'keep scripts, styles, images, fonts and media (dropped by default)')
      .option('--force', 'replace the --out file if it exists')
      .exitOverride()
      .action((file: string, flags: { out?: string; includeHost?: string[]; keepStatic?: boolean; force?: boolean }) => {
        if (flags.out && fs.existsSync(flags.out) && !flags.force) throw new UsageError(`import har: ${flags.out} exists: pass --force to replace it, or another -o`);
        const entries = readHar(file);
        const result = generateScenario(entries, { includeHosts: flags.includeHost, keepStatic: flags.keepStatic, sourceName: path.basename(file) });
        if (result.requests === 0) {
          throw new UsageError(`import har: ${file}: no requests left to replay (${entries.length} recorded, ${result.droppedStatic} static assets dropped); try --keep-static or --include-host HOST`);
        }
        const summary =
          `${result.requests} requests from ${result.origin}, ${result.variables} values wired from responses` +
          `${result.droppedStatic ? `, ${result.droppedStatic} static assets dropped` : ''}` +
          `${result.droppedHosts.size ? `, ${[...result.droppedHosts.values()].reduce((a, b) => a + b, 0)} requests to other hosts dropped` : ''}`;
        if (!flags.out) {
          process.stdout.write(result.code);
          process.stderr.write(`import har: ${summary}\n`);
          return;
        }
        fs.writeFileSync(flags.out, result.code);
        process.stderr.write(`import har: wrote ${flags.out}: ${summary}. Next: loadfarm validate ${flags.out} --target URL\n`);
      }),
  );
  return cmd;
}
