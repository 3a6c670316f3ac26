import * as fs from 'node:fs';
import * as path from 'node:path';

/** The records one worker can draw from, numbered 0 … count-1 in file order. Reads are synchronous. */
export interface RowSource {
  readonly count: number;
  record(i: number): string;
  close(): void;
}

/** Records held as strings: for a share that fits in one part (at most about DATA_PART_BYTES). */
export class MemorySource implements RowSource {
  private readonly records: string[] = [];
  get count() {
    return this.records.length;
  }
  add(record: string): void {
    this.records.push(record);
  }
  record(i: number): string {
    return this.records[i];
  }
  close(): void {
    this.records.length = 0;
  }
}

/**
 * Records in a local file written as parts arrive, read back one record per `record()` call
 * (one pread). Memory: 8 bytes of offset per record, whatever the records' size.
 */
export class FileSource implements RowSource {
  private readonly fd: number;
  private offsets: Float64Array;
  private n = 0;
  private size = 0;
  private scratch = Buffer.allocUnsafe(4096);
  /** Added records that lie next to each other in one buffer, written by one call at flush(). */
  private run: { ab: ArrayBufferLike; start: number; end: number } | undefined;

  /** `expected`: how many records will be added (the offsets grow past it if need be). */
  constructor(readonly file: string, expected: number) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.fd = fs.openSync(file, 'w+');
    this.offsets = new Float64Array(Math.max(1, expected) + 1);
  }
  get count() {
    return this.n;
  }

  /** Adds a record; call flush() before reading and before the memory of `bytes` is reused. */
  add(bytes: Buffer): void {
    if (this.n + 1 >= this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    const start = bytes.byteOffset;
    if (this.run && this.run.ab === bytes.buffer && this.run.end === start) this.run.end += bytes.length;
    else {
      this.flush();
      this.run = { ab: bytes.buffer, start, end: start + bytes.length };
    }
    this.n++;
    this.offsets[this.n] = this.offsets[this.n - 1] + bytes.length;
  }

  flush(): void {
    if (!this.run) return;
    const { ab, start, end } = this.run;
    fs.writeSync(this.fd, new Uint8Array(ab, start, end - start), 0, end - start, this.size);
    this.size += end - start;
    this.run = undefined;
  }

  record(i: number): string {
    const start = this.offsets[i];
    const len = this.offsets[i + 1] - start;
    if (this.scratch.length < len) this.scratch = Buffer.allocUnsafe(len);
    fs.readSync(this.fd, this.scratch, 0, len, start);
    return this.scratch.toString('utf8', 0, len);
  }

  close(): void {
    this.flush();
    fs.closeSync(this.fd);
    fs.rmSync(this.file, { force: true });
  }
}
