// The dry run's defaults, apart from the dry run itself (cli/run/once.ts): `validate` shows them
// in its help without loading the protocol clients the dry run needs.

/** The dry run's window when `--window` is not given, ms. */
export const DEFAULT_WINDOW_MS = 5000;
/** How long a journey may run in a dry run when `--timeout` is not given, ms. */
export const DEFAULT_TIMEOUT_MS = 60_000;
