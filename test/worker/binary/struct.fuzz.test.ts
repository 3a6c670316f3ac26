/**
 * Property tests over random layouts: every conforming value round-trips, and random or
 * corrupted bytes either decode or fail with a StructError, allocating nothing larger than
 * the input.
 */
import fc from 'fast-check';
import {
  array,
  bytes,
  f32,
  f64,
  i16,
  i32,
  i64,
  i8,
  rest,
  str,
  struct,
  StructError,
  u16,
  u32,
  u64,
  u8,
  type Endian,
  type Field,
  type StrEncoding,
} from '../../../worker/protocols/binary';

type Prefix = 'u8' | 'u16' | 'u32';
type Layout =
  | { k: 'int'; w: 1 | 2 | 4; signed: boolean; e?: Endian }
  | { k: 'big'; signed: boolean; e?: Endian }
  | { k: 'float'; w: 4 | 8; e?: Endian }
  | { k: 'bytes'; n: number }
  | { k: 'str'; n: number; enc: StrEncoding }
  | { k: 'pbytes'; prefix: Prefix; e?: Endian }
  | { k: 'pstr'; prefix: Prefix; enc: StrEncoding; e?: Endian }
  | { k: 'const'; w: 1 | 2 | 4; value: number }
  | { k: 'array'; elem: Layout; count: number | { prefix: Prefix } }
  | { k: 'refarray'; elem: Layout; w: 1 | 2 | 4 }
  | { k: 'refstr'; enc: StrEncoding; w: 1 | 2 | 4 }
  | { k: 'refbytes'; w: 1 | 2 | 4 }
  | { k: 'struct'; fields: Layout[]; endian: Endian; rest: boolean };

const MAX_BYTES = 64;
const MAX_COUNT = 6;

// ---------------------------------------------------------------------------- layouts

const endianArb = fc.constantFrom<Endian>('little', 'big');
const optEndian = fc.option(endianArb, { nil: undefined });
const prefixArb = fc.constantFrom<Prefix>('u8', 'u16', 'u32');
const encArb = fc.constantFrom<StrEncoding>('utf8', 'ascii', 'latin1', 'hex');
const widthArb = fc.constantFrom<1 | 2 | 4>(1, 2, 4);

const leafArb: fc.Arbitrary<Layout> = fc.oneof(
  fc.record({ k: fc.constant('int' as const), w: widthArb, signed: fc.boolean(), e: optEndian }),
  fc.record({ k: fc.constant('big' as const), signed: fc.boolean(), e: optEndian }),
  fc.record({ k: fc.constant('float' as const), w: fc.constantFrom<4 | 8>(4, 8), e: optEndian }),
  fc.record({ k: fc.constant('bytes' as const), n: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ k: fc.constant('str' as const), n: fc.integer({ min: 0, max: 8 }), enc: encArb }),
  fc.record({ k: fc.constant('pbytes' as const), prefix: prefixArb, e: optEndian }),
  fc.record({ k: fc.constant('pstr' as const), prefix: prefixArb, enc: encArb, e: optEndian }),
  fc.record({ k: fc.constant('const' as const), w: widthArb, value: fc.integer({ min: 0, max: 255 }) }),
);

/** A field of a struct (may use a count field) or, with `inArray`, an array element. */
function fieldArb(depth: number, inArray: boolean): fc.Arbitrary<Layout> {
  if (depth <= 0) return leafArb;
  const inner = fieldArb(depth - 1, true);
  const options: fc.Arbitrary<Layout>[] = [
    leafArb,
    leafArb,
    fc.record({ k: fc.constant('array' as const), elem: inner, count: fc.oneof(fc.integer({ min: 0, max: 3 }), fc.record({ prefix: prefixArb })) }),
    structArb(depth - 1, false),
  ];
  if (!inArray) {
    options.push(
      fc.record({ k: fc.constant('refarray' as const), elem: inner, w: widthArb }),
      fc.record({ k: fc.constant('refstr' as const), enc: encArb, w: widthArb }),
      fc.record({ k: fc.constant('refbytes' as const), w: widthArb }),
    );
  }
  return fc.oneof(...options);
}

