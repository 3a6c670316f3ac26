/**
 * Failure codes as they appear in reports. A client failure is recorded once, by the client,
 * and surfaces to the scenario as a `LoadError` carrying the code; the engine does not count
 * it again when it ends the user.
 */
export class LoadError extends Error {
  override readonly name = 'LoadError';
  constructor(
    readonly code: string,
    message: string,
    /** True once the failure is in the metrics. */
    readonly recorded = true,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Thrown into users' pending waits when the run stops; never counted as an error. */
export class StopError extends Error {
  override readonly name = 'StopError';
  readonly code = 'LF_STOPPED';
  constructor() {
    super('the run is stopping');
  }
}

/** Codes that say the generator ran out of something, not that the target failed. */
export const GENERATOR_CODES = new Set(['EADDRNOTAVAIL', 'EMFILE', 'ENFILE', 'ENOBUFS', 'EADDRINUSE', 'ENOMEM']);

const UNDICI_CODES: Record<string, string> = {
  UND_ERR_CONNECT_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_HEADERS_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_BODY_TIMEOUT: 'ETIMEDOUT',
  UND_ERR_SOCKET: 'ECONNRESET',
  UND_ERR_CLOSED: 'ECONNRESET',
  UND_ERR_ABORTED: 'ABORTED',
  UND_ERR_RES_CONTENT_LENGTH_MISMATCH: 'EPROTO',
  UND_ERR_REQ_CONTENT_LENGTH_MISMATCH: 'EPROTO',
};

/** The report's code for any thrown value: a system code, a mapped client code, or the error's name. */
export function errorCode(err: unknown): string {
  if (err instanceof LoadError) return err.code;
  const e = err as { code?: unknown; cause?: { code?: unknown }; name?: unknown; errors?: unknown[] } | null;
  if (e && typeof e.code === 'string') {
    if (UNDICI_CODES[e.code]) {
      const causeCode = e.cause && typeof e.cause.code === 'string' ? e.cause.code : undefined;
      return causeCode && !causeCode.startsWith('UND_') ? causeCode : UNDICI_CODES[e.code];
    }
    return e.code;
  }
  // AggregateError from a multi-address connect attempt: the first system code wins.
  if (e && Array.isArray(e.errors)) for (const inner of e.errors) {
    const code = (inner as { code?: unknown })?.code;
    if (typeof code === 'string') return code;
  }
  if (e && e.cause && typeof e.cause.code === 'string') return e.cause.code;
  if (e && typeof e.name === 'string' && e.name !== 'Error') return e.name;
  return 'EXCEPTION';
}

export function isGeneratorCode(code: string): boolean {
  return GENERATOR_CODES.has(code);
}
