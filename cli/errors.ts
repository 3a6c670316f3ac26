/**
 * Bad input the person can fix: printed as one line (`loadfarm: …`) and exit code 1, before
 * anything is launched. Every other error is a bug or an outage and is printed in full.
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  constructor(message: string, readonly details: string[] = []) {
    super(message);
  }
}

export const EXIT = { passed: 0, badInput: 1, incomplete: 2, thresholds: 99 } as const;
