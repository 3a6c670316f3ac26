import { promises as fs, createWriteStream } from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StoreError } from './errors';
import type { ListOptions, Store } from './store';

/**
 * A store in a local folder. Writes go to a temporary file (`<key>.<pid>.<random>.tmp`, never
 * listed) moved into place, so a reader never sees half an object and a process killed
 * mid-write leaves the old object whole. A write that fails removes its temporary file.
 * Failures reject with a StoreError whose code says why (errors.ts): a path that is a file,
 * a read-only or virtual filesystem, permissions, a full disk.
 */
export class FileStore implements Store {
  readonly url: string;

  constructor(readonly root: string) {
    this.url = `file://${root}`;
  }

  /**
   * A store at `root`, refused with StoreError `STORE_NOT_FOLDER` when `root` (or a folder on
   * its path) is a regular file. A `root` that does not exist yet is fine: writes create it.
   */
  static async open(root: string): Promise<FileStore> {
    const store = new FileStore(root);
    const file = await blockingFile(root);
    if (file !== undefined) {
      throw new StoreError('STORE_NOT_FOLDER', `${store.url}: ${file} is a file, not a folder; point --store at a folder (or move the file away)`);
    }
    return store;
  }

  private file(key: string): string {
    if (key.split('/').some((part) => part === '..')) {
      throw new StoreError('STORE_BAD_KEY', `${this.url}: key ${JSON.stringify(key)} would leave the store; keys never hold ".."`);
    }
    return path.join(this.root, ...key.split('/'));
  }

  async put(key: string, body: string | Uint8Array): Promise<void> {
    const file = this.file(key);
    await this.makeFolder(key, path.dirname(file));
    const tmp = tempName(file);
    try {
      await fs.writeFile(tmp, body);
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw await this.failure('write', key, err);
    }
  }

  /**
   * Writes a temporary file, then hard-links it to `key`: link(2) refuses an existing name
   * (EEXIST → StoreError `STORE_EXISTS`, unless it holds these very bytes), so of two writers
   * exactly one wins and the object is whole from the moment it appears. The temporary file is removed either way. On a
   * filesystem without hard links, an exclusive create (`wx`) keeps write-once, but a reader
   * may then see the object before it is whole.
   */
  async putNew(key: string, body: string | Uint8Array): Promise<void> {
    const file = this.file(key);
    await this.makeFolder(key, path.dirname(file));
    const tmp = tempName(file);
    try {
      await fs.writeFile(tmp, body);
      await linkOrCreate(tmp, file, body);
    } catch (err) {
      if (errnoCode(err) === 'EEXIST' && !(await isFolder(file))) {
        if (await sameBytes(file, body)) return;
        throw new StoreError('STORE_EXISTS', `${this.url}: cannot write ${key}: it already exists and is written once only`, { cause: err });
      }
      throw await this.failure('write', key, err);
    } finally {
      await fs.rm(tmp, { force: true });
    }
  }

