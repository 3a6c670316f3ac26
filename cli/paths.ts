import * as fs from 'node:fs';
import * as path from 'node:path';

/** The loadfarm package's root folder (where its package.json is), from the running code's place. */
export function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'loadfarm') return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`cannot find the loadfarm package above ${__dirname}`);
    dir = up;
  }
}

/** The bundled worker that every fleet runs. */
export function workerScript(): string {
  const file = path.join(packageRoot(), 'dist', 'worker.js');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\``);
  return file;
}
