// A TCP target that accepts and holds: it reads and drops whatever comes, and closes its side when
// the client closes (connect+close loops) or holds until then (`loadfarm hold`).
// Usage: node tcp-server.mjs [--processes N]   (N processes share the port: see cluster.mjs)
//
// It counts its own sockets, so that a figure measured against it rests on the target's count,
// not the tool's. Whenever the counts change (checked every COUNT_EVERY_MS) it prints on stdout:
//   counts accepted=A open=O peak=P
// A: connections accepted since start; O: open now; P: the most open at once. With one process
// P is exact; with N processes each one reports its own counts to the primary every
// COUNT_EVERY_MS, and P is the largest sum of the latest reports (a lower bound of the true
// peak, exact once connections are held longer than COUNT_EVERY_MS).
import cluster from 'node:cluster';
import * as net from 'node:net';
import { clustered, argInt } from './cluster.mjs';

const COUNT_EVERY_MS = 100;
const processes = argInt('--processes', 1);

/** Prints a `counts` line when the figures differ from the last one printed. */
function countsPrinter() {
  let last = '';
  return (accepted, open, peak) => {
    const line = `counts accepted=${accepted} open=${open} peak=${peak}`;
    if (line !== last) console.log(line);
    last = line;
  };
}

clustered(processes, (port, ready) => {
  let accepted = 0;
  let open = 0;
  let peak = 0;
  const server = net.createServer({ noDelay: true }, (s) => {
    accepted++;
    peak = Math.max(peak, ++open);
    s.on('error', () => {});
    s.on('close', () => open--);
    s.resume();
  });
  server.maxConnections = 1_000_000;
  const print = processes <= 1 ? countsPrinter() : undefined;
  let sent = '';
  setInterval(() => {
    if (print) return print(accepted, open, peak);
    const now = `${accepted}/${open}`;
    if (now !== sent) process.send({ counts: { accepted, open } });
    sent = now;
  }, COUNT_EVERY_MS).unref();
  server.listen({ port, host: '127.0.0.1', backlog: 4096 }, () => ready(server.address().port));
});

if (processes > 1 && cluster.isPrimary) {
  const latest = new Map();
  let peak = 0;
  const print = countsPrinter();
  cluster.on('message', (w, msg) => {
    if (msg?.counts) latest.set(w.id, msg.counts);
  });
  setInterval(() => {
    let accepted = 0;
    let open = 0;
    for (const c of latest.values()) {
      accepted += c.accepted;
      open += c.open;
    }
    peak = Math.max(peak, open);
    print(accepted, open, peak);
  }, COUNT_EVERY_MS).unref();
}
