'use strict';
// The S3 protocol server for bench/parts/scale-s3.mjs: @20minutes/s3rver on 127.0.0.1, a free
// port, in DIRECTORY. Run with --openssl-legacy-provider (ListObjectsV2 continuation tokens).
// Prints `listening <port>` once it listens; exits on SIGTERM.
const S3rver = require('@20minutes/s3rver');

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: node --openssl-legacy-provider s3rver.cjs DIRECTORY\n');
  process.exit(1);
}
new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, allowMismatchedSignatures: true }).run().then(
  ({ port }) => process.stdout.write(`listening ${port}\n`),
  (err) => {
    process.stderr.write(`s3rver: ${err.stack || err}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => process.exit(0));
