/**
 * The worker's own lines on stderr, safe when nobody reads them any more.
 *
 * A closed pipe (the CLI killed, `| head -c N`) makes every write fail with EPIPE, reported as an
 * 'error' event on the stream. Unhandled, that event becomes an uncaught exception; a handler that
 * reports it on the same stream fails again, and the process spins on the next-tick queue forever,
 * starving timers and signal handlers (SIGTERM, its own deadline). `guardStdio()` gives both
 * streams an 'error' listener; after the first failure a stream is written to no more and its
 * lines are dropped silently (there is nowhere left to say anything).
 */

const gone = new WeakSet<NodeJS.WriteStream>();

/** Installs the 'error' listeners on stdout and stderr. Idempotent. */
export function guardStdio(): void {
  for (const stream of [process.stdout, process.stderr]) {
    if (stream.listeners('error').includes(markGone)) continue;
    stream.on('error', markGone);
  }
}

function markGone(this: NodeJS.WriteStream): void {
  gone.add(this);
}

/** Writes `line` and a newline to stderr; never throws, and drops the line once stderr is gone. */
export function say(line: string): void {
  const err = process.stderr;
  if (gone.has(err) || err.destroyed || !err.writable) return;
  try {
    err.write(`${line}\n`);
  } catch {
    // A synchronous write failure means the same as the 'error' event: the reader is gone.
    gone.add(err);
  }
}
