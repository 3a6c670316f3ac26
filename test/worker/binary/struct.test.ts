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
  sizeOf,
  str,
  struct,
  StructError,
  u16,
  u32,
  u64,
  u8,
  type Infer,
  type InferInput,
} from '../../../worker/protocols/binary';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

/** The StructError `fn` throws, failing the test if it throws anything else or nothing. */
function structError(fn: () => unknown): StructError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(StructError);
    return err as StructError;
  }
  throw new Error('expected a StructError, nothing was thrown');
}

const Telemetry = struct(
  {
    magic: u16.const(0xcafe),
    deviceId: str(16),
    ts: i64,
    temp: f32,
    seq: u32,
    n: u8,
    readings: array(u16, { countFrom: 'n' }),
  },
  { name: 'Telemetry' },
);

describe('integers', () => {
  const cases: [string, ReturnType<typeof struct>, number, string][] = [
    ['u8 max', struct({ v: u8 }), 255, 'ff'],
    ['i8 min', struct({ v: i8 }), -128, '80'],
    ['i8 -1', struct({ v: i8 }), -1, 'ff'],
    ['u16 le', struct({ v: u16 }), 0x1234, '3412'],
    ['u16 be', struct({ v: u16 }, { endian: 'big' }), 0x1234, '1234'],
    ['i16 le min', struct({ v: i16 }), -32768, '0080'],
    ['i16 be -2', struct({ v: i16 }, { endian: 'big' }), -2, 'fffe'],
    ['u32 le max', struct({ v: u32 }), 0xffffffff, 'ffffffff'],
    ['u32 be', struct({ v: u32 }, { endian: 'big' }), 0x89abcdef, '89abcdef'],
    ['u32 le high bit', struct({ v: u32 }), 0x89abcdef, 'efcdab89'],
    ['i32 le min', struct({ v: i32 }), -0x80000000, '00000080'],
    ['i32 be max', struct({ v: i32 }, { endian: 'big' }), 0x7fffffff, '7fffffff'],
    ['i32 be -1', struct({ v: i32 }, { endian: 'big' }), -1, 'ffffffff'],
  ];
  it.each(cases)('%s', (_name, s, v, bytesHex) => {
    const buf = s.encode({ v });
    expect(buf.toString('hex')).toBe(bytesHex);
    expect(s.decode(buf)).toEqual({ v });
  });

  it('a field can override the struct endian', () => {
    const s = struct({ a: u16.le, b: u16, c: u32.be, d: i16.be }, { endian: 'little' });
    const buf = s.encode({ a: 1, b: 2, c: 3, d: -2 });
    expect(buf).toEqual(hex('0100 0200 00000003 fffe'));
    expect(s.decode(buf)).toEqual({ a: 1, b: 2, c: 3, d: -2 });
    const big = struct({ a: u16.le, b: u16 }, { endian: 'big' });
    expect(big.encode({ a: 1, b: 2 })).toEqual(hex('0100 0002'));
  });

  it('64-bit fields decode to bigint and take bigint or safe numbers', () => {
    const s = struct({ a: u64, b: i64, c: u64.be, d: i64.be });
    const buf = s.encode({ a: 2n ** 64n - 1n, b: -(2n ** 63n), c: 258, d: -1 });
    expect(buf).toEqual(hex('ffffffffffffffff 0000000000000080 0000000000000102 ffffffffffffffff'));
    expect(s.decode(buf)).toEqual({ a: 2n ** 64n - 1n, b: -(2n ** 63n), c: 258n, d: -1n });
  });

  it('floats', () => {
    const s = struct({ a: f32, b: f64, c: f32.be, d: f64.be });
    const buf = s.encode({ a: 1.5, b: -0.1, c: Infinity, d: NaN });
    expect(buf.subarray(0, 4)).toEqual(hex('0000c03f'));
    expect(buf.subarray(12, 16)).toEqual(hex('7f800000'));
    expect(s.decode(buf)).toEqual({ a: 1.5, b: -0.1, c: Infinity, d: NaN });
    expect(s.decode(s.encode({ a: 0.1, b: -0, c: -0, d: 1e300 }))).toEqual({ a: Math.fround(0.1), b: -0, c: -0, d: 1e300 });
  });
});

