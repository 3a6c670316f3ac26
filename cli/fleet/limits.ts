/** SSM Run Command's limits, as the API documents them, and the chunking they call for. */

/** SendCommand accepts at most this many InstanceIds. */
export const MAX_INSTANCES_PER_COMMAND = 50;
/** SendCommand's TimeoutSeconds (delivery timeout) must lie in this range. */
export const DELIVERY_TIMEOUT_RANGE_SECONDS = { min: 30, max: 2_592_000 } as const;
/** AWS-RunShellScript's executionTimeout must lie in this range. */
export const EXECUTION_TIMEOUT_RANGE_SECONDS = { min: 1, max: 172_800 } as const;
/** SendCommand's Comment is at most this long. */
export const MAX_COMMENT_LENGTH = 100;

/** `items` in consecutive slices of at most `size`. */
export function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