function structArb(depth: number, top: boolean): fc.Arbitrary<Layout> {
  return fc.record({
    k: fc.constant('struct' as const),
    fields: fc.array(fieldArb(depth, false), { maxLength: top ? 6 : 3 }),
    endian: endianArb,
    rest: top ? fc.boolean() : fc.constant(false),
  });
}

const topArb = structArb(2, true) as fc.Arbitrary<Extract<Layout, { k: 'struct' }>>;

// ---------------------------------------------------------------------------- fields from layouts

const INTS = { 1: [u8, i8], 2: [u16, i16], 4: [u32, i32] } as const;
const UINTS = { 1: u8, 2: u16, 4: u32 } as const;

function withEndian<F extends { le: F; be: F }>(f: F, e: Endian | undefined): F {
  return e === undefined ? f : e === 'little' ? f.le : f.be;
}

type AnyField = Field<any, any>;

function build(l: Layout): AnyField {
  switch (l.k) {
    case 'int':
      return withEndian(INTS[l.w][l.signed ? 1 : 0], l.e);
    case 'big':
      return withEndian(l.signed ? i64 : u64, l.e);
    case 'float':
      return withEndian(l.w === 4 ? f32 : f64, l.e);
    case 'bytes':
      return bytes(l.n);
    case 'str':
      return str(l.n, l.enc);
    case 'pbytes':
      return bytes({ prefix: l.prefix, endian: l.e });
    case 'pstr':
      return str({ prefix: l.prefix, encoding: l.enc, endian: l.e });
    case 'const':
      return UINTS[l.w].const(l.value);
    case 'array':
      return typeof l.count === 'number' ? array(build(l.elem), l.count) : array(build(l.elem), l.count);
    case 'struct': {
      const fields: Record<string, AnyField> = {};
      l.fields.forEach((f, i) => {
        if (f.k === 'refarray' || f.k === 'refstr' || f.k === 'refbytes') {
          fields[`f${i}_n`] = UINTS[f.w];
          fields[`f${i}`] =
            f.k === 'refarray'
              ? array(build(f.elem), { countFrom: `f${i}_n` })
              : f.k === 'refstr'
                ? str({ lengthFrom: `f${i}_n`, encoding: f.enc })
                : bytes({ lengthFrom: `f${i}_n` });
        } else {
          fields[`f${i}`] = build(f);
        }
      });
      if (l.rest) fields.tail = rest;
      return struct(fields, { endian: l.endian, maxBytes: MAX_BYTES, maxCount: MAX_COUNT });
    }
    default:
      throw new Error(`no field for ${l.k}`);
  }
}

// ---------------------------------------------------------------------------- values from layouts

const RANGES = { 1: [0, 0xff, -0x80, 0x7f], 2: [0, 0xffff, -0x8000, 0x7fff], 4: [0, 0xffffffff, -0x80000000, 0x7fffffff] } as const;

function bufArb(min: number, max: number): fc.Arbitrary<Buffer> {
  return fc.uint8Array({ minLength: min, maxLength: max }).map((a) => Buffer.from(a));
}

/** Any code point but lone surrogates, mostly ascii (fc.string's 'binary' unit is slow). */
const codePointArb = fc.oneof(
  { arbitrary: fc.integer({ min: 0, max: 0x7f }), weight: 3 },
  { arbitrary: fc.integer({ min: 0x80, max: 0xd7ff }), weight: 1 },
  { arbitrary: fc.integer({ min: 0xe000, max: 0x10ffff }), weight: 1 },
);

