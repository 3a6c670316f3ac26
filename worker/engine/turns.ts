/**
 * Event-loop turns, for users that loop: a closed-model iteration that never left the turn it
 * started in (a journey that awaits nothing but resolved promises) must yield before the next,
 * or it would starve timers and I/O; one that waited for I/O or a timer need not.
 *
 * `turnNow()` is a number that has grown by the time a check phase (`setImmediate`) has run since
 * it was read; it arms at most one immediate per turn, whatever the number of users.
 * `nextTurn()` resolves after the next check phase; all callers of one turn share one immediate.
 */
let turn = 0;
let counting = false;

export function turnNow(): number {
  if (!counting) {
    counting = true;
    setImmediate(advance);
  }
  return turn;
}

function advance(): void {
  counting = false;
  turn++;
}

let next: Promise<void> | undefined;

export function nextTurn(): Promise<void> {
  return (next ??= new Promise<void>((resolve) =>
    setImmediate(() => {
      next = undefined;
      resolve();
    }),
  ));
}