describe('bytes and strings', () => {
  it('fixed bytes', () => {
    const s = struct({ id: bytes(4), x: u8 });
    const buf = s.encode({ id: new Uint8Array([1, 2, 3, 4]), x: 9 });
    expect(buf).toEqual(hex('01020304 09'));
    const v = s.decode(buf);
    expect(v.id).toEqual(hex('01020304'));
    expect(Buffer.isBuffer(v.id)).toBe(true);
  });

  it('decoded bytes are copies unless zeroCopy', () => {
    const input = hex('01020304');
    const copied = struct({ b: bytes(4) }).decode(input).b;
    const viewed = struct({ b: bytes(4) }, { zeroCopy: true }).decode(input).b;
    input[0] = 0xff;
    expect(copied[0]).toBe(1);
    expect(viewed[0]).toBe(0xff);
  });

  it('fixed strings are NUL-padded and decode up to the first NUL', () => {
    const s = struct({ name: str(8), code: str(4, 'ascii'), l1: str(3, 'latin1'), h: str(4, 'hex') });
    const buf = s.encode({ name: 'héllo', code: 'AB', l1: 'é', h: 'cafe' });
    expect(buf).toEqual(hex('68c3a96c6c6f0000 41420000 e90000 cafe0000'));
    expect(s.decode(buf)).toEqual({ name: 'héllo', code: 'AB', l1: 'é', h: 'cafe0000' });
    // Bytes after the first NUL (garbage from a C sender) are ignored.
    expect(s.decode(hex('4142004344454647 41420000 e90000 cafe0000')).name).toBe('AB');
  });

  it('a fixed string may fill its field exactly', () => {
    const s = struct({ name: str(5) });
    expect(s.decode(s.encode({ name: 'hello' }))).toEqual({ name: 'hello' });
  });

  it('length-prefixed strings and bytes', () => {
    const s = struct(
      { a: str({ prefix: 'u8' }), b: str({ prefix: 'u16' }), c: bytes({ prefix: 'u32' }), d: str({ prefix: 'u16', endian: 'big', encoding: 'latin1' }) },
      { endian: 'little' },
    );
    const buf = s.encode({ a: 'hi', b: 'a\0b', c: hex('beef'), d: 'é' });
    expect(buf).toEqual(hex('02 6869  0300 610062  02000000 beef  0001 e9'));
    expect(s.decode(buf)).toEqual({ a: 'hi', b: 'a\0b', c: hex('beef'), d: 'é' });
    expect(s.byteLength({ a: 'hi', b: 'a\0b', c: hex('beef'), d: 'é' })).toBe(buf.length);
  });

  it('lengths from an earlier field are filled in on encode', () => {
    const s = struct({ len: u16, blen: u8, body: str({ lengthFrom: 'len' }), raw: bytes({ lengthFrom: 'blen' }) }, { endian: 'big' });
    const buf = s.encode({ body: 'héllo', raw: hex('0102') });
    expect(buf).toEqual(hex('0006 02 68c3a96c6c6f 0102'));
    expect(s.decode(buf)).toEqual({ len: 6, blen: 2, body: 'héllo', raw: hex('0102') });
    expect(s.encode({ len: 6, blen: 2, body: 'héllo', raw: hex('0102') })).toEqual(buf);
  });

  it('rest takes the tail', () => {
    const s = struct({ type: u8, payload: rest });
    expect(s.encode({ type: 1, payload: hex('aabbcc') })).toEqual(hex('01aabbcc'));
    expect(s.decode(hex('01aabbcc'))).toEqual({ type: 1, payload: hex('aabbcc') });
    expect(s.decode(hex('01'))).toEqual({ type: 1, payload: Buffer.alloc(0) });
  });
});

