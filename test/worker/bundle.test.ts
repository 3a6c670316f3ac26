/**
 * What dist/worker.js is made of: the worker bundled with the options `npm run build` uses
 * (scripts/worker-bundle.js), into a temp folder, with esbuild's metafile naming every input.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT, rmTemp, tempDir } from '../helpers/cli';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { workerBuildOptions } = require('../../scripts/worker-bundle') as { workerBuildOptions(root: string): esbuild.BuildOptions };

/** dist/worker.js was 3.3 MB; what it holds now is about 0.96 MB. */
const SIZE_BUDGET_BYTES = 1_100_000;

/** Packages a worker never runs (the security review's list, and what came with them). */
const LEFT_OUT = [
  'node_modules/pako/',
  'node_modules/@assemblyscript/loader/',
  'node_modules/hdr-histogram-js/dist/wasm/',
  'node_modules/bowser/',
  'node_modules/@aws-sdk/credential-provider-node/',
  'node_modules/@aws-sdk/credential-provider-ini/',
  'node_modules/@aws-sdk/credential-provider-sso/',
  'node_modules/@aws-sdk/credential-provider-login/',
  'node_modules/@aws-sdk/credential-provider-process/',
  'node_modules/@aws-sdk/credential-provider-web-identity/',
  'node_modules/@aws-sdk/credential-provider-http/',
  'node_modules/@aws-sdk/token-providers/',
  'node_modules/@aws-sdk/nested-clients/',
  'node_modules/debug/',
  'node_modules/undici/lib/mock/',
  'node_modules/undici/lib/cache/',
  'node_modules/undici/lib/web/websocket/',
  'node_modules/undici/lib/web/eventsource/',
  'node_modules/undici/lib/interceptor/',
];

let dir: string;
let inputs: string[];
let code: string;
let bytes: number;

beforeAll(async () => {
  dir = tempDir('loadfarm-bundle-');
  const outfile = path.join(dir, 'worker.js');
  const result = await esbuild.build({ ...workerBuildOptions(ROOT), outfile, metafile: true, logLevel: 'silent' });
  // The inputs with bytes in the output: an import that is resolved but tree-shaken away is no part of it.
  const output = result.metafile.outputs[path.relative(ROOT, outfile).split(path.sep).join('/')];
  inputs = Object.entries(output.inputs).flatMap(([input, { bytesInOutput }]) => (bytesInOutput > 0 ? [input] : []));
  code = fs.readFileSync(outfile, 'utf8');
  bytes = fs.statSync(outfile).size;
}, 60_000);
afterAll(() => rmTemp(dir));

test('leaves out what a worker never runs', () => {
  const found = LEFT_OUT.filter((p) => inputs.some((i) => i.includes(p)));
  expect(found).toEqual([]);
  // …and keeps what it does run (the metafile names real inputs).
  for (const needed of ['node_modules/undici/lib/dispatcher/agent.js', 'node_modules/@aws-sdk/credential-provider-env/', 'node_modules/@smithy/credential-provider-imds/', 'node_modules/ws/']) {
    expect(inputs.some((i) => i.includes(needed))).toBe(true);
  }
});

test('is minified, within its size budget, with no direct eval left', () => {
  expect(bytes).toBeLessThan(SIZE_BUDGET_BYTES);
  // Minified: few lines for hundreds of kilobytes.
  expect(code.split('\n').length).toBeLessThan(200);
  expect(code).not.toMatch(/\beval\(/);
});

test('keeps a linked source map that names the worker sources', () => {
  expect(code.trimEnd().endsWith('//# sourceMappingURL=worker.js.map')).toBe(true);
  const map = JSON.parse(fs.readFileSync(path.join(dir, 'worker.js.map'), 'utf8')) as { sources: string[]; mappings: string };
  expect(map.sources.some((s) => s.endsWith('worker/main.ts'))).toBe(true);
  expect(map.sources.some((s) => s.endsWith('worker/protocols/http.ts'))).toBe(true);
  expect(map.mappings.length).toBeGreaterThan(0);
});
