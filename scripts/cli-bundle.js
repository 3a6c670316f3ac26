// The esbuild options of dist/cli.js, the `loadfarm` program. node_modules stay external (loaded
// from the installed packages), except hdr-histogram-js, which the CLI loads on every run: it is
// bundled without what the CLI never runs, with the worker bundle's shims (worker-bundle.js):
// no WebAssembly histograms (the embedded wasm and @assemblyscript/loader), no pako (node's zlib,
// which hdr-histogram-js uses anyway), its `eval('require("zlib")…')` made a plain require, and
// its HistogramLogWriter (which loads ICU) loaded on first use instead of with the package.
// That is a third of what loading the CLI costs on `loadfarm run` (issue 16).
const path = require('node:path');
const fs = require('node:fs');

const SHIMS = path.join(__dirname, 'worker-shims');
const HDR = 'hdr-histogram-js';
/** hdr-histogram-js's one direct eval, and the plain require it becomes. */
const HDR_EVAL = /eval\('require\("zlib"\)\.(deflateSync|inflateSync)'\)/g;
/** hdr-histogram-js's index.js: loading HistogramLogWriter, and exporting it. */
const HDR_LOG_WRITER = /const HistogramLogWriter_1 = require\("\.\/HistogramLogWriter"\);\s*exports\.HistogramLogWriter = HistogramLogWriter_1\.default;/;

/** @returns {import('esbuild').Plugin} */
function leanHdr(root) {
  // Where it really is: esbuild names importers by their real paths, and node_modules may be a
  // link (the bench builds commits with the project's node_modules linked in).
  const hdrDir = path.dirname(require.resolve(`${HDR}/package.json`, { paths: [root] })) + path.sep;
  return {
    name: 'lean-hdr',
    setup(build) {
      // Bundled (not external): the plugin's resolution wins over `packages: 'external'`.
      build.onResolve({ filter: /^hdr-histogram-js$/ }, () => ({ path: require.resolve(HDR, { paths: [root] }) }));
      build.onResolve({ filter: /^pako$/ }, (args) => (args.importer.startsWith(hdrDir) ? { path: path.join(SHIMS, 'pako.js') } : undefined));
      // Its one other dependency goes with it, found from where hdr-histogram-js is installed.
      build.onResolve({ filter: /^base64-js$/ }, (args) => (args.importer.startsWith(hdrDir) ? { path: require.resolve(args.path, { paths: [args.resolveDir] }) } : undefined));
      build.onResolve({ filter: /^\.\/wasm$/ }, (args) => (args.importer.startsWith(hdrDir) ? { path: path.join(SHIMS, 'hdr-wasm.js') } : undefined));
      // HistogramLogWriter makes an Intl.NumberFormat when loaded: the process's first Intl call,
      // which loads ICU's locale data (~15-20 ms). The CLI never writes histogram logs: the export
      // stays, loaded on first use.
      build.onLoad({ filter: /hdr-histogram-js[\\/]dist[\\/]index\.js$/ }, async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        const contents = source.replace(HDR_LOG_WRITER, 'Object.defineProperty(exports, "HistogramLogWriter", { enumerable: true, get: () => require("./HistogramLogWriter").default });');
        if (contents === source) throw new Error(`${args.path}: the HistogramLogWriter export was not found; check cli-bundle.js against this hdr-histogram-js`);
        return { contents, loader: 'js' };
      });
      build.onLoad({ filter: /hdr-histogram-js[\\/]dist[\\/]JsHistogram\.encoding\.js$/ }, async (args) => {
        const source = await fs.promises.readFile(args.path, 'utf8');
        const contents = source.replace(HDR_EVAL, 'require("zlib").$1');
        if (contents === source) throw new Error(`${args.path}: the eval of require("zlib") was not found; check cli-bundle.js against this hdr-histogram-js`);
        return { contents, loader: 'js' };
      });
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