describe('arrays and nested structs', () => {
  const Point = struct({ x: i16, y: i16 }, { endian: 'big' });

  it('fixed count', () => {
    const s = struct({ v: array(u8, 3), pts: array(Point, 2) });
    const value = { v: [1, 2, 3], pts: [{ x: 1, y: -1 }, { x: 2, y: -2 }] };
    const buf = s.encode(value);
    expect(buf).toEqual(hex('010203 0001ffff 0002fffe'));
    expect(s.decode(buf)).toEqual(value);
    expect(sizeOf(s)).toBe(11);
  });

  it('count prefix', () => {
    const s = struct({ v: array(str({ prefix: 'u8' }), { prefix: 'u16', endian: 'big' }) });
    const buf = s.encode({ v: ['a', '', 'bc'] });
    expect(buf).toEqual(hex('0003 0161 00 026263'));
    expect(s.decode(buf)).toEqual({ v: ['a', '', 'bc'] });
  });

  it('count from an earlier field', () => {
    const buf = Telemetry.encode({ deviceId: 'dev-1', ts: 1700000000000n, temp: 21.5, seq: 7, readings: [10, 20, 30, 40] });
    expect(buf.length).toBe(35 + 8);
    expect(buf[34]).toBe(4);
    expect(Telemetry.decode(buf)).toEqual({
      magic: 0xcafe,
      deviceId: 'dev-1',
      ts: 1700000000000n,
      temp: 21.5,
      seq: 7,
      n: 4,
      readings: [10, 20, 30, 40],
    });
  });

  it('nested structs keep their own endian; arrays of arrays', () => {
    const s = struct({ p: Point, grid: array(array(u8, 2), { prefix: 'u8' }), tail: array(Point, { prefix: 'u8' }) });
    const value = { p: { x: 1, y: 2 }, grid: [[1, 2], [3, 4]], tail: [] };
    const buf = s.encode(value);
    expect(buf).toEqual(hex('00010002 02 0102 0304 00'));
    expect(s.decode(buf)).toEqual(value);
  });

  it('one count field can count two arrays that agree', () => {
    const s = struct({ n: u8, xs: array(u8, { countFrom: 'n' }), ys: array(u8, { countFrom: 'n' }) });
    expect(s.encode({ xs: [1, 2], ys: [3, 4] })).toEqual(hex('02 0102 0304'));
    const err = structError(() => s.encode({ xs: [1, 2], ys: [3] }));
    expect(err.message).toBe('struct.n: is 2 but ys has 1 items (leave it out to fill it in)');
  });
});

describe('constants', () => {
  const Header = struct({ magic: u16.const(0xcafe), type: u8, seq: u32, len: u16 }, { name: 'Header', endian: 'big' });

  it('are written without being given, and returned by decode', () => {
    const buf = Header.encode({ type: 1, seq: 42, len: 5 });
    expect(buf).toEqual(hex('cafe 01 0000002a 0005'));
    expect(Header.decode(buf)).toEqual({ magic: 0xcafe, type: 1, seq: 42, len: 5 });
    expect(Header.encode(Header.decode(buf))).toEqual(buf);
  });

  it('fail on decode with the value found', () => {
    const err = structError(() => Header.decode(hex('beef 01 0000002a 0005')));
    expect(err.code).toBe('LF_STRUCT_CONST');
    expect(err.message).toBe('Header.magic: expected 0xcafe, got 0xbeef at offset 0');
    expect(err.path).toBe('Header.magic');
    expect(err.offset).toBe(0);
  });

  it('fail on encode when given another value', () => {
    const err = structError(() => Header.encode({ magic: 1, type: 1, seq: 42, len: 5 }));
    expect(err.code).toBe('LF_STRUCT_CONST');
    expect(err.message).toBe('Header.magic: expected 0xcafe or nothing, got 0x1');
  });

  it('magic strings, bytes and 64-bit values', () => {
    const s = struct({ tag: str(4).const('LFRM'), sig: bytes(2).const(hex('0d0a')), big: u64.const(5), v: u8 });
    const buf = s.encode({ v: 1 });
    expect(buf).toEqual(hex('4c46524d 0d0a 0500000000000000 01'));
    expect(s.decode(buf)).toEqual({ tag: 'LFRM', sig: hex('0d0a'), big: 5n, v: 1 });
    expect(structError(() => s.decode(hex('4c46524e 0d0a 0500000000000000 01'))).message).toBe(
      'struct.tag: expected "LFRM", got "LFRN" at offset 0',
    );
    expect(structError(() => s.decode(hex('4c46524d 0d0b 0500000000000000 01'))).message).toBe(
      'struct.sig: expected <0d0a>, got <0d0b> at offset 4',
    );
  });
});

