/**
 * Unknown keys in a scenario's objects, each reported as one line with a suggestion:
 * `load.rampup: unknown key — did you mean rampUp?`. A key that belongs in another object of
 * the scenario says where it goes (`load.grace: unknown key — grace goes at the top level …`).
 */

/** The keys one object of a scenario may have. */
export interface KeySet {
  /** Keys this object accepts. */
  readonly known: readonly string[];
  /** Keys that belong elsewhere, with where they go: `{ grace: 'at the top level of the scenario, next to load' }`. */
  readonly elsewhere?: Readonly<Record<string, string>>;
}

/**
 * Returns one line per key of `obj` not in `keys` (string keys only; symbols such as the
 * defineScenario brand are not the person's keys). `path` prefixes each line (`load`,
 * `load.phases[0]`; '' for the top level).
 */
export function unknownKeys(obj: Record<string, unknown>, path: string, keys: KeySet): string[] {
  const lines: string[] = [];
  for (const key of Object.keys(obj)) {
    if (keys.known.includes(key)) continue;
    const at = path === '' ? key : `${path}.${key}`;
    lines.push(`${at}: unknown key — ${advice(key, keys)}`);
  }
  return lines;
}

function advice(key: string, keys: KeySet): string {
  const elsewhere = keys.elsewhere ?? {};
  if (key in elsewhere) return `${key} goes ${elsewhere[key]}`;
  const near = nearest(key, keys.known);
  if (near !== undefined) return `did you mean ${near}?`;
  const away = nearest(key, Object.keys(elsewhere));
  if (away !== undefined) return `did you mean ${away}? (${away} goes ${elsewhere[away]})`;
  return keys.known.length > 0 ? `expected one of ${keys.known.join(', ')}` : 'this object takes no keys';
}

/**
 * The candidate closest to `key`, or undefined when none is close: the same letters in another
 * case, a short edit distance (at most a third of the length, at least 1), or one containing the
 * other (`gracePeriod` → `grace`).
 */
export function nearest(key: string, candidates: readonly string[]): string | undefined {
  const k = key.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const lc = c.toLowerCase();
    let score = editDistance(k, lc);
    if (score > Math.max(1, Math.floor(Math.max(k.length, lc.length) / 3))) {
      const contained = lc.length >= 4 && k.length >= 4 && (k.includes(lc) || lc.includes(k));
      if (!contained) continue;
      score = Math.abs(k.length - lc.length) + 0.5;
    }
    if (score < bestScore) {
      best = c;
      bestScore = score;
    }
  }
  return best;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, adjacent swaps. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
