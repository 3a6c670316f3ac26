/**
 * Runs callbacks after the event-loop turn in which they were queued has fully passed,
 * with two `setImmediate`s per turn for all of them instead of one per callback.
 *
 * Why two: undici hands a keep-alive socket back to its pool from a `setImmediate` queued just
 * after the response completes; a request made before that runs opens another connection. The
 * first immediate of a batch may run before such immediates queued later in the same turn
 * (Node runs immediates in order, and microtasks between them), so the batch is settled by a
 * second immediate, queued from the first: it runs after every immediate of that turn.
 */
export interface AfterTurn {
  afterTurn(): void;
}

let queued: AfterTurn[] = [];
let scheduled = false;

/** Calls `item.afterTurn()` once the current event-loop turn (and its immediates) is over. */
export function afterTurn(item: AfterTurn): void {
  queued.push(item);
  if (!scheduled) {
    scheduled = true;
    setImmediate(first);
  }
}

function first(): void {
  const batch = queued;
  queued = [];
  scheduled = false;
  setImmediate(second, batch);
}

function second(batch: AfterTurn[]): void {
  for (let i = 0; i < batch.length; i++) batch[i].afterTurn();
}
