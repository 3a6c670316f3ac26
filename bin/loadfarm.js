#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  console.error('loadfarm: dist/cli.js is missing; run `npm ci` (or `npm run build`) in ' + path.dirname(__dirname));
  process.exit(1);
}
// Node >= 22.1 keeps compiled code between runs (a no-op where it is missing).
require('node:module').enableCompileCache?.();
require(cli);
