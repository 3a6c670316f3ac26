// Aggregates a V8 .heapsnapshot by what each object is (constructor or closure name, or node type),
// self sizes summed: `node heap-types.mjs A.heapsnapshot [B.heapsnapshot N]` prints the largest groups,
// or with B and N the growth from A to B divided by N (bytes per connection, say).
import * as fs from 'node:fs';

export function byType(file) {
  const snap = JSON.parse(fs.readFileSync(file, 'utf8'));
  const f = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = f.length;
  const iType = f.indexOf('type');
  const iName = f.indexOf('name');
  const iSize = f.indexOf('self_size');
  const nodes = snap.nodes;
  const strings = snap.strings;
  const out = new Map();
  for (let i = 0; i < nodes.length; i += width) {
    const type = types[nodes[i + iType]];
    let name = type;
    if (type === 'object' || type === 'closure' || type === 'native') name = `${type} ${strings[nodes[i + iName]]}`;
    else if (type === 'array' || type === 'hidden' || type === 'code' || type === 'object shape') name = `${type} ${strings[nodes[i + iName]]}`.slice(0, 60);
    const e = out.get(name) ?? { count: 0, bytes: 0 };
    e.count++;
    e.bytes += nodes[i + iSize];
    out.set(name, e);
  }
  return out;
}

if (process.argv[1]?.endsWith('heap-types.mjs')) {
  const a = byType(process.argv[2]);
  if (process.argv[3]) {
    const b = byType(process.argv[3]);
    const n = Number(process.argv[4] ?? 1);
    const rows = [];
    for (const [k, v] of b) {
      const before = a.get(k) ?? { count: 0, bytes: 0 };
      rows.push([k, (v.count - before.count) / n, (v.bytes - before.bytes) / n]);
    }
    rows.sort((x, y) => y[2] - x[2]);
    let total = 0;
    for (const r of rows) total += r[2];
    console.log(`total ${total.toFixed(0)} bytes per unit`);
    for (const r of rows.slice(0, 40)) console.log(`${r[2].toFixed(0).padStart(7)} B  ${r[1].toFixed(2).padStart(6)}×  ${r[0]}`);
  } else {
    const rows = [...a].sort((x, y) => y[1].bytes - x[1].bytes).slice(0, 40);
    for (const [k, v] of rows) console.log(`${String(v.bytes).padStart(10)} B ${String(v.count).padStart(8)}×  ${k}`);
  }
}
