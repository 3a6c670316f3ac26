// The other load generators, installed at bench time: npm packages into bench/.peers (an npm
// prefix of its own, never the project's dependencies), wrk from Debian. Installing needs the
// registries, so it happens before the bench enters its loopback-only network namespace.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_DIR, log } from './proc.mjs';

export const PEERS_DIR = path.join(BENCH_DIR, '.peers');

/**
 * npm peers, pinned to the versions checked with `npm view` (2026-11-23). Artillery's tree pulls
 * @playwright/browser-chromium, whose install script downloads a Chrome build from its own CDN:
 * that is not allowed here (and fails: only the registries are reachable), so it is installed with
 * PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1; its HTTP engine needs no browser.
 */
export const NPM_PEERS = {
  autocannon: { version: '9.0.0', bin: 'node_modules/autocannon/autocannon.js' },
  artillery: { version: '2.0.34', bin: 'node_modules/artillery/bin/run', env: { PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: '1' } },
};

export function peerBin(name) {
  return path.join(PEERS_DIR, NPM_PEERS[name].bin);
}

export function installedVersion(name) {
  try {
    return JSON.parse(fs.readFileSync(path.join(PEERS_DIR, 'node_modules', name, 'package.json'), 'utf8')).version;
  } catch {
    return undefined;
  }
}

/** Installs what is missing. Returns notes on what could not be had. Never throws. */
export function installPeers({ want = Object.keys(NPM_PEERS), wrk = true } = {}) {
  const notes = {};
  fs.mkdirSync(PEERS_DIR, { recursive: true });
  for (const name of want) {
    const p = NPM_PEERS[name];
    if (installedVersion(name) === p.version) continue;
    log(`installing ${name}@${p.version} into bench/.peers …`);
    const r = spawnSync('npm', ['install', '--prefix', PEERS_DIR, '--no-audit', '--no-fund', `${name}@${p.version}`], {
      encoding: 'utf8',
      env: { ...process.env, ...(p.env ?? {}) },
      timeout: 300_000,
    });
    if (r.status !== 0 || installedVersion(name) !== p.version) {
      notes[name] = `npm install ${name}@${p.version} failed: ${(r.stderr || r.error?.message || '').split('\n').filter((l) => /error/i.test(l)).slice(0, 3).join(' | ')}`;
      log(notes[name]);
    }
  }
  if (wrk && !hasCommand('wrk')) {
    if (process.getuid?.() === 0) {
      log('installing wrk from Debian (apt-get install -y wrk) …');
      const r = spawnSync('apt-get', ['install', '-y', 'wrk'], { encoding: 'utf8', timeout: 300_000 });
      if (r.status !== 0 || !hasCommand('wrk')) {
        spawnSync('apt-get', ['update'], { encoding: 'utf8', timeout: 300_000 });
        spawnSync('apt-get', ['install', '-y', 'wrk'], { encoding: 'utf8', timeout: 300_000 });
      }
      if (!hasCommand('wrk')) notes.wrk = 'apt-get install -y wrk failed';
    } else notes.wrk = 'wrk is not installed and the bench is not root: skipped (apt-get install wrk)';
  }
  return notes;
}

export function hasCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Whether k6 can be had here: Debian's candidate, and what npm's `k6` package is. */
export function k6Availability() {
  let apt = 'unknown';
  try {
    const out = execFileSync('apt-cache', ['policy', 'k6'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const cand = /Candidate:\s*(\S+)/.exec(out)?.[1];
    apt = cand && cand !== '(none)' ? `Debian candidate ${cand}` : 'not in Debian';
  } catch {
    apt = 'apt-cache unavailable';
  }
  return `${apt}; the npm package \`k6\` is a 0.0.0 placeholder (no binary), and k6's own installers download a binary from its site, which is not reachable here`;
}

/** Tool versions for the report. */
export function versions() {
  const v = {};
  for (const name of Object.keys(NPM_PEERS)) v[name] = installedVersion(name) ?? 'not installed';
  try {
    v.wrk = /wrk (\S+)/.exec(spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout)?.[1] ?? 'not installed';
  } catch {
    v.wrk = 'not installed';
  }
  return v;
}