describe('decode failures name the field path and byte offset', () => {
  const valid = Telemetry.encode({ deviceId: 'dev-1', ts: 1n, temp: 0, seq: 7, readings: [1, 2, 3, 4] });

  it('truncated inside an array element', () => {
    const err = structError(() => Telemetry.decode(valid.subarray(0, 42)));
    expect(err.code).toBe('LF_STRUCT_TRUNCATED');
    expect(err.message).toBe('Telemetry.readings[3]: needs 2 bytes at offset 41, only 1 left');
    expect(String(err)).toBe('StructError: Telemetry.readings[3]: needs 2 bytes at offset 41, only 1 left');
    expect(err.offset).toBe(41);
  });

  it('truncated at every length fails with TRUNCATED, never another error', () => {
    for (let n = 0; n < valid.length; n++) {
      expect(structError(() => Telemetry.decode(valid.subarray(0, n))).code).toBe('LF_STRUCT_TRUNCATED');
    }
    expect(structError(() => Telemetry.decode(Buffer.alloc(0))).message).toBe('Telemetry.magic: needs 2 bytes at offset 0, only 0 left');
  });

  it('trailing bytes', () => {
    const err = structError(() => Telemetry.decode(Buffer.concat([valid, hex('0000')])));
    expect(err.code).toBe('LF_STRUCT_TRAILING');
    expect(err.message).toBe('Telemetry: 2 bytes left over after the message ends at offset 43');
  });

  it('decodeFrom reads one message and reports where it ends', () => {
    const two = Buffer.concat([hex('ff'), valid, valid]);
    const first = Telemetry.decodeFrom(two, 1);
    expect(first.end).toBe(1 + valid.length);
    expect(Telemetry.decodeFrom(two, first.end).value).toEqual(first.value);
    const err = structError(() => Telemetry.decodeFrom(valid, 39));
    expect(err.message).toBe('Telemetry.magic: expected 0xcafe, got 0x3 at offset 39');
  });

  it('length prefixes above maxBytes fail before the bytes are looked for', () => {
    const s = struct({ id: u8, body: bytes({ prefix: 'u32' }) }, { name: 'Msg', maxBytes: 1000 });
    const err = structError(() => s.decode(hex('01 ffffffff 00')));
    expect(err.code).toBe('LF_STRUCT_LIMIT');
    expect(err.message).toBe('Msg.body: length 4294967295 at offset 1 exceeds maxBytes 1000');
    expect(structError(() => s.decode(hex('01 e8030000 00'))).message).toBe('Msg.body: needs 1000 bytes at offset 5, only 1 left');
  });

  it('counts above maxCount fail before any element is read', () => {
    const s = struct({ n: u32, xs: array(u8, { countFrom: 'n', maxCount: 10 }) }, { name: 'Msg', endian: 'big' });
    const err = structError(() => s.decode(hex('0000000b 01')));
    expect(err.code).toBe('LF_STRUCT_LIMIT');
    expect(err.message).toBe('Msg.xs: count 11 at offset 4 exceeds maxCount 10');
  });

  it('per-field maxBytes and the default 1 MiB', () => {
    const s = struct({ a: str({ prefix: 'u32', maxBytes: 3 }), b: bytes({ prefix: 'u32' }) });
    expect(structError(() => s.decode(hex('04000000 61626364'))).message).toBe('struct.a: length 4 at offset 0 exceeds maxBytes 3');
    expect(structError(() => s.decode(hex('00000000 01001000'))).message).toBe('struct.b: length 1048577 at offset 4 exceeds maxBytes 1048576');
  });

  it('rest above maxBytes', () => {
    const s = struct({ t: u8, tail: rest }, { maxBytes: 2 });
    expect(structError(() => s.decode(hex('01 020304'))).message).toBe('struct.tail: length 3 at offset 1 exceeds maxBytes 2');
  });

  it('paths through nested structs and arrays', () => {
    const Inner = struct({ a: u8, b: u16.const(7) });
    const Outer = struct({ items: array(Inner, { prefix: 'u8' }) }, { name: 'Outer' });
    const err = structError(() => Outer.decode(hex('02 01 0700 02 0800')));
    expect(err.message).toBe('Outer.items[1].b: expected 0x7, got 0x8 at offset 5');
  });
});

