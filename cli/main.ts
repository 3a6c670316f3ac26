import { Command, CommanderError } from 'commander';
import { compareCommand } from './commands/compare';
import { demoCommand } from './commands/demo';
import { holdCommand } from './commands/hold';
import { reportCommand } from './commands/report';
import { runCommand } from './commands/run';
import { validateCommand } from './commands/validate';
import { EXIT, UsageError, personLine } from './errors';
import { upCommand } from './commands/up';
import { downCommand } from './commands/down';
import { envsCommand } from './commands/envs';
import { runsCommand } from './commands/runs';
import { attachCommand } from './commands/attach';
import { stopCommand } from './commands/stop';
import { targetsCommand } from './commands/targets';
import { importCommand } from './commands/import';

const program = new Command('loadfarm')
  .description('a load-testing farm as code: local worker processes or a throwaway AWS fleet, one merged report')
  .version(require('../package.json').version)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

program.addCommand(runCommand());
program.addCommand(reportCommand());
program.addCommand(validateCommand());
program.addCommand(demoCommand());
program.addCommand(compareCommand());
program.addCommand(holdCommand());
program.addCommand(upCommand());
program.addCommand(downCommand());
program.addCommand(envsCommand());
program.addCommand(runsCommand());
program.addCommand(attachCommand());
program.addCommand(stopCommand());
program.addCommand(targetsCommand());
program.addCommand(importCommand());
for (const cmd of program.commands) cmd.exitOverride();

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? 0 : EXIT.badInput;
    return;
  }
  if (err instanceof UsageError) {
    process.stderr.write(`loadfarm: ${err.message}\n`);
    for (const line of err.details) process.stderr.write(`loadfarm: ${line}\n`);
    // A UsageError may carry its own exit code (RunDetachedError: the run goes on, unreported: 2).
    const own = (err as { exitCode?: unknown }).exitCode;
    process.exitCode = typeof own === 'number' ? own : EXIT.badInput;
    return;
  }
  const line = personLine(err);
  if (line !== undefined) {
    process.stderr.write(`loadfarm: ${line}\n`);
    process.exitCode = EXIT.badInput;
    return;
  }
  process.stderr.write(`loadfarm: ${(err as Error).stack ?? err}\n`);
  process.exitCode = EXIT.incomplete;
});
