import { EXIT, UsageError } from '../errors';

/**
 * The CLI stops following a run it cannot follow any more (credentials expired or refused,
 * access denied, the store unreadable for too long) and leaves the workers running: they keep
 * writing their results and stop by their own deadline. The message says what happened and the
 * exact command that picks the run up again. Printed as one line like any UsageError.
 */
export class RunDetachedError extends UsageError {
  /** The run is neither finished nor reported: "incomplete" in the exit-code table. */
  readonly exitCode = EXIT.incomplete;

  constructor(
    readonly runId: string,
    message: string,
    details: string[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, details);
    if (options?.cause !== undefined) (this as { cause?: unknown }).cause = options.cause;
  }
}
