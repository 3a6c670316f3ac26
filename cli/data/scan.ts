import * as fs from 'node:fs';
import { RecordScanner } from '../../worker/data/records';

const BLOCK_BYTES = 1024 * 1024;

/** One record of a file: its bytes (valid only until the next record is read) and where it lies. */
export interface FileRecord {
  bytes: Buffer;
  /** Byte offsets in the file: [start, end). */
  start: number;
  end: number;
  /** 1-based line where the record starts. */
  line: number;
}

/**
 * The records of a file in order, read in blocks of 1 MiB: memory holds one block and the
 * record being read, whatever the file's size. `kind` as RecordScanner.
 */
export function* fileRecords(file: string, kind: 'csv' | 'lines'): Generator<FileRecord> {
  const fd = fs.openSync(file, 'r');
  try {
    const scanner = new RecordScanner(kind);
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    let carry: Buffer = Buffer.alloc(0);
    let recordStart = 0;
    let pos = 0;
    let line = 1;
    const emit = (bytes: Buffer, end: number): FileRecord => {
      const r = { bytes, start: recordStart, end, line };
      for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
      recordStart = end;
      return r;
    };
    for (;;) {
      const n = fs.readSync(fd, block, 0, BLOCK_BYTES, pos);
      if (n === 0) break;
      const chunk = block.subarray(0, n);
      let from = 0;
      for (const end of scanner.feed(chunk)) {
        const local = end - pos;
        const piece = chunk.subarray(from, local);
        const bytes = carry.length > 0 ? Buffer.concat([carry, piece]) : piece;
        carry = Buffer.alloc(0);
        from = local;
        yield emit(bytes, end);
      }
      if (from < n) carry = Buffer.concat([carry, chunk.subarray(from)]);
      pos += n;
    }
    if (carry.length > 0) yield emit(carry, pos);
  } finally {
    fs.closeSync(fd);
  }
}
