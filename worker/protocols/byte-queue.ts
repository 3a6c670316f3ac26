/**
 * Bytes received and not yet read, as a list of chunks: appending is O(1); a read copies only
 * what it returns (or nothing, when it falls inside one chunk).
 */
export class ByteQueue {
  private chunks: Buffer[] = [];
  private head = 0; // read offset into chunks[0]
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /** Removes and returns the first `n` bytes; the caller checks `length >= n` first. */
  take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0);
    const first = this.chunks[0];
    if (first.length - this.head >= n) {
      const out = first.subarray(this.head, this.head + n);
      this.head += n;
      if (this.head === first.length) {
        this.chunks.shift();
        this.head = 0;
      }
      this.length -= n;
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[0];
      const copy = Math.min(chunk.length - this.head, n - filled);
      chunk.copy(out, filled, this.head, this.head + copy);
      filled += copy;
      this.head += copy;
      if (this.head === chunk.length) {
        this.chunks.shift();
        this.head = 0;
      }
    }
    this.length -= n;
    return out;
  }

  /** Index of `needle` in the queued bytes at or after `from`, or -1. */
  indexOf(needle: Buffer, from = 0): number {
    if (this.length < needle.length) return -1;
    if (this.chunks.length > 1) {
      // Join once: a delimiter may straddle chunks. Later searches reuse the joined chunk.
      const joined = Buffer.concat([this.chunks[0].subarray(this.head), ...this.chunks.slice(1)]);
      this.chunks = [joined];
      this.head = 0;
    }
    const at = this.chunks[0].indexOf(needle, this.head + from);
    return at < 0 ? -1 : at - this.head;
  }

  /** Reads without consuming: byte at `offset` from the front. */
  peek(offset: number): number {
    let i = 0;
    let at = this.head + offset;
    while (at >= this.chunks[i].length) {
      at -= this.chunks[i].length;
      i++;
    }
    return this.chunks[i][at];
  }

  clear(): void {
    this.chunks = [];
    this.head = 0;
    this.length = 0;
  }
}
