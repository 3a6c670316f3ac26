// Regenerates BENCHMARKS.md from bench/results/latest.json without measuring anything
// (after editing bench/lib/report.mjs, say): `node bench/write-md.mjs`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BENCH_DIR } from './lib/proc.mjs';
import { writeBenchmarks } from './lib/report.mjs';

const PARTS = ['http', 'ws-idle', 'socketio-idle', 'tcp', 'ws-rr', 'merge', 'many'];
const latest = JSON.parse(fs.readFileSync(path.join(BENCH_DIR, 'results', 'latest.json'), 'utf8'));
writeBenchmarks(latest, PARTS);
console.log('BENCHMARKS.md written');
