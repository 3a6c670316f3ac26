import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface OpenerOptions {
  /** @default process.platform */
  platform?: NodeJS.Platform;
  /** Where to look for the opener. @default process.env.PATH */
  envPath?: string;
}

/** The desktop's "open this file" command (full path) on this platform, if it has one on PATH. */
export function opener(o: OpenerOptions = {}): { cmd: string; args: string[] } | undefined {
  const platform = o.platform ?? process.platform;
  if (platform === 'win32') return { cmd: 'cmd', args: ['/c', 'start', '""'] };
  const name = platform === 'darwin' ? 'open' : 'xdg-open';
  const dirs = (o.envPath ?? process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  const cmd = dirs.map((dir) => path.join(dir, name)).find(isExecutable);
  return cmd ? { cmd, args: [] } : undefined;
}

/**
 * Opens `file` with the desktop's default application, detached (loadfarm does not wait for the
 * browser). Returns a sentence to show when it cannot (no opener on PATH, or it failed to start);
 * undefined when the opener was started.
 */
export function openFile(file: string, options: OpenerOptions = {}): Promise<string | undefined> {
  const o = opener(options);
  if (!o) return Promise.resolve(`cannot open ${file}: no ${(options.platform ?? process.platform) === 'darwin' ? 'open' : 'xdg-open'} command on this machine`);
  return new Promise((resolve) => {
    const child = spawn(o.cmd, [...o.args, file], { detached: true, stdio: 'ignore' });
    child.once('error', (err) => resolve(`cannot open ${file}: ${o.cmd} failed to start (${err.message})`));
    child.once('spawn', () => {
      child.unref();
      resolve(undefined);
    });
  });
}

/** True for a file this process may execute. */
export function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}