describe('encode validates values', () => {
  const S = struct({ a: u8, b: i16, c: u32, s: str(4), big: u64, f: f32, raw: bytes(2) }, { name: 'S' });
  const ok = { a: 1, b: -1, c: 3, s: 'ab', big: 5n, f: 1.5, raw: hex('0102') };
  const cases: [string, Record<string, unknown>, string, string][] = [
    ['u8 too big', { a: 256 }, 'LF_STRUCT_RANGE', 'S.a: 256 is out of range for u8 (0..255)'],
    ['u8 negative', { a: -1 }, 'LF_STRUCT_RANGE', 'S.a: -1 is out of range for u8 (0..255)'],
    ['i16 too small', { b: -32769 }, 'LF_STRUCT_RANGE', 'S.b: -32769 is out of range for i16le (-32768..32767)'],
    ['u32 fraction', { c: 1.5 }, 'LF_STRUCT_TYPE', 'S.c: expected an integer for u32le, got 1.5'],
    ['u32 string', { c: '3' }, 'LF_STRUCT_TYPE', 'S.c: expected an integer for u32le, got "3"'],
    ['missing field', { c: undefined }, 'LF_STRUCT_TYPE', 'S.c: expected an integer for u32le, got undefined'],
    ['string too long', { s: 'abcde' }, 'LF_STRUCT_RANGE', 'S.s: "abcde" needs 5 bytes, the field holds 4'],
    ['multi-byte too long', { s: 'ééé' }, 'LF_STRUCT_RANGE', 'S.s: "ééé" needs 6 bytes, the field holds 4'],
    ['NUL in fixed string', { s: 'a\0' }, 'LF_STRUCT_RANGE', 'S.s: "a\\u0000" contains NUL, which ends a fixed-length string'],
    ['not a string', { s: 5 }, 'LF_STRUCT_TYPE', 'S.s: expected a string, got 5'],
    ['u64 negative', { big: -1n }, 'LF_STRUCT_RANGE', 'S.big: -1 is out of range for u64le (0..18446744073709551615)'],
    ['u64 unsafe number', { big: 2 ** 60 }, 'LF_STRUCT_TYPE', `S.big: expected a bigint (or a safe integer) for u64le, got ${2 ** 60}`],
    ['f32 out of range', { f: 1e39 }, 'LF_STRUCT_RANGE', 'S.f: 1e+39 is out of range for f32 (±3.4028234663852886e+38)'],
    ['f32 string', { f: '1' }, 'LF_STRUCT_TYPE', 'S.f: expected a number for f32le, got "1"'],
    ['bytes length', { raw: hex('01') }, 'LF_STRUCT_RANGE', 'S.raw: expected exactly 2 bytes, got 1'],
    ['bytes type', { raw: [1, 2] }, 'LF_STRUCT_TYPE', 'S.raw: expected a Buffer or Uint8Array, got array(2)'],
  ];
  it.each(cases)('%s', (_name, patch, code, message) => {
    const err = structError(() => S.encode({ ...ok, ...patch } as never));
    expect([err.code, err.message]).toEqual([code, message]);
  });

  it('a value that is not an object', () => {
    expect(structError(() => S.encode(null as never)).message).toBe('S: expected an object, got null');
    expect(structError(() => S.encode([] as never)).message).toBe('S: expected an object, got array(0)');
  });

  it('string encodings', () => {
    const A = struct({ a: str(4, 'ascii'), l: str({ prefix: 'u8', encoding: 'latin1' }), h: str({ prefix: 'u8', encoding: 'hex' }) });
    const good = { a: 'ok', l: 'ÿ', h: 'ab' };
    expect(A.decode(A.encode(good))).toEqual(good);
    expect(structError(() => A.encode({ ...good, a: 'é' })).message).toBe('struct.a: "é" has characters outside ascii');
    expect(structError(() => A.encode({ ...good, l: 'Ā' })).message).toBe('struct.l: "Ā" has characters outside latin1');
    expect(structError(() => A.encode({ ...good, h: 'abc' })).message).toBe('struct.h: expected an even number of hex digits, got "abc"');
    expect(structError(() => A.encode({ ...good, h: 'zz' })).code).toBe('LF_STRUCT_TYPE');
  });

  it('lengths and counts that do not fit, or break the limits', () => {
    const P = struct({ s: str({ prefix: 'u8' }), xs: array(u8, { prefix: 'u8' }), n: u8, ys: array(u8, { countFrom: 'n' }) }, { maxCount: 300 });
    const good = { s: '', xs: [], ys: [] };
    expect(structError(() => P.encode({ ...good, s: 'x'.repeat(256) })).message).toBe('struct.s: 256 bytes do not fit a u8 length prefix (max 255)');
    expect(structError(() => P.encode({ ...good, xs: new Array(256).fill(0) })).message).toBe('struct.xs: 256 items do not fit a u8 length prefix (max 255)');
    expect(structError(() => P.encode({ ...good, ys: new Array(256).fill(0) })).message).toBe('struct.n: ys has 256 items, more than u8 can count (max 255)');
    expect(structError(() => P.encode({ ...good, xs: new Array(301).fill(0) })).message).toBe('struct.xs: 301 items exceed maxCount 300');
    const L = struct({ b: bytes({ prefix: 'u32' }) }, { maxBytes: 4 });
    const err = structError(() => L.encode({ b: Buffer.alloc(5) }));
    expect([err.code, err.message]).toEqual(['LF_STRUCT_LIMIT', 'struct.b: 5 bytes exceed maxBytes 4']);
  });

  it('array errors name the element', () => {
    const A = struct({ pts: array(struct({ x: u8 }), { prefix: 'u8' }) }, { name: 'A' });
    expect(structError(() => A.encode({ pts: [{ x: 1 }, { x: 300 }] })).message).toBe('A.pts[1].x: 300 is out of range for u8 (0..255)');
    expect(structError(() => A.encode({ pts: [{ x: 1 }, 5 as never] })).message).toBe('A.pts[1]: expected an object, got 5');
    const F = struct({ xs: array(u8, 2) });
    expect(structError(() => F.encode({ xs: [1] })).message).toBe('struct.xs: expected exactly 2 items, got 1');
  });

  it('encodeInto writes at an offset and checks room first', () => {
    const H = struct({ a: u16, b: u8 }, { endian: 'big' });
    const target = Buffer.alloc(6);
    expect(H.encodeInto({ a: 0x102, b: 3 }, target, 2)).toBe(5);
    expect(target).toEqual(hex('0000 0102 03 00'));
    const err = structError(() => H.encodeInto({ a: 1, b: 2 }, target, 4));
    expect([err.code, err.message]).toEqual(['LF_STRUCT_RANGE', 'struct: needs 3 bytes at offset 4, the target has 2 left']);
  });

  it('encode output is fully written (no stale pool bytes)', () => {
    Buffer.allocUnsafe(64).fill(0xee); // dirty the pool
    const s = struct({ name: str(12), b: bytes({ prefix: 'u8' }) });
    for (let i = 0; i < 50; i++) expect(s.encode({ name: 'a', b: hex('01') })).toEqual(hex('610000000000000000000000 01 01'));
  });
});

