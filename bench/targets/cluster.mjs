// Runs `serve(port)` in `processes` processes sharing one port through node:cluster (round-robin:
// the primary accepts and hands each connection to the next process), so that the target can hold
// more connections than one process's `ulimit -n`. The primary prints `listening <port>` once every
// process listens; SIGTERM ends them all.
import cluster from 'node:cluster';

export function clustered(processes, serve) {
  if (processes <= 1) {
    serve(0, (port) => console.log(`listening ${port}`));
    process.on('SIGTERM', () => process.exit(0));
    return;
  }
  if (cluster.isPrimary) {
    cluster.schedulingPolicy = cluster.SCHED_RR;
    let ready = 0;
    for (let i = 0; i < processes; i++) cluster.fork();
    cluster.on('message', (_w, msg) => {
      if (msg?.listening !== undefined && ++ready === processes) console.log(`listening ${msg.listening}`);
    });
    const end = () => {
      for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL');
      process.exit(0);
    };
    process.on('SIGTERM', end);
    cluster.on('exit', (w, code, signal) => {
      if (signal !== 'SIGKILL') {
        console.error(`target process ${w.process.pid} exited (${code ?? signal})`);
      }
    });
  } else {
    serve(0, (port) => process.send({ listening: port }));
    // Orphaned when the primary is killed: leave too.
    process.on('disconnect', () => process.exit(0));
  }
}

export function argInt(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
