import { PlanError } from '../worker/plan/read';
import { StoreError } from '../worker/store/errors';

export { PlanError, StoreError };

/**
 * Bad input the person can fix: printed as one line (`loadfarm: …`) and exit code 1, before
 * anything is launched. So are a store that cannot be used and a stored plan that cannot be
 * read (personLine). Every other error is a bug or an outage and is printed in full.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, readonly details: string[] = []) {
    super(message);
  }
}

export const EXIT = { passed: 0, badInput: 1, incomplete: 2, thresholds: 99 } as const;

/**
 * The one line to print (exit 1) for an error the person must fix outside the program: a
 * StoreError (bad store URL, unsafe run id, a path that is a file, a read-only filesystem,
 * permissions, …) or a PlanError (a stored plan.json that is not a plan). Undefined for any
 * other error. Line breaks inside a message are folded, so it is always one line.
 */
export function personLine(err: unknown): string | undefined {
  if (!(err instanceof StoreError) && !(err instanceof PlanError)) return undefined;
  return err.message.replace(/\s*[\r\n]+\s*/g, ' ');
}