describe('definitions', () => {
  it('collect every problem in one error', () => {
    const err = structError(() =>
      struct(
        {
          xs: array(u8, { countFrom: 'm' }),
          t: rest,
          s: str(4, 'utf16' as never),
          p: bytes({ prefix: 'u24' as never }),
          ys: array(array(u8, { countFrom: 'n' }), 2),
          neg: bytes(-1),
          bad: 'u8' as never,
        },
        { name: 'Bad' },
      ),
    );
    expect(err.code).toBe('LF_STRUCT_DEFINITION');
    expect(err.message).toBe(
      'Bad: invalid layout: ' +
        "xs: 'm' must be an earlier unsigned integer field (u8, u16 or u32), not const; " +
        't: rest must be the last field; ' +
        's: encoding must be one of utf8, ascii, latin1, hex, got "utf16"; ' +
        "p: prefix must be 'u8', 'u16' or 'u32', got \"u24\"; " +
        "ys[]: countFrom/lengthFrom 'n' only works on a direct field of a struct; " +
        'neg: bytes length must be a non-negative integer, got -1; ' +
        'bad: not a field type (got "u8")',
    );
  });

  it('count fields must come first, be unsigned and not const', () => {
    expect(() => struct({ xs: array(u8, { countFrom: 'n' }), n: u8 })).toThrow(/xs: 'n' must be an earlier unsigned integer field/);
    expect(() => struct({ n: i8, xs: array(u8, { countFrom: 'n' }) })).toThrow(/xs: 'n' must be an earlier/);
    expect(() => struct({ n: u8.const(2), xs: array(u8, { countFrom: 'n' }) })).toThrow(/xs: 'n' must be an earlier/);
    expect(() => struct({ n: u64, xs: array(u8, { countFrom: 'n' }) })).toThrow(/xs: 'n' must be an earlier/);
  });

  it('constants must fit their field; fixed sizes within the limits', () => {
    expect(structError(() => struct({ m: u8.const(256) })).message).toBe('struct: invalid layout: m: const 256 is out of range for u8 (0..255)');
    expect(structError(() => struct({ m: str(2).const('abc') })).message).toBe('struct: invalid layout: m: const "abc" needs 3 bytes, the field holds 2');
    expect(structError(() => struct({ b: bytes(10) }, { maxBytes: 8 })).message).toBe('struct: invalid layout: b: bytes(10) is larger than maxBytes 8');
    expect(structError(() => struct({ xs: array(u8, 9) }, { maxCount: 8 })).message).toBe('struct: invalid layout: xs: array count 9 is larger than maxCount 8');
    expect(structError(() => struct({}, { endian: 'middle' as never, maxBytes: -1 })).message).toBe(
      "struct: invalid layout: endian must be 'little' or 'big', got \"middle\"; maxBytes must be a non-negative integer, got -1",
    );
  });

  it('rest only at the end, also through nested structs', () => {
    const Tail = struct({ t: u8, body: rest });
    expect(() => struct({ a: u8, tail: Tail })).not.toThrow();
    expect(() => struct({ tail: Tail, a: u8 })).toThrow(/tail: rest must be the last field/);
    expect(() => struct({ xs: array(Tail, 2) })).toThrow(/xs: array elements cannot end with rest/);
  });
});

