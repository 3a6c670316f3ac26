/**
 * A small, fast, seeded generator (sfc32, seeded through splitmix32). The same seed gives the
 * same sequence on every machine. Not for cryptography.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Whole number uniform in [min, max] (both included). */
  int(min: number, max: number): number;
  /** Uniform in [min, max). */
  float(min: number, max: number): number;
  /** True with probability p. */
  bool(p?: number): boolean;
  /** One element, uniformly. */
  pick<T>(items: readonly T[]): T;
  /**
   * One element, by relative weight, in either form:
   * `weighted(['a', 'b'], [3, 1])` or `weighted([['a', 3], ['b', 1]])`.
   * Weights are finite numbers >= 0 with a sum > 0. Throws a TypeError naming the problem when
   * the arguments are not one of the two forms (a journey that does so fails with that message).
   */
  weighted<T>(items: readonly T[], weights: readonly number[]): T;
  weighted<T>(pairs: readonly (readonly [T, number])[]): T;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/** Mixes a run seed and a user number into one 32-bit seed. */
export function userSeed(runSeed: number, userId: number): number {
  const mix = splitmix32((runSeed ^ Math.imul(userId, 0x27d4eb2d)) >>> 0);
  mix();
  return mix();
}

export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = init();
  const next = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) >>> 0;
    return t / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (Math.floor(max) - Math.ceil(min) + 1)),
    float: (min, max) => min + next() * (max - min),
    bool: (p = 0.5) => next() < p,
    pick: (items) => items[Math.floor(next() * items.length)],
    weighted: <T>(items: readonly T[] | readonly (readonly [T, number])[], weights?: readonly number[]): T => {
      if (weights === undefined) return pickWeighted(next, ...fromPairs(items as readonly (readonly [T, number])[]));
      checkWeights(items, weights);
      return pickWeighted(next, items as readonly T[], weights);
    },
  };
}

function pickWeighted<T>(next: () => number, items: readonly T[], weights: readonly number[]): T {
  let total = 0;
  for (const w of weights) total += w;
  let x = next() * total;
  for (let i = 0; i < items.length; i++) {
    x -= weights[i];
    if (x < 0) return items[i];
  }
  // Rounding can leave x at 0 past the end: the last item with a weight takes it.
  for (let i = items.length - 1; i > 0; i--) if (weights[i] > 0) return items[i];
  return items[0];
}

const FORMS = "weighted(items, weights) or weighted([[item, weight], …])";

function fromPairs<T>(pairs: readonly (readonly [T, number])[]): [T[], number[]] {
  if (!Array.isArray(pairs)) throw new TypeError(`u.rng.weighted: expected ${FORMS}, got ${typeof pairs}`);
  const items: T[] = [];
  const weights: number[] = [];
  pairs.forEach((pair, i) => {
    if (!Array.isArray(pair) || pair.length !== 2) {
      throw new TypeError(`u.rng.weighted: expected ${FORMS}; with one argument, item ${i} must be an [item, weight] pair`);
    }
    items.push(pair[0]);
    weights.push(pair[1]);
  });
  checkWeights(items, weights);
  return [items, weights];
}

function checkWeights(items: readonly unknown[], weights: readonly number[]): void {
  if (!Array.isArray(items) || !Array.isArray(weights)) throw new TypeError(`u.rng.weighted: expected ${FORMS}`);
  if (items.length === 0) throw new TypeError('u.rng.weighted: nothing to pick from (no items)');
  if (weights.length !== items.length) throw new TypeError(`u.rng.weighted: ${items.length} items but ${weights.length} weights`);
  let total = 0;
  weights.forEach((w, i) => {
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) throw new TypeError(`u.rng.weighted: weight ${i} must be a finite number >= 0, got ${String(w)}`);
    total += w;
  });
  if (total <= 0) throw new TypeError('u.rng.weighted: the weights add up to 0');
}