  async get(key: string): Promise<Buffer | undefined> {
    const file = this.file(key);
    try {
      return await fs.readFile(file);
    } catch (err) {
      // A key that names a folder (a prefix of other keys) is no object either.
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'EISDIR' || code === 'ENOTDIR') return undefined;
      throw await this.failure('read', key, err);
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<string[]> {
    // The prefix may end inside a name (runs/abc) or at a folder (runs/abc/).
    const slash = prefix.lastIndexOf('/');
    const dirKey = slash >= 0 ? prefix.slice(0, slash) : '';
    const keys: string[] = [];
    try {
      await this.walk(dirKey, keys);
    } catch (err) {
      throw await this.failure('list', prefix, err);
    }
    const after = options.startAfter;
    return keys.filter((k) => k.startsWith(prefix) && !k.endsWith('.tmp') && (after === undefined || k > after)).sort();
  }

  async listFolders(prefix: string): Promise<string[]> {
    const dir = prefix === '' ? this.root : this.file(prefix.replace(/\/$/, ''));
    try {
      const entries = await fs.readdir(dir, { withFileTypes: true });
      return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw await this.failure('list', prefix, err);
    }
  }

  private async walk(dirKey: string, out: string[]): Promise<void> {
    let entries: import('node:fs').Dirent[];
    try {
      entries = await fs.readdir(dirKey ? this.file(dirKey) : this.root, { withFileTypes: true });
    } catch (err) {
      const code = errnoCode(err);
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
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
    await this.makeFolder(key, path.dirname(file));
    const tmp = tempName(file);
    try {
      await pipeline(body, createWriteStream(tmp));
      await fs.rename(tmp, file);
    } catch (err) {
      await fs.rm(tmp, { force: true });
      throw await this.failure('write', key, err);
    }
  }

  /** mkdir -p; its ENOENT means the filesystem makes no folders there (read-only, or virtual like /proc). */
  private async makeFolder(key: string, dir: string): Promise<void> {
    try {
      await makeFolders(dir);
    } catch (err) {
      if (errnoCode(err) === 'ENOENT') {
        throw new StoreError(
          'STORE_READ_ONLY',
          `${this.url}: cannot write ${key}: cannot create the folder ${dir} (ENOENT: the filesystem makes no folders there, e.g. read-only or virtual); point --store at a writable folder`,
          { cause: err },
        );
      }
      throw await this.failure('write', key, err);
    }
  }

  /** The StoreError for a failed filesystem call, by its errno code. */
  private async failure(action: 'read' | 'write' | 'list', key: string, err: unknown): Promise<StoreError> {
    const what = `${this.url}: cannot ${action} ${key}`;
    // rename(2) and link(2) name their source in `path` (our temporary file) and the object in `dest`.
    const { path: source, dest } = err as NodeJS.ErrnoException & { dest?: string };
    const at = dest ?? source ?? this.root;
    switch (errnoCode(err)) {
      case 'ENOTDIR':
      case 'EEXIST': {
        const file = await blockingFile(at);
        if (file !== undefined) {
          return new StoreError('STORE_NOT_FOLDER', `${what}: ${file} is a file, not a folder; point --store at a folder (or move the file away)`, { cause: err });
        }
        if (await isFolder(at)) return new StoreError('STORE_FAILED', `${what}: ${at} is a folder, so it cannot hold an object`, { cause: err });
        break;
      }
      case 'EISDIR':
        return new StoreError('STORE_FAILED', `${what}: ${at} is a folder, so it cannot hold an object`, { cause: err });
      case 'EROFS':
        return new StoreError('STORE_READ_ONLY', `${what}: the filesystem is read-only; point --store at a writable folder`, { cause: err });
      case 'EACCES':
      case 'EPERM':
        return new StoreError('STORE_DENIED', `${what}: permission denied on ${at}; give this user access or point --store at a folder it owns`, { cause: err });
      case 'ENOSPC':
        return new StoreError('STORE_FULL', `${what}: no space left on the device; free some or point --store elsewhere`, { cause: err });
      case 'EDQUOT':
        return new StoreError('STORE_FULL', `${what}: disk quota exceeded; free some or point --store elsewhere`, { cause: err });
      case 'EFBIG':
        return new StoreError('STORE_FULL', `${what}: file too large for this process's limit (ulimit -f); raise it or point --store elsewhere`, { cause: err });
      default:
        break;
    }
    return new StoreError('STORE_FAILED', `${what}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * mkdir -p, one level at a time. Not `fs.mkdir(dir, { recursive: true })`: on Node 20 that
 * spins forever where mkdir(2) answers ENOENT with the parent present (/proc). Rejects with the
 * failing mkdir's error: ENOENT there, EEXIST for a path that is a file, EROFS, EACCES, ….
 */
async function makeFolders(dir: string): Promise<void> {
  const made = await mkdirOnce(dir);
  if (made !== 'ENOENT') return;
  const parent = path.dirname(dir);
  if (parent === dir) return;
  await makeFolders(parent);
  if ((await mkdirOnce(dir)) === 'ENOENT') await fs.mkdir(dir); // a parent is there now: its ENOENT is the answer
}

/** mkdir(2) of one level: resolves when `dir` is a folder, 'ENOENT' when a parent is missing; rejects otherwise. */
async function mkdirOnce(dir: string): Promise<'ENOENT' | undefined> {
  try {
    await fs.mkdir(dir);
    return undefined;
  } catch (err) {
    const code = errnoCode(err);
    if (code === 'ENOENT') return 'ENOENT';
    if (code === 'EEXIST' && (await fs.stat(dir)).isDirectory()) return undefined;
    throw err;
  }
}

/** link(2) `tmp` to `file`; where hard links are not supported, writes `file` with an exclusive create. */
async function linkOrCreate(tmp: string, file: string, body: string | Uint8Array): Promise<void> {
  try {
    await fs.link(tmp, file);
  } catch (err) {
    const code = errnoCode(err);
    // Linux answers EPERM for a filesystem without hard links (this process just wrote `tmp` beside `file`).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw err;
    await fs.writeFile(file, body, { flag: 'wx' });
  }
}

/** True when `file` holds exactly `body`. */
async function sameBytes(file: string, body: string | Uint8Array): Promise<boolean> {
  const current = await fs.readFile(file);
  return current.equals(typeof body === 'string' ? Buffer.from(body) : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

async function isFolder(p: string): Promise<boolean> {
  try {
    return (await fs.lstat(p)).isDirectory();
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return false;
    throw err;
  }
}

function tempName(file: string): string {
  return `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
}

function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as NodeJS.ErrnoException).code : undefined;
}

/** The nearest existing path at or above `p` when it is not a folder, else undefined. */
async function blockingFile(p: string): Promise<string | undefined> {
  for (let at = path.resolve(p); ; at = path.dirname(at)) {
    try {
      return (await fs.stat(at)).isDirectory() ? undefined : at;
    } catch (err) {
      const code = errnoCode(err);
      if (code !== 'ENOENT' && code !== 'ENOTDIR') return undefined;
    }
    if (path.dirname(at) === at) return undefined;
  }
}
