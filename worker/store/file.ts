import { promises as fs, createWriteStream } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Store } from './store';

/**
 * A store in a local folder. Writes go to a temporary file renamed into place, so a reader
 * never sees half an object and a process killed mid-write leaves the old object whole.
 */
export class FileStore implements Store {
  readonly url: string;

  constructor(readonly root: string) {
    this.url = `file://${root}`;
  }

  private file(key: string): string {
    if (key.split('/').some((part) => part === '..')) throw new Error(`store key escapes the store: ${key}`);
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await fs.writeFile(tmp, body);
    await fs.rename(tmp, file);
  }

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.file(key));
    } catch (err) {
      // A key that names a folder (a prefix of other keys) is no object either.
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
      throw new Error(`${this.url}: cannot read ${key}: ${(err as Error).message}`);
    }
  }

  async list(prefix: string): Promise<string[]> {
    // The prefix may end inside a name (runs/abc) or at a folder (runs/abc/).
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const keys: string[] = [];
    await this.walk(dirKey, keys);
    return keys.filter((k) => k.startsWith(prefix) && !k.endsWith('.tmp')).sort();
  }

  async listFolders(prefix: string): Promise<string[]> {
    try {
      const entries = await fs.readdir(prefix === '' ? this.root : this.file(prefix.replace(/\/$/, '')), { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return [];
      throw new Error(`${this.url}: cannot list ${prefix}: ${(err as Error).message}`, { cause: err });
    }
  }

  private async walk(dirKey: string, out: string[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dirKey ? this.file(dirKey) : this.root, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return;
      throw err;
    }
    await Promise.all(
      entries.map((e) => {
        const key = dirKey ? `${dirKey}/${e.name}` : e.name;
        if (e.isDirectory()) return this.walk(key, out);
        out.push(key);
        return undefined;
      }),
    );
  }

  async putStream(key: string, body: NodeJS.ReadableStream): Promise<void> {
    const file = this.file(key);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await pipeline(body, createWriteStream(tmp));
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw new Error(`${this.url}: cannot write ${key}: ${(err as Error).message}`, { cause: err });
    }
  }
}
