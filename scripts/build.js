// Bundles the three entry points with esbuild:
//   dist/cli.js    the `loadfarm` program (node_modules stay external but hdr-histogram-js: cli-bundle.js)
//   dist/worker.js the worker, self-contained and minified: the one file shipped to every worker
//                  machine (options and what is left out: worker-bundle.js)
//   dist/index.js  the scenario API that `import … from 'loadfarm'` resolves to
const path = require('node:path');
const esbuild = require('esbuild');
const { workerBuildOptions } = require('./worker-bundle');
const { cliBuildOptions } = require('./cli-bundle');

const root = path.resolve(__dirname, '..');

async function build() {
  const common = { bundle: true, platform: 'node', target: 'node20', sourcemap: 'linked', logLevel: 'warning', absWorkingDir: root };
  await Promise.all([
    esbuild.build(cliBuildOptions(root)),
    esbuild.build(workerBuildOptions(root)),
    esbuild.build({ ...common, entryPoints: ['worker/index.ts'], outfile: 'dist/index.js', packages: 'external' }),
  ]);
}

module.exports = { build };
if (require.main === module) {
  build().catch((err) => { console.error(err.message); process.exit(1); });
}
