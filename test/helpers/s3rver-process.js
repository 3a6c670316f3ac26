// Runs @20minutes/s3rver in a process of its own, for test/helpers/s3rver.ts.
// Why a process: s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 20's
// OpenSSL 3 only offers with --openssl-legacy-provider, a flag the jest process must not need.
//
// Usage: node --openssl-legacy-provider s3rver-process.js DIRECTORY
// Prints one JSON line {"port": N} on stdout once listening on 127.0.0.1:N. Exits when its
// stdin closes, so it never outlives the test process that spawned it (even one killed).
'use strict';
const S3rver = require('@20minutes/s3rver');

const directory = process.argv[2];
if (!directory) {
  process.stderr.write('usage: s3rver-process.js DIRECTORY\n');
  process.exit(1);
}

const server = new S3rver({
  address: '127.0.0.1',
  port: 0,
  silent: true,
  directory,
  allowMismatchedSignatures: true,
});

server.run().then(
  ({ port }) => process.stdout.write(`${JSON.stringify({ port })}\n`),
  (err) => {
    process.stderr.write(`s3rver: ${err.stack || err}\n`);
    process.exit(1);
  },
);

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
