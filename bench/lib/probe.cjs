'use strict';
// Loaded into every node process of a bench run with NODE_OPTIONS="--require …/probe.cjs".
// With BENCH_PROBE_DIR set it writes, for this process:
//   <pid>.exit.json      on exit: CPU (user, system µs), max RSS, argv
//   <pid>.probe-<n>.json on SIGUSR2: after a full GC (when --expose-gc), RSS, heap, CPU so far
//                        (and <pid>.probe-<n>.heapsnapshot with BENCH_HEAP_SNAPSHOT=1)
//   <pid>.cpuprofile    with BENCH_CPU_PROF=<regex> matching the script's path: a V8 CPU profile of
//                       the whole life of the process (NODE_OPTIONS refuses --cpu-prof itself)
// It changes nothing else: the measured program runs as it would without it.
const fs = require('node:fs');
const path = require('node:path');
const dir = process.env.BENCH_PROBE_DIR;
if (dir) {
  const started = Date.now();
  const write = (name, extra) => {
    const cpu = process.cpuUsage();
    const body = { pid: process.pid, ppid: process.ppid, argv: process.argv.slice(1), at: Date.now(), startedAt: started, userUs: cpu.user, systemUs: cpu.system, ...extra };
    try {
      fs.writeFileSync(path.join(dir, `${process.pid}.${name}.json`), JSON.stringify(body));
    } catch {
      // The probe directory is gone: the bench that wanted it is over.
    }
  };
  let stopProfile;
  const profWanted = process.env.BENCH_CPU_PROF;
  if (profWanted && new RegExp(profWanted).test(process.argv[1] ?? '')) {
    const inspector = require('node:inspector');
    const session = new inspector.Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.setSamplingInterval', { interval: Number(process.env.BENCH_CPU_PROF_US ?? 500) });
    session.post('Profiler.start');
    // On the main thread the session answers synchronously, so this works inside 'exit'.
    stopProfile = () =>
      session.post('Profiler.stop', (err, res) => {
        if (!err) fs.writeFileSync(path.join(dir, `${process.pid}.cpuprofile`), JSON.stringify(res.profile));
      });
  }
  process.on('exit', (code) => {
    write('exit', { code, maxRssKb: process.resourceUsage().maxRSS });
    stopProfile?.();
  });
  let n = 0;
  process.on('SIGUSR2', () => {
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      globalThis.gc();
    }
    const m = process.memoryUsage();
    if (process.env.BENCH_HEAP_SNAPSHOT) require('node:v8').writeHeapSnapshot(path.join(dir, `${process.pid}.probe-${n}.heapsnapshot`));
    write(`probe-${n++}`, { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, handles: process._getActiveHandles?.().length });
  });
}