/** Strings that encode in `enc` to at most `maxBytes` (with no NUL when `noNul`). */
function strArb(enc: StrEncoding, maxBytes: number, noNul: boolean): fc.Arbitrary<string> {
  const strip = (s: string) => (noNul ? s.replace(/\0/g, 'x') : s);
  switch (enc) {
    case 'hex':
      return bufArb(0, maxBytes).map((b) => b.toString('hex'));
    case 'ascii':
      return fc.string({ unit: 'binary-ascii', maxLength: maxBytes }).map(strip);
    case 'latin1':
      return fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: maxBytes }).map((cs) => strip(String.fromCharCode(...cs)));
    default:
      return fc.array(codePointArb, { maxLength: maxBytes }).map((cps) => {
        const s = String.fromCodePoint(...cps);
        let out = strip(s);
        while (Buffer.byteLength(out) > maxBytes) out = [...out].slice(0, -1).join('');
        return out;
      });
  }
}

/** Conforming values, in decoded form (what `decode` must give back). */
function valueArb(l: Layout): fc.Arbitrary<unknown> {
  switch (l.k) {
    case 'int': {
      const [umin, umax, smin, smax] = RANGES[l.w];
      return l.signed ? fc.integer({ min: smin, max: smax }) : fc.integer({ min: umin, max: umax });
    }
    case 'big':
      return l.signed ? fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }) : fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
    case 'float':
      return l.w === 4 ? fc.float() : fc.double();
    case 'bytes':
      return bufArb(l.n, l.n);
    case 'str':
      // A fixed hex string decodes to all its bytes.
      return l.enc === 'hex' ? bufArb(l.n, l.n).map((b) => b.toString('hex')) : strArb(l.enc, l.n, true);
    case 'pbytes':
      return bufArb(0, 20);
    case 'pstr':
      return strArb(l.enc, 20, false);
    case 'const':
      return fc.constant(l.value);
    case 'array': {
      const n = typeof l.count === 'number' ? l.count : undefined;
      return fc.array(valueArb(l.elem), { minLength: n ?? 0, maxLength: n ?? 3 });
    }
    case 'struct': {
      const parts: Record<string, fc.Arbitrary<unknown>> = {};
      l.fields.forEach((f, i) => {
        if (f.k === 'refarray') parts[`f${i}`] = fc.array(valueArb(f.elem), { maxLength: 3 });
        else if (f.k === 'refstr') parts[`f${i}`] = strArb(f.enc, 20, false);
        else if (f.k === 'refbytes') parts[`f${i}`] = bufArb(0, 20);
        else parts[`f${i}`] = valueArb(f);
      });
      if (l.rest) parts.tail = bufArb(0, 20);
      return fc.record(parts).map((v) => {
        // Decode returns the count fields, in layout order.
        const out: Record<string, unknown> = {};
        l.fields.forEach((f, i) => {
          const x = v[`f${i}`];
          if (f.k === 'refarray') out[`f${i}_n`] = (x as unknown[]).length;
          if (f.k === 'refstr') out[`f${i}_n`] = f.enc === 'hex' ? (x as string).length / 2 : Buffer.byteLength(x as string, f.enc);
          if (f.k === 'refbytes') out[`f${i}_n`] = (x as Buffer).length;
          out[`f${i}`] = x;
        });
        if (l.rest) out.tail = v.tail;
        return out;
      });
    }
    default:
      throw new Error(`no value for ${l.k}`);
  }
}

/** The value with every count field left out: encode must fill them in. */
function withoutCounts(v: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.endsWith('_n')));
}

const layoutAndValue = topArb.chain((l) => fc.tuple(fc.constant(l), valueArb(l) as fc.Arbitrary<Record<string, unknown>>));

// ---------------------------------------------------------------------------- properties

