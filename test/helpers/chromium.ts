import { isExecutable } from '../../cli/report/html/open';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as zlib from 'node:zlib';
import { ROOT } from './cli';

/** Names a Chromium executable to use instead of the one below (e.g. `/usr/bin/chromium`). */
export const CHROMIUM_ENV = 'LOADFARM_TEST_CHROMIUM';
/** The devDependency whose tarball carries a headless Chromium for Linux x64, brotli-compressed. */
const PACKAGE_DIR = path.join(ROOT, 'node_modules', '@sparticuz', 'chromium');
/** Debian's `chromium` package: used only where the devDependency cannot serve (not Linux x64). */
const DEBIAN_CHROMIUM = '/usr/bin/chromium';

/**
 * The headless Chromium the browser tests drive, as an absolute path to its executable.
 * In order: `$LOADFARM_TEST_CHROMIUM`; else the build inside the @sparticuz/chromium devDependency
 * (so `npm ci` alone brings it: nothing is downloaded at install or test time), unpacked once per
 * version into `node_modules/.cache/loadfarm-chromium/<version>/chromium` (about 200 MB, a few
 * seconds; concurrent callers each write a private file and rename it into place); else Debian's
 * `/usr/bin/chromium`. Throws, saying how to get one, when none of them is there.
 */
export async function chromiumExecutable(): Promise<string> {
  const chosen = process.env[CHROMIUM_ENV];
  if (chosen) {
    if (!isExecutable(chosen)) throw new Error(`${CHROMIUM_ENV}=${chosen} is not an executable file: unset it, or name a Chromium executable`);
    return chosen;
  }
  const packed = path.join(PACKAGE_DIR, 'bin', 'chromium.br');
  if (process.platform === 'linux' && process.arch === 'x64' && fs.existsSync(packed)) return unpack(packed);
  if (isExecutable(DEBIAN_CHROMIUM)) return DEBIAN_CHROMIUM;
  throw new Error(
    `no headless Chromium: ${packed} is missing (run \`npm ci\`; it is a devDependency, for Linux x64 only), ` +
      `and so is ${DEBIAN_CHROMIUM} (\`apt-get install -y chromium\`). Or set ${CHROMIUM_ENV} to a Chromium executable.`,
  );
}

async function unpack(packed: string): Promise<string> {
  const version = (JSON.parse(fs.readFileSync(path.join(PACKAGE_DIR, 'package.json'), 'utf8')) as { version: string }).version;
  const target = path.join(ROOT, 'node_modules', '.cache', 'loadfarm-chromium', version, 'chromium');
  if (isExecutable(target)) return target;
  fs.mkdirSync(path.dirname(target), { recursive: true });
  const partial = `${target}.${process.pid}.partial`;
  try {
    await pipeline(fs.createReadStream(packed), zlib.createBrotliDecompress(), fs.createWriteStream(partial, { mode: 0o755 }));
    fs.renameSync(partial, target);
  } finally {
    fs.rmSync(partial, { force: true });
  }
  return target;
}
