import fc from 'fast-check';
import {
  delimited,
  FrameError,
  lengthPrefixed,
  struct,
  u16,
  u8,
  rest,
  type FrameReader,
  type Framing,
} from '../../../worker/protocols/binary';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const hexes = (bs: Uint8Array[]): string[] => bs.map((b) => Buffer.from(b).toString('hex'));

function frameError(fn: () => unknown): FrameError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(FrameError);
    return err as FrameError;
  }
  throw new Error('expected a FrameError, nothing was thrown');
}

/** Every frame the reader can give now. */
function drain(r: FrameReader): Buffer[] {
  const out: Buffer[] = [];
  for (let f = r.next(); f !== undefined; f = r.next()) out.push(f);
  return out;
}

/** Pushes `stream` cut at `cuts` (sorted positions), draining after each chunk. */
function feed(framing: Framing, stream: Buffer, cuts: number[]): { frames: Buffer[]; reader: FrameReader } {
  const reader = framing.reader();
  const frames: Buffer[] = [];
  let from = 0;
  for (const at of [...cuts, stream.length]) {
    reader.push(stream.subarray(from, at));
    from = at;
    frames.push(...drain(reader));
  }
  return { frames, reader };
}

describe('lengthPrefixed', () => {
  it('encodes a header in front of the payload', () => {
    expect(lengthPrefixed().encode(hex('aabb'))).toEqual(hex('00000002 aabb'));
    expect(lengthPrefixed({ width: 2, endian: 'little' }).encode(hex('aabb'))).toEqual(hex('0200 aabb'));
    expect(lengthPrefixed({ width: 1, includesHeader: true }).encode(hex('aabb'))).toEqual(hex('03 aabb'));
    const withType = lengthPrefixed({ width: 2, lengthOffset: 2, includesHeader: true });
    expect(withType.encode(hex('aabb'), hex('cafe'))).toEqual(hex('cafe 0006 aabb'));
    expect(withType.encodeHeader(2, hex('cafe'))).toEqual(hex('cafe 0006'));
    expect(lengthPrefixed().encode(Buffer.alloc(0))).toEqual(hex('00000000'));
  });

  const variants = [
    { width: 1 as const },
    { width: 2 as const, endian: 'little' as const },
    { width: 4 as const },
    { width: 4 as const, endian: 'little' as const, includesHeader: true },
    { width: 2 as const, lengthOffset: 3, includesHeader: true },
    { width: 2 as const, lengthOffset: 1, keepHeader: true },
  ];

  it.each(variants)('splits a stream cut at every byte position: %j', (opts) => {
    const f = lengthPrefixed(opts);
    const prefix = Buffer.alloc(opts.lengthOffset ?? 0, 0x7e);
    const payloads = [hex('01'), Buffer.alloc(0), Buffer.from('hello world'), Buffer.alloc(200, 9)];
    const encoded = payloads.map((p) => f.encode(p, prefix));
    const expected = hexes(opts.keepHeader ? encoded : payloads);
    const stream = Buffer.concat(encoded);
    // Many frames in one chunk.
    expect(hexes(feed(f, stream, []).frames)).toEqual(expected);
    // Two chunks, cut at every position; three chunks around the first frames' headers.
    for (let a = 0; a <= stream.length; a++) {
      const { frames, reader } = feed(f, stream, [a]);
      expect(hexes(frames)).toEqual(expected);
      expect(reader.buffered).toBe(0);
    }
    for (let a = 0; a < 8; a++) for (let b = a; b < 24; b++) expect(hexes(feed(f, stream, [a, b]).frames)).toEqual(expected);
    // One byte at a time.
    expect(hexes(feed(f, stream, [...stream.keys()]).frames)).toEqual(expected);
  });

  it('random payloads in random chunks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...variants),
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (opts, payloads, rawCuts) => {
          const f = lengthPrefixed(opts);
          const prefix = Buffer.alloc(opts.lengthOffset ?? 0, 1);
          const encoded = payloads.map((p) => f.encode(p, prefix));
          const stream = Buffer.concat(encoded);
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
          const { frames, reader } = feed(f, stream, cuts);
          expect(frames).toEqual(opts.keepHeader ? encoded : payloads.map((p) => Buffer.from(p)));
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('holds a partial frame and says how much is buffered', () => {
    const r = lengthPrefixed({ width: 2 }).reader();
    r.push(hex('0005 0102'));
    expect(r.next()).toBeUndefined();
    expect(r.buffered).toBe(4);
    r.push(hex('030405 0001'));
    expect(r.next()).toEqual(hex('0102030405'));
    expect(r.next()).toBeUndefined();
    expect(r.buffered).toBe(2);
  });

  it('returns a frame inside one chunk as a view, without copying', () => {
    const chunk = hex('0002 aabb 0001 cc');
    const r = lengthPrefixed({ width: 2 }).reader();
    r.push(chunk);
    const f = r.next() as Buffer;
    expect(f).toEqual(hex('aabb'));
    expect(f.buffer).toBe(chunk.buffer);
  });

  it('rejects an oversized frame from its header, before allocating it', () => {
    const allocs = jest.spyOn(Buffer, 'allocUnsafe');
    try {
      const r = lengthPrefixed({ width: 4, maxFrameBytes: 1000 }).reader();
      r.push(hex('0102'));
      expect(r.next()).toBeUndefined();
      r.push(hex('0000 ff'));
      const err = frameError(() => r.next());
      expect(err.code).toBe('LF_FRAME_TOO_LARGE');
      expect(err.message).toBe('frame at stream offset 0: frame of 16908288 bytes exceeds maxFrameBytes 1000');
      // The stream cannot be resynchronised: the same error again.
      expect(frameError(() => r.next())).toBe(err);
      expect(allocs).not.toHaveBeenCalled();
    } finally {
      allocs.mockRestore();
    }
  });

  it('reports the stream offset of the bad frame; maxFrameBytes counts the payload only', () => {
    const f = lengthPrefixed({ width: 1, maxFrameBytes: 2 });
    const r = f.reader();
    r.push(hex('02 aabb 03 aabbcc'));
    expect(r.next()).toEqual(hex('aabb'));
    expect(frameError(() => r.next()).message).toBe('frame at stream offset 3: frame of 3 bytes exceeds maxFrameBytes 2');
  });

  it('rejects a length smaller than the header it includes', () => {
    const r = lengthPrefixed({ width: 2, includesHeader: true }).reader();
    r.push(hex('0001'));
    const err = frameError(() => r.next());
    expect([err.code, err.message]).toEqual(['LF_FRAME_MALFORMED', 'frame at stream offset 0: length 1 is smaller than the 2-byte header it includes']);
  });

  it('encode checks the payload against the limit, the width and the header prefix', () => {
    expect(frameError(() => lengthPrefixed({ maxFrameBytes: 3 }).encode(Buffer.alloc(4))).message).toBe(
      'payload of 4 bytes exceeds maxFrameBytes 3',
    );
    const w1 = frameError(() => lengthPrefixed({ width: 1, includesHeader: true }).encode(Buffer.alloc(255)));
    expect([w1.code, w1.message]).toEqual(['LF_FRAME_TOO_LARGE', 'length 256 does not fit a 1-byte length field (max 255)']);
    expect(frameError(() => lengthPrefixed({ lengthOffset: 2 }).encode(hex('01'))).message).toBe(
      'encode needs the 2 header bytes before the length field, got 0',
    );
  });

  it('validates its options, all problems at once', () => {
    const err = frameError(() => lengthPrefixed({ width: 3 as never, endian: 'middle' as never, lengthOffset: -1, maxFrameBytes: 1.5 }));
    expect(err.code).toBe('LF_FRAME_OPTIONS');
    expect(err.message).toBe(
      "lengthPrefixed: width must be 1, 2 or 4, got 3; endian must be 'big' or 'little', got \"middle\"; " +
        'lengthOffset must be a non-negative integer, got -1; maxFrameBytes must be a non-negative integer, got 1.5',
    );
  });

  it('works with structs: the frame is decoded by a struct that includes the header', () => {
    const Msg = struct({ magic: u16.const(0xcafe), type: u8, len: u16, body: rest }, { endian: 'big' });
    const f = lengthPrefixed({ width: 2, lengthOffset: 3, keepHeader: true });
    const wire = Buffer.concat([Msg.encode({ type: 1, len: 2, body: hex('0102') }), Msg.encode({ type: 2, len: 0, body: Buffer.alloc(0) })]);
    const frames = feed(f, wire, [4]).frames.map((b) => Msg.decode(b));
    expect(frames).toEqual([
      { magic: 0xcafe, type: 1, len: 2, body: hex('0102') },
      { magic: 0xcafe, type: 2, len: 0, body: Buffer.alloc(0) },
    ]);
  });

  it('is linear in the bytes pushed: a 1 MiB frame one small chunk at a time', () => {
    const f = lengthPrefixed({ maxFrameBytes: 1 << 20 });
    const payload = Buffer.alloc(1 << 20, 7);
    const stream = f.encode(payload);
    const r = f.reader();
    const started = Date.now();
    let got: Buffer | undefined;
    for (let p = 0; p < stream.length; p += 16) {
      r.push(stream.subarray(p, p + 16));
      got = r.next() ?? got;
    }
    expect(got?.equals(payload)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('delimited', () => {
  it('encodes and splits newline-delimited frames', () => {
    const f = delimited();
    expect(f.encode(Buffer.from('hi'))).toEqual(Buffer.from('hi\n'));
    expect(feed(f, Buffer.from('a\n\nbc\nrest'), []).frames.map(String)).toEqual(['a', '', 'bc']);
  });

  const delimiters: [string, string | Buffer][] = [['LF', '\n'], ['CRLF', '\r\n'], ['END', 'END'], ['00 00 00 ff', hex('000000ff')]];
  it.each(delimiters)('splits a stream cut at every byte position: %s', (_name, delimiter) => {
    const f = delimited({ delimiter });
    // Payloads that hold parts of the delimiter, so partial matches must be undone.
    const payloads = ['a', '', '\r', 'EN', 'ENx', 'EEN', 'x'.repeat(50), '\0\0\0', '\0\0\0\xff'].map((s) => Buffer.from(s, 'latin1'));
    // Payloads whose first delimiter is the one encode adds.
    const ok = payloads.filter((p) => Buffer.concat([p, f.delimiter]).indexOf(f.delimiter) === p.length);
    expect(ok.length).toBeGreaterThanOrEqual(7);
    const expected = hexes(ok);
    const stream = Buffer.concat(ok.map((p) => f.encode(p)));
    expect(hexes(feed(f, stream, []).frames)).toEqual(expected);
    for (let a = 0; a <= stream.length; a++) expect(hexes(feed(f, stream, [a]).frames)).toEqual(expected);
    for (let a = 0; a < 10; a++) for (let b = a; b < 14; b++) expect(hexes(feed(f, stream, [a, b]).frames)).toEqual(expected);
    const oneByOne = feed(f, stream, [...stream.keys()]);
    expect(hexes(oneByOne.frames)).toEqual(expected);
    expect(oneByOne.reader.buffered).toBe(0);
  });

  it('random frames in random chunks', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('\n', '\r\n', 'ab'),
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', '\r', '\n', 'x') }), { maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (delimiter, texts, rawCuts) => {
          const f = delimited({ delimiter });
          // The stream as the peer sends it; expected frames come from a plain split.
          const stream = Buffer.from(texts.join(delimiter) + delimiter);
          const expected = stream.toString().split(delimiter).slice(0, -1).map((s) => Buffer.from(s));
          const cuts = [...new Set(rawCuts.map((c) => c % (stream.length + 1)))].sort((x, y) => x - y);
          const { frames, reader } = feed(f, stream, cuts);
          expect(frames).toEqual(expected);
          expect(reader.buffered).toBe(0);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('keepDelimiter', () => {
    const f = delimited({ delimiter: '\r\n', keepDelimiter: true });
    expect(feed(f, Buffer.from('a\r\nb\r\n'), [2]).frames.map(String)).toEqual(['a\r\n', 'b\r\n']);
  });

  it('rejects a frame longer than maxFrameBytes, even before its delimiter arrives', () => {
    const f = delimited({ delimiter: '\r\n', maxFrameBytes: 4 });
    const r = f.reader();
    r.push(Buffer.from('abcd\r\nabcd'));
    expect(String(r.next())).toBe('abcd');
    expect(r.next()).toBeUndefined();
    r.push(Buffer.from('\r'));
    expect(r.next()).toBeUndefined(); // 'abcd\r' may still be 'abcd' + '\r\n'
    expect(r.buffered).toBe(5);
    r.push(Buffer.from('x'));
    const err = frameError(() => r.next());
    expect([err.code, err.message]).toEqual(['LF_FRAME_TOO_LARGE', 'frame at stream offset 6: no delimiter in the first 6 bytes of the frame (maxFrameBytes 4)']);
    expect(frameError(() => r.next())).toBe(err);

    const r2 = f.reader();
    r2.push(Buffer.from('abcdefgh\r\n'));
    expect(frameError(() => r2.next()).message).toBe('frame at stream offset 0: frame of 8 bytes exceeds maxFrameBytes 4');
  });

  it('encode refuses a payload that holds the delimiter, or is too large', () => {
    const f = delimited({ delimiter: '\n', maxFrameBytes: 3 });
    const err = frameError(() => f.encode(Buffer.from('a\nb')));
    expect([err.code, err.message]).toEqual(['LF_FRAME_MALFORMED', 'payload holds the delimiter at offset 1']);
    expect(frameError(() => f.encode(Buffer.from('abcd'))).code).toBe('LF_FRAME_TOO_LARGE');
  });

  it('validates its options', () => {
    expect(frameError(() => delimited({ delimiter: '', maxFrameBytes: -1 })).message).toBe(
      'delimited: delimiter must be a non-empty string or Uint8Array, got ""; maxFrameBytes must be a non-negative integer, got -1',
    );
  });

  it('is linear in the bytes pushed: a long line in many small chunks', () => {
    for (const delimiter of ['\n', '\r\n']) {
      const f = delimited({ delimiter, maxFrameBytes: 1 << 20 });
      const line = Buffer.alloc(1 << 19, 'x'.charCodeAt(0));
      const stream = f.encode(line);
      const r = f.reader();
      const started = Date.now();
      let got: Buffer | undefined;
      for (let p = 0; p < stream.length; p += 8) {
        r.push(stream.subarray(p, p + 8));
        got = r.next() ?? got;
      }
      expect(got?.equals(line)).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    }
  });
});
