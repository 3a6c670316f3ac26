import { parseDuration } from '../worker/scenario/duration';
import { showLimit, TIMER_MAX_MS } from '../worker/scenario/limits';
import { parseThreshold } from '../worker/scenario/thresholds';

/**
 * Flag parsing that collects problems instead of throwing, so that every bad flag is reported
 * in one go: `const p = new Problems(); const n = p.int('--workers', raw, 1); p.throwIfAny();`
 */
export class Problems {
  readonly list: string[] = [];

  add(flag: string, expected: string, got: unknown): undefined {
    this.list.push(`${flag}: expected ${expected}, got ${JSON.stringify(got)}`);
    return undefined;
  }

  int(flag: string, raw: string | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || n < min || n > max) return this.add(flag, `a whole number from ${min} to ${max}`, raw);
    return n;
  }

  /**
   * A duration flag in ms, at least `minMs` and at most `max.ms` (by default the longest delay
   * Node's timers honour). Too long a value is refused with the limit and what it is, e.g.
   * `--interval: expected at most 10m (the longest snapshot interval), got "25d"`.
   */
  durationMs(flag: string, raw: string | undefined, minMs = 0, max: Limit = TIMER_LIMIT): number | undefined {
    if (raw === undefined) return undefined;
    const ms = parseDuration(raw);
    if (ms === undefined || ms < minMs) return this.add(flag, `a duration like 2s, 500ms or 1m${minMs > 0 ? ` (at least ${minMs} ms)` : ''}`, raw);
    if (ms > max.ms) return this.add(flag, `at most ${showLimit(max.ms)} (${max.what})`, raw);
    return ms;
  }

  /** `--threshold 'metric: expr'` (repeatable) → { metric: [expr…] }. */
  thresholds(raw: string[] | undefined): Record<string, string[]> {
    const out: Record<string, string[]> = {};
    for (const item of raw ?? []) {
      const at = item.lastIndexOf(':');
      const metric = at > 0 ? item.slice(0, at).trim() : '';
      const expr = at > 0 ? item.slice(at + 1).trim() : '';
      const parsed = parseThreshold(expr);
      if (!metric || 'problem' in parsed) {
        this.add('--threshold', "'metric: expression' like 'http.GET /: p(99) < 250' or 'errors: rate < 0.01'", item);
        continue;
      }
      (out[metric] ??= []).push(expr);
    }
    return out;
  }

  /** `--param KEY=VALUE` (repeatable) → { KEY: VALUE }. */
  params(raw: string[] | undefined): Record<string, string> {
    const out: Record<string, string> = {};
    for (const item of raw ?? []) {
      const at = item.indexOf('=');
      if (at <= 0) {
        this.add('--param', 'KEY=VALUE', item);
        continue;
      }
      out[item.slice(0, at)] = item.slice(at + 1);
    }
    return out;
  }

  get any(): boolean {
    return this.list.length > 0;
  }
}

/** An upper bound and what it is, for the message: `{ ms: 600_000, what: 'the longest snapshot interval' }`. */
export interface Limit {
  readonly ms: number;
  readonly what: string;
}

const TIMER_LIMIT: Limit = { ms: TIMER_MAX_MS, what: "the longest delay Node's timers honour" };

export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