describe('random layouts', () => {
  it('decode(encode(v)) equals v, and byteLength agrees', () => {
    fc.assert(
      fc.property(layoutAndValue, ([layout, value]) => {
        const s = build(layout) as ReturnType<typeof struct>;
        const buf = s.encode(value);
        expect(buf.length).toBe(s.byteLength(value));
        if (s.fixedSize !== undefined) expect(buf.length).toBe(s.fixedSize);
        expect(s.decode(buf)).toEqual(value);
        expect(s.encode(withoutCounts(value))).toEqual(buf);
        // Same bytes when written into a dirty buffer at an offset.
        const target = Buffer.alloc(buf.length + 3, 0xee);
        expect(s.encodeInto(value, target, 3)).toBe(target.length);
        expect(target.subarray(3)).toEqual(buf);
        expect(s.decodeFrom(target, 3)).toEqual({ value, end: target.length });
        expect(typeof s.dump(buf)).toBe('string');
      }),
      { numRuns: 400 },
    );
  });

  describe('bad input fails with a StructError only, allocating no more than the input', () => {
    let largest = 0;
    const spies: jest.SpyInstance[] = [];
    beforeAll(() => {
      for (const name of ['alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const) {
        const real = Buffer[name].bind(Buffer) as (n: number) => Buffer;
        spies.push(
          jest.spyOn(Buffer, name).mockImplementation(((n: number, ...rest: unknown[]) => {
            largest = Math.max(largest, n);
            return (real as (...a: unknown[]) => Buffer)(n, ...rest);
          }) as never),
        );
      }
    });
    afterAll(() => spies.forEach((s) => s.mockRestore()));

    /** Decodes and dumps `input`; returns the StructError code, or 'ok'. */
    function attempt(s: ReturnType<typeof struct>, input: Buffer): string {
      largest = 0;
      let code = 'ok';
      try {
        s.decode(input);
      } catch (err) {
        if (!(err instanceof StructError)) throw err;
        expect(err.message).toMatch(/^struct(\.|\[|:)/);
        code = err.code;
      }
      expect(typeof s.dump(input)).toBe('string');
      expect(largest).toBeLessThanOrEqual(Math.max(input.length, 16));
      return code;
    }

    it('random bytes', () => {
      const seen = new Set<string>();
      fc.assert(
        fc.property(topArb, bufArb(0, 80), (layout, input) => {
          seen.add(attempt(build(layout) as ReturnType<typeof struct>, input));
        }),
        { numRuns: 600 },
      );
      expect(seen).toEqual(new Set(['ok', 'LF_STRUCT_TRUNCATED', 'LF_STRUCT_TRAILING', 'LF_STRUCT_CONST', 'LF_STRUCT_LIMIT']));
    });

    it('valid messages, corrupted: bytes flipped, cut short, extended', () => {
      fc.assert(
        fc.property(
          layoutAndValue,
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
          fc.integer({ min: -4, max: 4 }),
          ([layout, value], flips, resize) => {
            const s = build(layout) as ReturnType<typeof struct>;
            const buf = Buffer.from(s.encode(value));
            for (const [at, b] of flips) if (buf.length > 0) buf[at % buf.length] = b;
            const input = resize < 0 ? buf.subarray(0, Math.max(0, buf.length + resize)) : Buffer.concat([buf, Buffer.alloc(resize, 0xff)]);
            attempt(s, input);
          },
        ),
        { numRuns: 400 },
      );
    });

    it('huge lengths and counts in tiny inputs', () => {
      const s = struct(
        { n: u32, xs: array(struct({}), { countFrom: 'n' }), b: bytes({ prefix: 'u32' }), c: array(u8, { prefix: 'u32' }) },
        { endian: 'big' },
      );
      expect(attempt(s, Buffer.from('ffffffff', 'hex'))).toBe('LF_STRUCT_LIMIT');
      expect(attempt(s, Buffer.from('00000000 ffffffff'.replace(' ', ''), 'hex'))).toBe('LF_STRUCT_LIMIT');
      expect(attempt(s, Buffer.from('00000000 00000000 ffffffff'.replace(/ /g, ''), 'hex'))).toBe('LF_STRUCT_LIMIT');
      // The largest allowed count of empty elements is bounded by maxCount, not by the input.
      expect(attempt(s, Buffer.from('00010000 00000000 00000000'.replace(/ /g, ''), 'hex'))).toBe('ok');
    });
  });
});
