import { spawn } from 'node:child_process';
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

test('a put cut short by the file-size limit removes its half-written file and says so (EFBIG)', async () => {
  // A real write failure: the child may write at most 1 KiB per file (ulimit -f 1).
  const bundle = path.join(dir, 'file-store.js');
  buildSync({ entryPoints: [path.resolve(__dirname, '../../../worker/store/file.ts')], bundle: true, platform: 'node', format: 'cjs', outfile: bundle, logLevel: 'silent' });
  const root = path.join(dir, 'efbig');
  const script = `
    const { FileStore } = require(${JSON.stringify(bundle)});
    const store = new FileStore(${JSON.stringify(root)});
    store.put('runs/r1/scenario.js', Buffer.alloc(64 * 1024, 120)).then(
      () => console.log(JSON.stringify({ ok: true })),
      (err) => console.log(JSON.stringify({ name: err.name, code: err.code, message: err.message })),
    );`;
  const child = spawn('bash', ['-c', 'ulimit -f 1 && exec "$0" -e "$1"', process.execPath, script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => (out += t));
  await new Promise((resolve) => child.on('close', resolve));
  expect(JSON.parse(out)).toEqual({
    name: 'StoreError',
    code: 'STORE_FULL',
    message: `file://${root}: cannot write runs/r1/scenario.js: file too large for this process's limit (ulimit -f); raise it or point --store elsewhere`,
  });
  expect(filesUnder(root)).toEqual([]);
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
