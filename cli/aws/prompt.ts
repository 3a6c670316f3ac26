/** Asking a person to confirm something that costs money or deletes things. */
import * as readline from 'node:readline/promises';
import { UsageError } from '../errors';

/** Asks a yes/no question; true only for an explicit yes. */
export type ConfirmFn = (question: string) => Promise<boolean>;

/** A confirmation on the terminal: `question [y/N] `, yes for `y` or `yes`. */
export function terminalConfirm(
  input: NodeJS.ReadableStream = process.stdin,
  output: NodeJS.WritableStream = process.stderr,
): ConfirmFn {
  return async (question) => {
    const rl = readline.createInterface({ input, output });
    try {
      const answer = await rl.question(`${question} [y/N] `);
      return /^\s*y(es)?\s*$/i.test(answer);
    } finally {
      rl.close();
    }
  };
}

export interface ConfirmPolicy {
  /** `--yes` was given. */
  readonly yes: boolean;
  /** Whether a person can answer (stdin and stderr are terminals). */
  readonly interactive: boolean;
  readonly confirm: ConfirmFn;
}

/**
 * True when `action` (e.g. `deploy loadfarm-perf`) may go ahead: `--yes`, or a person said yes.
 * @throws UsageError when no one can be asked and `--yes` was not given
 */
export async function confirmed(policy: ConfirmPolicy, question: string, action: string): Promise<boolean> {
  if (policy.yes) return true;
  if (!policy.interactive) {
    throw new UsageError(`refusing to ${action} without confirmation: no terminal to ask on; pass --yes to go ahead`);
  }
  return policy.confirm(question);
}
