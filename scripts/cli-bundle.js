// The esbuild options of dist/cli.js, the `loadfarm` program. node_modules stay external (loaded
// from the installed packages), except hdr-histogram-js, which the CLI loads on every run: it is
// bundled without what the CLI never runs, as the worker's is (hdr-lean.js), and without pako
// (node's zlib, which hdr-histogram-js uses anyway).
// That is a third of what loading the CLI costs on `loadfarm run` (issue 16).
const path = require('node:path');
const { HDR, SHIMS, hdrDirOf, leanHdrSources } = require('./hdr-lean');

/** @returns {import('esbuild').Plugin} */
function leanHdr(root) {
  const hdrDir = hdrDirOf(root);
  return {
    name: 'lean-hdr',
    setup(build) {
      // Bundled (not external): the plugin's resolution wins over `packages: 'external'`.
      build.onResolve({ filter: /^hdr-histogram-js$/ }, () => ({ path: require.resolve(HDR, { paths: [root] }) }));
      build.onResolve({ filter: /^pako$/ }, (args) => (args.importer.startsWith(hdrDir) ? { path: path.join(SHIMS, 'pako.js') } : undefined));
      // Its one other dependency goes with it, found from where hdr-histogram-js is installed.
      build.onResolve({ filter: /^base64-js$/ }, (args) => (args.importer.startsWith(hdrDir) ? { path: require.resolve(args.path, { paths: [args.resolveDir] }) } : undefined));
      leanHdrSources(build, hdrDir);
    },
  };
}

/**
 * Options for `esbuild.build` of the CLI, from `root` (the repository).
 * @returns {import('esbuild').BuildOptions}
 */
function cliBuildOptions(root) {
  return {
    absWorkingDir: root,
    entryPoints: ['cli/main.ts'],
    outfile: 'dist/cli.js',
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'linked',
    packages: 'external',
    plugins: [leanHdr(root)],
    logLevel: 'warning',
  };
}

module.exports = { cliBuildOptions };
