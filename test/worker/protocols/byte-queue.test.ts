import fc from 'fast-check';
import { ByteQueue } from '../../../worker/protocols/byte-queue';

/**
 * The TCP client's receive queue, against the obvious model (one Buffer, sliced): any chunking of
 * the same bytes must read the same, whatever mix of take, peek and indexOf runs on it.
 */
type Op = { kind: 'push'; bytes: number[] } | { kind: 'take'; n: number } | { kind: 'peek'; at: number } | { kind: 'indexOf'; needle: number[]; from: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('push' as const), bytes: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 6 }) }),
  fc.record({ kind: fc.constant('take' as const), n: fc.nat({ max: 8 }) }),
  fc.record({ kind: fc.constant('peek' as const), at: fc.nat({ max: 8 }) }),
  fc.record({ kind: fc.constant('indexOf' as const), needle: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 3 }), from: fc.nat({ max: 4 }) }),
);

test('any sequence of operations reads what one flat buffer would', () => {
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const q = new ByteQueue();
      let model = Buffer.alloc(0);
      for (const o of ops) {
        if (o.kind === 'push') {
          q.push(Buffer.from(o.bytes));
          model = Buffer.concat([model, Buffer.from(o.bytes)]);
        } else if (o.kind === 'take') {
          if (model.length < o.n) continue; // callers check the length first
          expect([...q.take(o.n)]).toEqual([...model.subarray(0, o.n)]);
          model = model.subarray(o.n);
        } else if (o.kind === 'peek') {
          if (o.at >= model.length) continue;
          expect(q.peek(o.at)).toBe(model[o.at]);
        } else {
          const expected = o.from > model.length ? -1 : model.indexOf(Buffer.from(o.needle), o.from);
          if (o.from > model.length) continue;
          expect(q.indexOf(Buffer.from(o.needle), o.from)).toBe(expected);
        }
        expect(q.length).toBe(model.length);
      }
    }),
    { numRuns: 500 },
  );
});

test('a read inside one chunk returns a view, not a copy; a read across chunks copies only what it returns', () => {
  const q = new ByteQueue();
  const first = Buffer.from('abcdef');
  q.push(first);
  q.push(Buffer.from('ghij'));
  const inside = q.take(3);
  expect(inside.buffer).toBe(first.buffer);
  const across = q.take(5);
  expect(across.toString()).toBe('defgh');
  expect(across.length).toBe(5);
  expect(q.length).toBe(2);
  expect(q.take(2).toString()).toBe('ij');
  expect(q.length).toBe(0);
});
