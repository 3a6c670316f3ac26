import { spawn, type ChildProcess } from 'node:child_process';
import type { Fleet, FleetWorkerState } from './fleet';

const LOG_LINES = 20;

/**
 * Worker processes on this machine. A worker's stderr is kept (last 20 lines) to explain a
 * failure. `cancel` sends SIGTERM: the worker stops its load and writes its last snapshot.
 * Workers are not detached: they end with the CLI's process group on Ctrl-C, and in any case
 * stop by themselves at their deadline.
 */
export class LocalFleet implements Fleet {
  readonly name = 'local';
  private readonly procs = new Map<number, { child: ChildProcess; exit?: number; signal?: string; log: string[] }>();

  constructor(private readonly options: { env?: NodeJS.ProcessEnv; onLine?: (index: number, line: string) => void } = {}) {}

  start(index: number, command: string[]): Promise<void> {
    const [file, ...args] = command;
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...this.options.env } });
      const entry: { child: ChildProcess; exit?: number; signal?: string; log: string[] } = { child, log: [] };
      this.procs.set(index, entry);
      let partial = '';
      child.stderr!.setEncoding('utf8').on('data', (text: string) => {
        const lines = (partial + text).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) {
          entry.log.push(line);
          if (entry.log.length > LOG_LINES) entry.log.shift();
          this.options.onLine?.(index, line);
        }
      });
      child.once('error', reject);
      child.once('spawn', () => resolve());
      child.once('exit', (code, signal) => {
        entry.exit = code ?? -1;
        entry.signal = signal ?? undefined;
      });
    });
  }

  async status(index: number): Promise<FleetWorkerState> {
    const p = this.procs.get(index);
    if (!p) return { state: 'pending' };
    if (p.exit === undefined) return { state: 'running' };
    if (p.signal) return { state: 'lost', detail: `process ${p.child.pid} was killed by ${p.signal}` };
    return { state: 'exited', exitCode: p.exit, detail: p.log.filter(Boolean).slice(-3).join(' | ') || undefined };
  }

  async cancel(index: number): Promise<void> {
    const p = this.procs.get(index);
    if (p && p.exit === undefined) p.child.kill('SIGTERM');
  }

  async close(): Promise<void> {}
}
