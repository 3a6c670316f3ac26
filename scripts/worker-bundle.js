// The esbuild options of dist/worker.js, the one file shipped to every worker machine: minified,
// names included (no `keepNames`: it gives every closure made at run time a `name` property of its
// own, which turns the function's properties into a dictionary, 105 -> 256 B a closure, and a
// worker makes closures per user and per connection; errors are told apart by `code` and by the
// `name` their classes set explicitly, never by a constructor's name), with a linked source map
// (`node --enable-source-maps dist/worker.js …` gives stack traces in the sources), and without
// what a worker never runs:
// - undici: only its dispatchers (worker-shims/undici.mjs), not fetch/WebSocket/caches/mocks;
// - hdr-histogram-js: no WebAssembly histograms, its eval of zlib a plain require, its
//   HistogramLogWriter (which loads ICU) loaded on first use (hdr-lean.js), and no pako
//   (worker-shims/pako.js: node's zlib, which hdr-histogram-js uses anyway);
// - socket.io-client, engine.io-client, socket.io-parser: their own production builds
//   (build/esm, the same code less the `debug` logging) instead of the debug builds Node gets;
// - the AWS SDK's default credential chain (@aws-sdk/credential-provider-node: profiles, ini
//   files, SSO, login, credential_process, web identity, container, with their STS/SSO clients
//   and bowser) replaced by env + instance metadata (worker-shims/credential-provider-node.ts);
//   the CLI keeps the full chain.
// The AWS SDK is taken from its ES module builds, so that what it does not use is left out.
const path = require('node:path');
const fs = require('node:fs');

const { SHIMS, hdrDirOf, leanHdrSources } = require('./hdr-lean');

/** Bare imports resolved to a shim file, wherever they come from in the worker's graph. */
const SHIMMED = {
  undici: path.join(SHIMS, 'undici.mjs'),
  pako: path.join(SHIMS, 'pako.js'),
  '@aws-sdk/credential-provider-node': path.join(SHIMS, 'credential-provider-node.ts'),
};

/** Packages whose production build (no `debug`) replaces the `node` export condition's debug build. */
const PRODUCTION_BUILDS = ['socket.io-client', 'engine.io-client', 'socket.io-parser'];

function escape(s) {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** @returns {import('esbuild').Plugin} */
function leanWorker(root) {
  // esbuild names importers by their real path: node_modules may be a symlink (a worktree, the bench's build).
  const modules = fs.realpathSync(path.join(root, 'node_modules'));
  return {
    name: 'lean-worker',
    setup(build) {
      const shimmed = new RegExp(`^(${Object.keys(SHIMMED).map(escape).join('|')})$`);
      build.onResolve({ filter: shimmed }, (args) => {
        // The undici shim imports undici's own files: only bare 'undici' from elsewhere is shimmed.
        if (args.importer === SHIMMED[args.path]) return undefined;
        return { path: SHIMMED[args.path] };
      });
      const production = new RegExp(`^(${PRODUCTION_BUILDS.map(escape).join('|')})$`);
      build.onResolve({ filter: production }, (args) => ({ path: path.join(modules, args.path, 'build', 'esm', 'index.js') }));
      leanHdrSources(build, hdrDirOf(root));
    },
  };
}

/**
 * Options for `esbuild.build` of the worker, from `root` (the repository). `entryPoints` and
 * `outfile` may be overridden (tests bundle single worker modules the same way).
 * @returns {import('esbuild').BuildOptions}
 */
function workerBuildOptions(root) {
  return {
    absWorkingDir: root,
    entryPoints: ['worker/main.ts'],
    outfile: 'dist/worker.js',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    minify: true,
    drop: ['debugger'],
    mainFields: ['module', 'main'],
    plugins: [leanWorker(root)],
    logLevel: 'warning',
  };
}

module.exports = { workerBuildOptions, SHIMMED, PRODUCTION_BUILDS };
