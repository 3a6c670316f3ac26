/** Socket.IO's disconnect reasons (a fixed set) to report codes; the rest are ECONNRESET. */
export const DISCONNECT_CODES: Record<string, string> = { 'ping timeout': 'ETIMEDOUT', 'parse error': 'EPROTO' };

/**
 * The system code under an Engine.IO transport failure: `ws` reports it as `ErrorEvent.error`, the
 * polling XHR as `statusText` (an Error) or an HTTP status. Undefined when there is none.
 */
export function transportCode(err: unknown): string | undefined {
  const e = err as { type?: unknown; description?: unknown; context?: unknown } | null;
  if (!e || e.type !== 'TransportError') return undefined;
  const inner = (e.description as { error?: { code?: unknown } } | null)?.error ?? (e.context as { statusText?: { code?: unknown } } | null)?.statusText;
  if (inner && typeof inner.code === 'string') return inner.code;
  if (typeof e.description === 'number' && e.description >= 100) return `HTTP ${e.description}`;
  return undefined;
}

