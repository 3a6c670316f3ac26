import { Command } from 'commander';
import * as api from '../../worker/index';
import { holdScenario, type HoldOptions } from '../../worker/builtin/hold';
import { Counts, Entries, readEncoded } from '../merge/counts';
import { evaluateScenario } from '../../worker/scenario/load';
import { targetProblem } from '../../worker/scenario/validate';
import type { Snapshot } from '../../worker/metrics/snapshot';
import { UsageError } from '../errors';
import { Problems } from '../options';
import { LIMITS, showLimit } from '../../worker/scenario/limits';
import { dispatchRun, parseRunFlags, runOptions, type RunFlags } from './run';

interface HoldFlags extends RunFlags {
  connections: string;
  delay: string;
  interval: string;
  timeout: string;
  hold: string;
}

export function holdCommand(): Command {
  return runOptions(
    new Command('hold')
      .description('the connection-ceiling test: open N connections, hold them, close them (local farm or --env)')
      .argument('<target>', 'tcp://host:port, ws://host:port/path or wss://…')
      .option('-c, --connections <n>', 'connections to open across all workers', '100')
      .option('--delay <duration>', "pause between one worker's dials", '10ms')
      .option('--interval <duration>', 'how often to print counts', '1s')
      .option('--timeout <duration>', 'time allowed for each dial', '5s')
      .option('--hold <duration>', 'how long to hold once all are dialed', '30s'),
  )
    .addHelpText('after', '\nExit code 0 only when every connection was established and held to the end; 2 otherwise.')
    .action(async (target: string, flags: HoldFlags) => {
      const p = new Problems();
      const connections = p.int('--connections', flags.connections, 1, 10_000_000) ?? 1;
      const delayMs = p.durationMs('--delay', flags.delay, 0, { ms: LIMITS.dialDelayMs, what: "the longest pause between one worker's dials" }) ?? 10;
      const timeoutMs = p.durationMs('--timeout', flags.timeout, 1, { ms: LIMITS.timeoutMs, what: 'the longest timeout' }) ?? 5000;
      const holdMs = p.durationMs('--hold', flags.hold, 0, { ms: LIMITS.loadMs, what: 'the longest load' }) ?? 30_000;
      const problem = targetProblem(target);
      if (problem) p.add('target', problem, target);
      else if (!/^(tcp|wss?):/.test(target)) p.add('target', 'tcp://host:port, ws://… or wss://… (hold opens raw connections)', target);
      const settings = parseRunFlags({ ...flags, workers: flags.workers ?? '1', threshold: undefined, param: undefined }, p);
      if (connections < settings.workers) p.add('--connections', `at least one per worker (${settings.workers})`, flags.connections);
      // The load is one worker's dials (one every --delay) plus --hold: bounded like any load.
      const loadMs = Math.ceil(connections / settings.workers) * delayMs + holdMs;
      if (!p.any && loadMs > LIMITS.loadMs) {
        p.add('--hold', `dials (${Math.ceil(connections / settings.workers)} per worker × --delay) plus --hold at most ${showLimit(LIMITS.loadMs)} (the longest load)`, `${showLimit(loadMs)} in all`);
      }
      if (p.any) throw new UsageError(p.list[0], p.list.slice(1));

      // With --env the instances online decide the worker count; the split is then per instance.
      const options: HoldOptions = { target, connections, workers: settings.workers, delayMs, holdMs, timeoutMs };
      const code = `module.exports = require('loadfarm').holdScenario(${JSON.stringify(options)});\n`;
      const scenario = evaluateScenario(code, '<hold>', api) as ReturnType<typeof holdScenario>;
      const view = new HoldView(connections);
      const report = await dispatchRun({ code, path: '<hold>', scenario, target }, settings, { ...flags, quiet: true }, {
        connections,
        onSnapshots: (fresh, note) => note(view.add(fresh)),
      });
      // The report's own exit code: a hold short of its connections is incomplete (2) there too.
      process.exitCode = report.exitCode;
    });
}

/** Cumulative counts across workers, and connect times of the latest snapshots, as one line. */
export class HoldView {
  private dials = 0;
  private established = 0;
  private dropped = 0;
  private errored = 0;
  private open = new Map<number, number>();
  private started = Date.now();

  constructor(private readonly wanted: number) {}

  add(fresh: readonly Snapshot[]): string {
    const connect = new Counts();
    const entries = new Entries();
    for (const s of fresh) {
      this.dials += s.counters['hold.dials'] ?? 0;
      this.established += s.counters['hold.established'] ?? 0;
      this.dropped += s.counters['hold.dropped'] ?? 0;
      for (const [code, n] of Object.entries({ ...s.errors, ...s.generatorErrors })) if (!code.startsWith('check ')) this.errored += n;
      this.open.set(s.worker, s.gauges.connections);
      for (const name of ['tcp.connect', 'ws.connect']) {
        if (!s.histograms[name]) continue;
        readEncoded(s.histograms[name], entries);
        connect.add(entries);
      }
    }
    let open = 0;
    for (const n of this.open.values()) open += n;
    const dialing = Math.max(0, this.dials - this.established - this.errored);
    const ms = (us: number) => (us / 1000).toFixed(us >= 100_000 ? 0 : 2);
    const [p50, p99, max] = connect.percentiles([50, 99, 100]);
    const times = connect.total > 0 ? ` · connect p50 ${ms(p50)}ms p99 ${ms(p99)}ms max ${ms(max)}ms` : '';
    const t = ((Date.now() - this.started) / 1000).toFixed(0).padStart(4);
    return `${t}s · dialing ${dialing} · established ${this.established}/${this.wanted} · open ${open} · closed by peer ${this.dropped} · errored ${this.errored}${times}`;
  }
}