describe('sizes', () => {
  it('sizeOf a fixed struct or field, byteLength of a value', () => {
    expect(sizeOf(struct({ a: u8, b: u64, c: array(f32, 3), d: str(5) }))).toBe(1 + 8 + 12 + 5);
    expect(sizeOf(u32)).toBe(4);
    expect(struct({ a: u8 }).fixedSize).toBe(1);
    expect(Telemetry.fixedSize).toBeUndefined();
    expect(structError(() => sizeOf(Telemetry)).message).toBe(
      'Telemetry: has no fixed size (it holds variable-length fields); use byteLength(value)',
    );
    expect(Telemetry.byteLength({ deviceId: '', ts: 0n, temp: 0, seq: 0, readings: [1, 2, 3] })).toBe(35 + 6);
  });
});

describe('dump', () => {
  it('shows offsets, bytes, fields, types and values', () => {
    const Header = struct({ magic: u16.const(0xcafe), type: u8, seq: u32, name: str({ prefix: 'u8' }) }, { name: 'Header', endian: 'big' });
    const buf = Header.encode({ type: 1, seq: 42, name: 'abcdefghij' });
    expect(Header.dump(buf)).toBe(
      [
        'Header: 18 bytes, big endian',
        'offset  bytes                    field  type     value',
        '     0  ca fe                    magic  u16be    51966 (0xcafe) const',
        '     2  01                       type   u8       1 (0x1)',
        '     3  00 00 00 2a              seq    u32be    42 (0x2a)',
        '     7  0a 61 62 63 64 65 66 67  name   str(u8)  "abcdefghij"',
        '        68 69 6a',
      ].join('\n'),
    );
  });

  it('shows where decoding stopped, and why', () => {
    const bad = Telemetry.encode({ deviceId: 'x', ts: -1n, temp: 2, seq: 1, readings: [1, 2, 3, 4] }).subarray(0, 42);
    expect(Telemetry.dump(bad)).toBe(
      [
        'Telemetry: 42 bytes, little endian',
        'offset  bytes                    field        type      value',
        '     0  fe ca                    magic        u16le     51966 (0xcafe) const',
        '     2  78 00 00 00 00 00 00 00  deviceId     str(16)   "x"',
        '        00 00 00 00 00 00 00 00',
        '    18  ff ff ff ff ff ff ff ff  ts           i64le     -1',
        '    26  00 00 00 40              temp         f32le     2',
        '    30  01 00 00 00              seq          u32le     1 (0x1)',
        '    34  04                       n            u8        4 (0x4)',
        '    35                           readings     u16le[n]  4 items',
        '    35  01 00                    readings[0]  u16le     1 (0x1)',
        '    37  02 00                    readings[1]  u16le     2 (0x2)',
        '    39  03 00                    readings[2]  u16le     3 (0x3)',
        '!! LF_STRUCT_TRUNCATED Telemetry.readings[3]: needs 2 bytes at offset 41, only 1 left',
        '    41  04                       (undecoded)',
      ].join('\n'),
    );
  });

  it('shows trailing bytes and caps long fields', () => {
    const s = struct({ b: bytes({ prefix: 'u8' }) }, { name: 'B' });
    const buf = Buffer.concat([s.encode({ b: Buffer.alloc(40, 0xab) }), hex('0102')]);
    const lines = s.dump(buf).split('\n');
    expect(lines[2]).toBe('     0  28 ab ab ab ab ab ab ab  b      bytes(u8)  <40 bytes>');
    expect(lines[6]).toBe('        … +9 bytes');
    expect(lines[7]).toBe('    41  01 02                    (trailing)');
  });
});

describe('types', () => {
  it('decode is typed from the layout; encode leaves out constants and counts', () => {
    const Header = struct({ magic: u16.const(0xcafe), type: u8, id: u64, name: str(8), raw: bytes(2), n: u8, xs: array(u16, { countFrom: 'n' }) });
    type H = Infer<typeof Header>;
    const h: H = { magic: 1, type: 2, id: 3n, name: 'a', raw: Buffer.alloc(2), n: 0, xs: [] };
    const input: InferInput<typeof Header> = { type: 2, id: 3, name: 'a', raw: new Uint8Array(2), xs: [1] };
    const decoded = Header.decode(Header.encode(input));
    const id: bigint = decoded.id;
    const xs: number[] = decoded.xs;
    // @ts-expect-error decoded strings are not numbers
    const wrong: number = decoded.name;
    // @ts-expect-error `type` is required
    Header.byteLength({ id: 3, name: 'a', raw: new Uint8Array(2), xs: [] });
    expect([h.type, id, xs, wrong]).toEqual([2, 3n, [1], 'a']);
  });
});
