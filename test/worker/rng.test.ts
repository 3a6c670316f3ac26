import { createRng } from '../../worker/engine/rng';

function tally<T extends string>(draw: () => T, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const v = draw();
    out[v] = (out[v] ?? 0) + 1;
  }
  return out;
}

describe('u.rng.weighted', () => {
  it('takes [[item, weight], …] pairs and picks by weight under a seeded rng', () => {
    const rng = createRng(42);
    // Typed: the pairs form returns the item type.
    const draw = (): 'a' | 'b' | 'c' => rng.weighted([['a', 1], ['b', 3], ['c', 0]] as const);
    const n = 20_000;
    const counts = tally(draw, n);
    expect(counts.c).toBeUndefined();
    expect(counts.a + counts.b).toBe(n);
    // Seeded, so exact each time; the bounds state what "by weight" means (1 : 3).
    expect(counts.b / n).toBeGreaterThan(0.73);
    expect(counts.b / n).toBeLessThan(0.77);
  });

  it('gives the same sequence in both forms for the same seed', () => {
    const pairs = createRng(7);
    const lists = createRng(7);
    const a = Array.from({ length: 200 }, () => pairs.weighted<string>([['x', 2], ['y', 5], ['z', 1]]));
    const b = Array.from({ length: 200 }, () => lists.weighted(['x', 'y', 'z'], [2, 5, 1]));
    expect(a).toEqual(b);
    expect(new Set(a)).toEqual(new Set(['x', 'y', 'z']));
  });

  it('refuses arguments that are neither form, naming the problem', () => {
    const rng = createRng(1);
    expect(() => rng.weighted([['a'] as never])).toThrow(/item 0 must be an \[item, weight\] pair/);
    expect(() => rng.weighted(['a', 'b'], [1])).toThrow('u.rng.weighted: 2 items but 1 weights');
    expect(() => rng.weighted(['a'], [-1])).toThrow(/weight 0 must be a finite number >= 0/);
    expect(() => rng.weighted(['a', 'b'], [0, 0])).toThrow('u.rng.weighted: the weights add up to 0');
    expect(() => rng.weighted([])).toThrow('u.rng.weighted: nothing to pick from (no items)');
  });
});
