// The package's published types: dist/types/ emptied, then declarations for the scenario API
// (worker/index.ts and what it references) emitted by tsc from tsconfig.build.json.
// Exits non-zero on a type error in that API. `npm pack` runs it (prepack).
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
fs.rmSync(path.join(root, 'dist', 'types'), { recursive: true, force: true });
const tsc = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (tsc.error) throw tsc.error;
process.exit(tsc.status ?? 1);
