/**
 * Incremental framing of a byte stream: length-prefixed frames and delimited frames.
 * Pure: no sockets. A TCP client pushes each chunk it receives and pulls frames out.
 *
 *   const framing = lengthPrefixed({ width: 4, endian: 'big' });
 *   socket.write(framing.encode(payload));
 *   const reader = framing.reader();
 *   socket.on('data', (chunk) => { reader.push(chunk); for (let f; (f = reader.next()); ) handle(f); });
 *
 * Costs: `push` is O(1); each byte is copied at most once, and only for a frame that spans
 * chunks (a frame inside one chunk is returned as a view of it, no copy). A frame's size is
 * checked against `maxFrameBytes` as soon as its header (or, delimited, its first
 * `maxFrameBytes + delimiter` bytes) is in, before anything is allocated for it.
 */
import { FrameError } from './errors';
import type { Endian } from './nodes/node';

export interface FrameReader {
  /**
   * Appends received bytes. The reader keeps the chunk and may return views of it: do not
   * modify a chunk after pushing it.
   */
  push(chunk: Uint8Array): void;
  /**
   * The next complete frame, or undefined until more bytes arrive. Throws FrameError
   * (LF_FRAME_TOO_LARGE, LF_FRAME_MALFORMED); the stream cannot be resynchronised after
   * that, and every later call throws the same error.
   */
  next(): Buffer | undefined;
  /** Bytes held that are not yet part of a returned frame (a partial frame at stream end). */
  readonly buffered: number;
}

export interface Framing {
  /** The payload as it goes on the wire (header or delimiter added). */
  encode(payload: Uint8Array): Buffer;
  /** A new reader for one stream. */
  reader(): FrameReader;
}

export const DEFAULT_MAX_FRAME_BYTES = 1024 * 1024;

const EMPTY = Buffer.alloc(0);

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function isCount(n: unknown): n is number {
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}

/**
 * The bytes received and not yet consumed, as a queue of chunks. Positions in its methods
 * are relative to the first unconsumed byte.
 */
