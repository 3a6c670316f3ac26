// What neither bundle (dist/worker.js, dist/cli.js) runs of hdr-histogram-js, taken out the same way
// for both: its WebAssembly histograms (the embedded wasm and @assemblyscript/loader: a shim), its
// `eval('require("zlib")…')` made a plain require (a direct eval keeps esbuild from minifying any
// name in the bundle), and its HistogramLogWriter, which makes an Intl.NumberFormat when loaded (the
// process's first Intl call, which loads ICU's locale data, ~15-20 ms), loaded on first use instead
// of with the package. Each rewrite fails the build when it no longer finds what it rewrites.
const path = require('node:path');
const fs = require('node:fs');

const SHIMS = path.join(__dirname, 'worker-shims');
const HDR = 'hdr-histogram-js';
/** hdr-histogram-js's one direct eval, and the plain require it becomes. */
const HDR_EVAL = /eval\('require\("zlib"\)\.(deflateSync|inflateSync)'\)/g;
/** hdr-histogram-js's index.js: loading HistogramLogWriter, and exporting it. */
const HDR_LOG_WRITER = /const HistogramLogWriter_1 = require\("\.\/HistogramLogWriter"\);\s*exports\.HistogramLogWriter = HistogramLogWriter_1\.default;/;
const LAZY_LOG_WRITER = 'Object.defineProperty(exports, "HistogramLogWriter", { enumerable: true, get: () => require("./HistogramLogWriter").default });';

/**
 * hdr-histogram-js's folder as esbuild names importers: by real path (node_modules may be a link,
 * as in the bench's builds of a commit and in worktrees), with a trailing separator.
 */
function hdrDirOf(root) {
  return path.dirname(require.resolve(`${HDR}/package.json`, { paths: [root] })) + path.sep;
}

/** Adds the rewrites above to an esbuild plugin's `build`. */
function leanHdrSources(build, hdrDir) {
  // hdr-histogram-js requires './wasm' from its dist folder (and '../wasm' from nowhere else).
  build.onResolve({ filter: /^\.\/wasm$/ }, (args) => (args.importer.startsWith(hdrDir) ? { path: path.join(SHIMS, 'hdr-wasm.js') } : undefined));
  build.onLoad({ filter: /hdr-histogram-js[\\/]dist[\\/]index\.js$/ }, (args) => rewrite(args.path, HDR_LOG_WRITER, LAZY_LOG_WRITER, 'the HistogramLogWriter export'));
  build.onLoad({ filter: /hdr-histogram-js[\\/]dist[\\/]JsHistogram\.encoding\.js$/ }, (args) => rewrite(args.path, HDR_EVAL, 'require("zlib").$1', 'the eval of require("zlib")'));
}

async function rewrite(file, pattern, replacement, what) {
  const source = await fs.promises.readFile(file, 'utf8');
  const contents = source.replace(pattern, replacement);
  if (contents === source) throw new Error(`${file}: ${what} was not found; check scripts/hdr-lean.js against this hdr-histogram-js`);
  return { contents, loader: 'js' };
}

module.exports = { HDR, SHIMS, hdrDirOf, leanHdrSources };
