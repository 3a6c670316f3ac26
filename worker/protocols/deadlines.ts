/**
 * One timer for every operation's deadline in a worker, instead of a timer per operation.
 *
 * An operation extends `Deadline` (the list links live in the operation itself: arming one
 * allocates nothing) and is armed with its timeout. Operations with the same timeout expire in
 * the order they were armed, so each distinct timeout is a FIFO lane; one interval timer checks
 * the heads of the lanes every `TICK_MS` and calls `expire()` on each operation whose deadline
 * has passed. An operation therefore expires between its timeout and its timeout + TICK_MS
 * (plus event-loop lag), never before it. The timer is unref'd and runs only while something is
 * armed.
 */

/** How often deadlines are checked, ms. */
export const TICK_MS = 5;

export abstract class Deadline {
  /** performance.now() ms when `expire()` is due; 0 when not armed. */
  dueAt = 0;
  /** @internal */ prevDue: Deadline | undefined = undefined;
  /** @internal */ nextDue: Deadline | undefined = undefined;
  /** @internal */ lane: Lane | undefined = undefined;

  /** Called once, from the timer, when the deadline passed while armed (it is disarmed first). */
  abstract expire(): void;
}

/** @internal */
interface Lane {
  head: Deadline | undefined;
  tail: Deadline | undefined;
}

const lanes = new Map<number, Lane>();
let armed = 0;
let timer: NodeJS.Timeout | undefined;

/** Arms `d` to expire `timeoutMs` from now. `d` must not be armed already. */
export function arm(d: Deadline, timeoutMs: number): void {
  let lane = lanes.get(timeoutMs);
  if (lane === undefined) lanes.set(timeoutMs, (lane = { head: undefined, tail: undefined }));
  d.dueAt = performance.now() + timeoutMs;
  d.lane = lane;
  d.prevDue = lane.tail;
  d.nextDue = undefined;
  if (lane.tail === undefined) lane.head = d;
  else lane.tail.nextDue = d;
  lane.tail = d;
  if (armed++ === 0 && timer === undefined) {
    timer = setInterval(tick, TICK_MS);
    timer.unref();
  }
}

/** Disarms `d` (no-op when it is not armed). */
export function disarm(d: Deadline): void {
  const lane = d.lane;
  if (lane === undefined) return;
  if (d.prevDue === undefined) lane.head = d.nextDue;
  else d.prevDue.nextDue = d.nextDue;
  if (d.nextDue === undefined) lane.tail = d.prevDue;
  else d.nextDue.prevDue = d.prevDue;
  d.lane = d.prevDue = d.nextDue = undefined;
  d.dueAt = 0;
  armed--;
}

function tick(): void {
  const now = performance.now();
  for (const [ms, lane] of lanes) {
    let d = lane.head;
    while (d !== undefined && d.dueAt <= now) {
      disarm(d);
      d.expire();
      d = lane.head;
    }
    if (lane.head === undefined) lanes.delete(ms);
  }
  if (armed === 0 && timer !== undefined) {
    clearInterval(timer);
    timer = undefined;
  }
}

/** Operations armed now (for tests and diagnostics). */
export function armedCount(): number {
  return armed;
}