class ChunkQueue {
  chunks: Buffer[] = [];
  /** Index in `chunks` of the first live chunk. */
  head = 0;
  /** Offset of the first live byte in `chunks[head]`. */
  off = 0;
  length = 0;
  /** Bytes consumed since the start of the stream. */
  consumed = 0;

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.chunks.push(toBuffer(chunk));
    this.length += chunk.length;
  }

  private advance(): void {
    this.chunks[this.head] = EMPTY;
    this.head++;
    this.off = 0;
    // Drop consumed slots now and then: amortised O(1), no unbounded growth.
    if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Unsigned integer of `width` bytes at position `at`; the caller ensures the bytes are there. */
  readUInt(at: number, width: number, little: boolean): number {
    const first = this.chunks[this.head];
    let v = 0;
    if (first.length - this.off >= at + width) {
      const p = this.off + at;
      for (let i = 0; i < width; i++) v = v * 256 + first[little ? p + width - 1 - i : p + i];
      return v;
    }
    const bytes = [0, 0, 0, 0];
    let k = this.head;
    let i = this.off + at;
    for (let n = 0; n < width; n++) {
      while (i >= this.chunks[k].length) {
        i -= this.chunks[k].length;
        k++;
      }
      bytes[n] = this.chunks[k][i++];
    }
    for (let n = 0; n < width; n++) v = v * 256 + bytes[little ? width - 1 - n : n];
    return v;
  }

  /** Removes and returns the first `n` bytes: a view when they lie in one chunk, else one copy. */
  take(n: number): Buffer {
    this.length -= n;
    this.consumed += n;
    const first = this.chunks[this.head];
    if (first === undefined) return EMPTY;
    if (first.length - this.off >= n) {
      const out = first.subarray(this.off, this.off + n);
      this.off += n;
      if (this.off === first.length) this.advance();
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let w = 0;
    while (w < n) {
      const c = this.chunks[this.head];
      const k = Math.min(c.length - this.off, n - w);
      c.copy(out, w, this.off, this.off + k);
      w += k;
      this.off += k;
      if (this.off === c.length) this.advance();
    }
    return out;
  }

  skip(n: number): void {
    this.length -= n;
    this.consumed += n;
    while (n > 0) {
      const c = this.chunks[this.head];
      const k = Math.min(c.length - this.off, n);
      n -= k;
      this.off += k;
      if (this.off === c.length) this.advance();
    }
  }
}

// ---------------------------------------------------------------------------- length-prefixed

export interface LengthPrefixedOptions {
  /** Bytes in the length field. @default 4 */
  width?: 1 | 2 | 4;
  /** Byte order of the length field. @default 'big' */
  endian?: Endian;
  /** Header bytes before the length field (magic, type, …). @default 0 */
  lengthOffset?: number;
  /** The length counts the header (`lengthOffset + width` bytes) as well as the payload. @default false */
  includesHeader?: boolean;
  /** `next()` returns header and payload, as on the wire, instead of the payload alone. @default false */
  keepHeader?: boolean;
  /** Largest payload accepted, in bytes (header excluded). @default 1 MiB */
  maxFrameBytes?: number;
}

export class LengthPrefixed implements Framing {
  readonly width: 1 | 2 | 4;
  readonly little: boolean;
  readonly lengthOffset: number;
  readonly includesHeader: boolean;
  readonly keepHeader: boolean;
  readonly maxFrameBytes: number;
  /** Bytes of header: `lengthOffset + width`. */
  readonly headerBytes: number;

  constructor(options: LengthPrefixedOptions = {}) {
    const problems: string[] = [];
    const width = options.width ?? 4;
    const endian = options.endian ?? 'big';
    const lengthOffset = options.lengthOffset ?? 0;
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (width !== 1 && width !== 2 && width !== 4) problems.push(`width must be 1, 2 or 4, got ${width}`);
    if (endian !== 'big' && endian !== 'little') problems.push(`endian must be 'big' or 'little', got ${JSON.stringify(endian)}`);
    if (!isCount(lengthOffset)) problems.push(`lengthOffset must be a non-negative integer, got ${lengthOffset}`);
    if (!isCount(maxFrameBytes)) problems.push(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`);
    if (problems.length > 0) throw new FrameError('LF_FRAME_OPTIONS', `lengthPrefixed: ${problems.join('; ')}`);
    this.width = width;
    this.little = endian === 'little';
    this.lengthOffset = lengthOffset;
    this.includesHeader = options.includesHeader ?? false;
    this.keepHeader = options.keepHeader ?? false;
    this.maxFrameBytes = maxFrameBytes;
    this.headerBytes = lengthOffset + width;
  }

  /**
   * The header for a payload of `payloadBytes`, for writing header and payload apart.
   * `prefix` is the `lengthOffset` header bytes before the length field (required when
   * lengthOffset > 0).
   */
  encodeHeader(payloadBytes: number, prefix?: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(this.headerBytes);
    this.writeHeader(out, payloadBytes, prefix);
    return out;
  }

  /** Header and payload in one new Buffer. */
  encode(payload: Uint8Array, prefix?: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(this.headerBytes + payload.length);
    this.writeHeader(out, payload.length, prefix);
    out.set(payload, this.headerBytes);
    return out;
  }

  private writeHeader(out: Buffer, payloadBytes: number, prefix: Uint8Array | undefined): void {
    if (payloadBytes > this.maxFrameBytes) {
      throw new FrameError('LF_FRAME_TOO_LARGE', `payload of ${payloadBytes} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`);
    }
    const len = this.includesHeader ? payloadBytes + this.headerBytes : payloadBytes;
    const max = 2 ** (8 * this.width) - 1;
    if (len > max) throw new FrameError('LF_FRAME_TOO_LARGE', `length ${len} does not fit a ${this.width}-byte length field (max ${max})`);
    const given = prefix?.length ?? 0;
    if (given !== this.lengthOffset) {
      throw new FrameError('LF_FRAME_MALFORMED', `encode needs the ${this.lengthOffset} header bytes before the length field, got ${given}`);
    }
    if (prefix !== undefined) out.set(prefix, 0);
    const p = this.lengthOffset;
    if (this.width === 1) out[p] = len;
    else if (this.width === 2) {
      if (this.little) out.writeUInt16LE(len, p);
      else out.writeUInt16BE(len, p);
    } else if (this.little) out.writeUInt32LE(len, p);
    else out.writeUInt32BE(len, p);
  }

  reader(): FrameReader {
    return new LengthPrefixedReader(this);
  }
}

class LengthPrefixedReader implements FrameReader {
  private readonly q = new ChunkQueue();
  /** Header + payload bytes of the frame at the head once its header is in, else -1. */
  private need = -1;
  private error: FrameError | undefined;

  constructor(private readonly f: LengthPrefixed) {}

  get buffered(): number {
    return this.q.length;
  }

  push(chunk: Uint8Array): void {
    this.q.push(chunk);
  }

  next(): Buffer | undefined {
    if (this.error !== undefined) throw this.error;
    const q = this.q;
    const f = this.f;
    if (this.need < 0) {
      if (q.length < f.headerBytes) return undefined;
      const len = q.readUInt(f.lengthOffset, f.width, f.little);
      const payload = f.includesHeader ? len - f.headerBytes : len;
      if (payload < 0) {
        return this.fail('LF_FRAME_MALFORMED', `length ${len} is smaller than the ${f.headerBytes}-byte header it includes`);
      }
      if (payload > f.maxFrameBytes) {
        return this.fail('LF_FRAME_TOO_LARGE', `frame of ${payload} bytes exceeds maxFrameBytes ${f.maxFrameBytes}`);
      }
      this.need = f.headerBytes + payload;
    }
    if (q.length < this.need) return undefined;
    const need = this.need;
    this.need = -1;
    if (f.keepHeader) return q.take(need);
    q.skip(f.headerBytes);
    return q.take(need - f.headerBytes);
  }

  private fail(code: 'LF_FRAME_TOO_LARGE' | 'LF_FRAME_MALFORMED', detail: string): never {
    this.error = new FrameError(code, `frame at stream offset ${this.q.consumed}: ${detail}`);
    throw this.error;
  }
}

/** Frames that start with a length field: `[lengthOffset bytes][length][payload]`. */
export function lengthPrefixed(options?: LengthPrefixedOptions): LengthPrefixed {
  return new LengthPrefixed(options);
}

// ---------------------------------------------------------------------------- delimited

export interface DelimitedOptions {
  /** Bytes that end each frame; a string is taken as utf8. @default '\n' */
  delimiter?: string | Uint8Array;
  /** `next()` returns frames with their delimiter. @default false */
  keepDelimiter?: boolean;
  /** Largest frame accepted, in bytes (delimiter excluded). @default 1 MiB */
  maxFrameBytes?: number;
}

export class Delimited implements Framing {
  readonly delimiter: Buffer;
  readonly keepDelimiter: boolean;
  readonly maxFrameBytes: number;

  constructor(options: DelimitedOptions = {}) {
    const problems: string[] = [];
    const d = options.delimiter ?? '\n';
    const delimiter = typeof d === 'string' ? Buffer.from(d, 'utf8') : d instanceof Uint8Array ? Buffer.from(d) : undefined;
    const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (delimiter === undefined || delimiter.length === 0) problems.push(`delimiter must be a non-empty string or Uint8Array, got ${JSON.stringify(d)}`);
    if (!isCount(maxFrameBytes)) problems.push(`maxFrameBytes must be a non-negative integer, got ${maxFrameBytes}`);
    if (problems.length > 0 || delimiter === undefined) throw new FrameError('LF_FRAME_OPTIONS', `delimited: ${problems.join('; ')}`);
    this.delimiter = delimiter;
    this.keepDelimiter = options.keepDelimiter ?? false;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** The payload followed by the delimiter; fails if the payload holds the delimiter. */
  encode(payload: Uint8Array): Buffer {
    const p = toBuffer(payload);
    if (p.length > this.maxFrameBytes) {
      throw new FrameError('LF_FRAME_TOO_LARGE', `payload of ${p.length} bytes exceeds maxFrameBytes ${this.maxFrameBytes}`);
    }
    const at = p.indexOf(this.delimiter);
    if (at !== -1) throw new FrameError('LF_FRAME_MALFORMED', `payload holds the delimiter at offset ${at}`);
    const out = Buffer.allocUnsafe(p.length + this.delimiter.length);
    out.set(p, 0);
    out.set(this.delimiter, p.length);
    return out;
  }

  reader(): FrameReader {
    return new DelimitedReader(this);
  }
}

class DelimitedReader implements FrameReader {
  private readonly q = new ChunkQueue();
  /**
   * Where the search for the delimiter resumes: chunk index, the queue position of that
   * chunk's first live byte, and the queue position to search from. Bytes before `scanPos`
   * hold no delimiter start, so each byte is searched once per frame.
   */
  private scanChunk = -1;
  private scanBase = 0;
  private scanPos = 0;
  private error: FrameError | undefined;

  constructor(private readonly f: Delimited) {}

  get buffered(): number {
    return this.q.length;
  }

  push(chunk: Uint8Array): void {
    this.q.push(chunk);
  }

  next(): Buffer | undefined {
    if (this.error !== undefined) throw this.error;
    const q = this.q;
    const f = this.f;
    const d = f.delimiter.length;
    const at = this.find();
    if (at < 0) {
      // No delimiter starts before scanPos: the frame is at least that long.
      if (this.scanPos > f.maxFrameBytes) {
        return this.fail(`no delimiter in the first ${this.scanPos} bytes of the frame (maxFrameBytes ${f.maxFrameBytes})`);
      }
      return undefined;
    }
    if (at > f.maxFrameBytes) return this.fail(`frame of ${at} bytes exceeds maxFrameBytes ${f.maxFrameBytes}`);
    this.scanChunk = -1;
    this.scanPos = 0;
    if (f.keepDelimiter) return q.take(at + d);
    const frame = q.take(at);
    q.skip(d);
    return frame;
  }

  /** Queue position of the first delimiter, or -1 (and the scan state moved past what was searched). */
  private find(): number {
    const q = this.q;
    const delim = this.f.delimiter;
    const d = delim.length;
    const chunks = q.chunks;
    if (this.scanChunk < q.head) {
      this.scanChunk = q.head;
      this.scanBase = 0;
    }
    for (let k = this.scanChunk; k < chunks.length; k++) {
      const c = chunks[k];
      const s = k === q.head ? q.off : 0;
      const len = c.length - s;
      const from = Math.max(this.scanPos - this.scanBase, 0);
      if (from < len) {
        const i = d === 1 ? c.indexOf(delim[0], s + from) : c.indexOf(delim, s + from);
        if (i !== -1) return this.scanBase + i - s;
        // A delimiter may start in the last d-1 bytes and end in later chunks.
        for (let p = Math.max(from, len - d + 1); p < len; p++) {
          const m = this.matchAcross(k, s + p);
          if (m === 1) return this.scanBase + p;
          if (m === -1) {
            this.scanPos = this.scanBase + p;
            this.scanChunk = k;
            return -1;
          }
        }
      }
      this.scanBase += len;
      this.scanPos = this.scanBase;
      this.scanChunk = k + 1;
    }
    this.scanChunk = chunks.length;
    return -1;
  }

  /** 1 if the delimiter starts at chunks[k][i], 0 if not, -1 if more bytes are needed to know. */
  private matchAcross(k: number, i: number): number {
    const chunks = this.q.chunks;
    const delim = this.f.delimiter;
    for (let j = 0; j < delim.length; j++) {
      while (i >= chunks[k].length) {
        k++;
        i = 0;
        if (k >= chunks.length) return -1;
      }
      if (chunks[k][i] !== delim[j]) return 0;
      i++;
    }
    return 1;
  }

  private fail(detail: string): never {
    this.error = new FrameError('LF_FRAME_TOO_LARGE', `frame at stream offset ${this.q.consumed}: ${detail}`);
    throw this.error;
  }
}

/** Frames that end with a delimiter (`'\n'`, `'\r\n'`, a byte sequence). */
export function delimited(options?: DelimitedOptions): Delimited {
  return new Delimited(options);
}
