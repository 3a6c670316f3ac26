import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { FileStore } from '../../../worker/store/file';

// How a file store fails: one StoreError with a stable code and a line saying what to do,
// and never a temporary file left behind.

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'loadfarm-file-errors-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Every file under `root`, relative, sorted. */
function filesUnder(root: string): string[] {
  return (fs.readdirSync(root, { recursive: true, withFileTypes: true }) as fs.Dirent[])
    .filter((e) => e.isFile())
    .map((e) => path.relative(root, path.join(e.parentPath ?? e.path, e.name)))
    .sort();
}

test('a put that fails removes its temporary file', async () => {
  const root = path.join(dir, 'rename-fails');
  const store = new FileStore(root);
  await store.put('runs/r1/workers/0/status.json', '{}');
  // "runs/r1/workers" is a folder: the rename onto it fails after the temporary file was written.
  await expect(store.put('runs/r1/workers', 'x')).rejects.toMatchObject({
    name: 'StoreError',
    code: 'STORE_FAILED',
    message: `file://${root}: cannot write runs/r1/workers: ${path.join(root, 'runs', 'r1', 'workers')} is a folder, so it cannot hold an object`,
  });
  await expect(store.putNew('runs/r1/workers', 'x')).rejects.toMatchObject({ code: 'STORE_FAILED' });
  expect(filesUnder(root)).toEqual(['runs/r1/workers/0/status.json']);
});

/** worker/store/file.ts bundled for a child process, once. */
let bundled: string | undefined;
function fileStoreBundle(): string {
  bundled ??= path.join(dir, 'file-store.js');
  if (!fs.existsSync(bundled)) {
    buildSync({ entryPoints: [path.resolve(__dirname, '../../../worker/store/file.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundled, logLevel: 'silent' });
  }
  return bundled;
}

/**
 * Runs `new FileStore(root).put(key, bytes)` in a child started as
 * `<wrapper…> sh -c '<setup> && exec node …'`, and returns what it settled with: { ok } or the
 * error's name, code and message.
 */
async function putInChild(wrapper: string[], setup: string, root: string, key: string, bytes: number): Promise<Record<string, unknown>> {
  const script = `
    const { FileStore } = require(${JSON.stringify(fileStoreBundle())});
    new FileStore(${JSON.stringify(root)}).put(${JSON.stringify(key)}, Buffer.alloc(${bytes}, 120)).then(
      () => console.log(JSON.stringify({ ok: true })),
      (err) => console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message })),
    );`;
  const [command, ...args] = [...wrapper, 'sh', '-c', `${setup} && exec "$0" -e "$1"`, process.execPath, script];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
  child.stderr.setEncoding('utf8').on('data', (t: string) => (err += t));
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (out === '') throw new Error(`child exited ${code} without a result: ${err}`);
  return JSON.parse(out) as Record<string, unknown>;
}

test('a put cut short by the file-size limit removes its half-written file and says so (EFBIG)', async () => {
  // A real write failure: the child may write at most 1 KiB per file (ulimit -f 1).
  const root = path.join(dir, 'efbig');
  expect(await putInChild([], 'ulimit -f 1', root, 'runs/r1/scenario.js', 64 * 1024)).toEqual({
    name: 'StoreError',
    code: 'STORE_FULL',
    message: `file://${root}: cannot write runs/r1/scenario.js: file too large for this process's limit (ulimit -f); raise it or point --store elsewhere`,
  });
  expect(filesUnder(root)).toEqual([]);
});

/** True when this machine lets a process mount a read-only tmpfs in a mount namespace of its own. */
function canMountReadOnly(): boolean {
  const probe = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${JSON.stringify(dir)}`], { stdio: 'ignore' });
  return probe.status === 0;
}

test('a read-only filesystem is named as one (EROFS), not as a missing file', async () => {
  if (!canMountReadOnly()) {
    // Needs root or user namespaces; the /proc case below covers the ENOENT answer everywhere.
    console.warn('skipped: cannot mount a read-only tmpfs here (unshare -m)');
    return;
  }
  const root = path.join(dir, 'read-only');
  fs.mkdirSync(root);
  // The mount lives in the child's own mount namespace only, and ends with it.
  const result = await putInChild(['unshare', '-m'], `mount -t tmpfs -o ro tmpfs ${JSON.stringify(root)}`, root, 'runs/r1/plan.json', 10);
  expect(result).toEqual({
    name: 'StoreError',
    code: 'STORE_READ_ONLY',
    message: `file://${root}: cannot write runs/r1/plan.json: the filesystem is read-only; point --store at a writable folder`,
  });
});

test('a store path that is a regular file is named as one, at open and at the first write', async () => {
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'not a folder');
  await expect(FileStore.open(file)).rejects.toMatchObject({
    code: 'STORE_NOT_FOLDER',
    message: `file://${file}: ${file} is a file, not a folder; point --store at a folder (or move the file away)`,
  });
  await expect(FileStore.open(path.join(file, 'below'))).rejects.toMatchObject({ code: 'STORE_NOT_FOLDER' });
  await expect(new FileStore(path.join(file, 'below')).put('runs/r1/plan.json', '{}')).rejects.toMatchObject({
    code: 'STORE_NOT_FOLDER',
    message: `file://${file}/below: cannot write runs/r1/plan.json: ${file} is a file, not a folder; point --store at a folder (or move the file away)`,
  });
  expect(fs.readFileSync(file, 'utf8')).toBe('not a folder');
});

test('a filesystem that makes no folders (ENOENT from mkdir, as /proc answers) is named, and the put returns', async () => {
  // Node 20's recursive mkdir spins forever on this answer; the store must not.
  const root = '/proc/loadfarm-test-store';
  await expect(new FileStore(root).put('runs/r1/plan.json', '{}')).rejects.toMatchObject({
    code: 'STORE_READ_ONLY',
    message:
      `file://${root}: cannot write runs/r1/plan.json: cannot create the folder ${root}/runs/r1 ` +
      '(ENOENT: the filesystem makes no folders there, e.g. read-only or virtual); point --store at a writable folder',
  });
}, 10_000);

test('a key that would leave the store is refused with STORE_BAD_KEY', async () => {
  const store = new FileStore(path.join(dir, 'keys'));
  await expect(store.get('runs/../../etc/passwd')).rejects.toMatchObject({ code: 'STORE_BAD_KEY' });
  await expect(store.put('../x', 'x')).rejects.toMatchObject({ code: 'STORE_BAD_KEY' });
  expect(fs.existsSync(path.join(dir, 'x'))).toBe(false);
});
