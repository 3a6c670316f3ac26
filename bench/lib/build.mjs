// The loadfarm the bench measures: a build of a commit, never of a working tree that others
// may be editing. `git archive <commit>` is unpacked into a folder of its own (node_modules linked
// to the project's), built there with the project's own build script, and reused for that commit.
// Figures are published against the commit this names.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ROOT, log } from './proc.mjs';

/** Environment variable through which the inner (namespaced) bench learns the build's folder and commit. */
export const BUILD_ENV = 'LOADFARM_BENCH_BUILD';

/** Builds `commit` (default HEAD) once; returns { root, commit }. Exits the bench when the build fails. */
export function committedBuild(commit = 'HEAD') {
  const sha = git(['rev-parse', commit]).trim();
  const root = path.join(os.tmpdir(), `loadfarm-bench-build-${sha.slice(0, 12)}`);
  if (!fs.existsSync(path.join(root, 'dist', 'worker.js'))) {
    log(`building loadfarm ${sha.slice(0, 12)} (git archive → ${root})`);
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    const archive = spawnSync('sh', ['-c', `git archive --format=tar "${sha}" | tar -x -C "${root}"`], { cwd: ROOT, stdio: 'inherit' });
    if (archive.status !== 0) fail(`git archive ${sha} failed`);
    fs.symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'));
    const b = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
    if (b.status !== 0) {
      fs.rmSync(path.join(root, 'dist'), { recursive: true, force: true });
      fail(`npm run build of ${sha.slice(0, 12)} failed`);
    }
  }
  return { root, commit: sha };
}

/** The build chosen by the outer bench ({ root, commit }), or the working tree's own dist/ when run without one. */
export function currentBuild() {
  const v = process.env[BUILD_ENV];
  if (v) {
    const [commit, root] = [v.slice(0, v.indexOf(':')), v.slice(v.indexOf(':') + 1)];
    return { root, commit, committed: true };
  }
  return { root: ROOT, commit: git(['rev-parse', 'HEAD']).trim(), committed: false };
}

function git(args) {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) fail(`git ${args.join(' ')}: ${r.stderr.trim()}`);
  return r.stdout;
}

function fail(problem) {
  console.error(`bench: ${problem}`);
  process.exit(1);
}
