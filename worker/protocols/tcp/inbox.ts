import { ByteQueue } from '../byte-queue';
import type { FrameReader, Framing } from '../binary';

interface Parser {
  framing: Framing;
  reader: FrameReader;
  /** The chunks pushed to the reader that may still hold bytes it has not returned. */
  chunks: Buffer[];
  /** Total bytes of `chunks`. */
  held: number;
}

/**
 * The bytes received and not yet read. Frames are cut by the framing module's FrameReader
 * (the one frame parser); raw reads take from a ByteQueue. The bytes are in one place at a time:
 * while a reader is attached the queue is empty, and switching to raw reads or to another
 * framing hands the reader's unread bytes back to the queue (views, not copies).
 */
export class Inbox {
  private readonly queue = new ByteQueue();
  private parser: Parser | undefined;

  push(chunk: Buffer): void {
    const p = this.parser;
    if (p === undefined) return this.queue.push(chunk);
    p.reader.push(chunk);
    p.chunks.push(chunk);
    p.held += chunk.length;
  }

  /** Exactly `n` bytes, or undefined until they are in. */
  take(n: number): Buffer | undefined {
    this.detach();
    return this.queue.length >= n ? this.queue.take(n) : undefined;
  }

  /**
   * The next frame cut by `framing`, or undefined until it is complete. Throws the reader's
   * FrameError, leaving the bytes in place for a read with other options.
   */
  frame(framing: Framing): Buffer | undefined {
    let p = this.parser;
    if (p === undefined || p.framing !== framing) {
      this.detach();
      p = this.attach(framing);
    }
    let frame: Buffer | undefined;
    try {
      frame = p.reader.next();
    } catch (err) {
      this.detach();
      throw err;
    }
    if (frame !== undefined) {
      // Forget chunks wholly consumed; the frame returned keeps its own reference.
      const left = p.reader.buffered;
      while (p.chunks.length > 0 && p.held - p.chunks[0].length >= left) p.held -= p.chunks.shift()!.length;
    }
    return frame;
  }

  private attach(framing: Framing): Parser {
    const reader = framing.reader();
    const p: Parser = { framing, reader, chunks: [], held: 0 };
    if (this.queue.length > 0) {
      const all = this.queue.take(this.queue.length);
      reader.push(all);
      p.chunks.push(all);
      p.held = all.length;
    }
    this.parser = p;
    return p;
  }

  private detach(): void {
    const p = this.parser;
    if (p === undefined) return;
    this.parser = undefined;
    let skip = p.held - p.reader.buffered;
    for (const c of p.chunks) {
      if (skip >= c.length) {
        skip -= c.length;
        continue;
      }
      this.queue.push(skip > 0 ? c.subarray(skip) : c);
      skip = 0;
    }
  }
}
