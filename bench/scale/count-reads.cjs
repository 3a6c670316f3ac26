'use strict';
// Loaded into `loadfarm report` by bench/parts/merge.mjs (NODE_OPTIONS="--require …"): counts the
// files and bytes the process reads under BENCH_READS_ROOT (the file store) through
// fs.promises.readFile (FileStore.get) and fs.readFile(Sync), and writes, at exit, to
// BENCH_READS_OUT: { files, bytes, rchar } (rchar: every byte the process read through
// read(2)-like calls, /proc/self/io, modules included). It changes nothing else.
const fs = require('node:fs');
const root = process.env.BENCH_READS_ROOT;
const out = process.env.BENCH_READS_OUT;
if (root && out) {
  let files = 0;
  let bytes = 0;
  const count = (file, body) => {
    if (typeof file === 'string' && file.startsWith(root) && body && typeof body.length === 'number') {
      files++;
      bytes += typeof body === 'string' ? Buffer.byteLength(body) : body.length;
    }
  };
  const readFileP = fs.promises.readFile;
  fs.promises.readFile = async function (file, ...rest) {
    const body = await readFileP.call(this, file, ...rest);
    count(file, body);
    return body;
  };
  const readFileSync = fs.readFileSync;
  fs.readFileSync = function (file, ...rest) {
    const body = readFileSync.call(this, file, ...rest);
    count(file, body);
    return body;
  };
  const readFileCb = fs.readFile;
  fs.readFile = function (file, ...rest) {
    const cb = rest.pop();
    return readFileCb.call(this, file, ...rest, (err, body) => {
      if (!err) count(file, body);
      cb(err, body);
    });
  };
  process.on('exit', () => {
    let rchar;
    try {
      rchar = Number(/rchar:\s+(\d+)/.exec(readFileSync.call(fs, '/proc/self/io', 'utf8'))?.[1]);
    } catch {
      rchar = undefined;
    }
    fs.writeFileSync(out, JSON.stringify({ files, bytes, rchar, maxRssKb: process.resourceUsage().maxRSS }));
  });
}
