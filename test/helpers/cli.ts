import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'loadfarm.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `loadfarm` CLI asynchronously (test servers live in this process). */
export function runCli(args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; onSpawn?: (child: ChildProcess) => void } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: o.cwd ?? ROOT, env: { ...process.env, ...o.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (t: string) => (stdout += t));
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`loadfarm ${args.join(' ')} did not finish within ${o.timeoutMs ?? 60_000} ms\n${stderr}`));
    }, o.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    o.onSpawn?.(child);
  });
}

/** A fresh temporary folder, removed by the caller's afterAll via `rmTemp`. */
export function tempDir(prefix = 'loadfarm-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmTemp(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Writes a scenario file and returns its path. */
export function writeScenario(dir: string, name: string, source: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, source);
  return file;
}

/** The run ids in a file store folder. */
export function runsIn(storeDir: string): string[] {
  const runs = path.join(storeDir, 'runs');
  return fs.existsSync(runs) ? fs.readdirSync(runs).sort() : [];
}
