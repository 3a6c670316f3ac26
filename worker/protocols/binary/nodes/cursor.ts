import { StructError, type StructErrorCode } from '../errors';
import type { TraceFn } from './node';

/** Position, buffer and field path of one encode or decode call. */
export class Cursor {
  /** Field names and array indexes below the root; only `path[0 .. depth)` is live. */
  readonly path: (string | number)[] = [];
  depth = 0;
  trace: TraceFn | undefined = undefined;

  constructor(
    readonly root: string,
    public buf: Buffer,
    public pos: number,
    public end: number,
  ) {}

  pathString(): string {
    let s = this.root;
    for (let i = 0; i < this.depth; i++) {
      const p = this.path[i];
      s += typeof p === 'number' ? `[${p}]` : `.${p}`;
    }
    return s;
  }

  fail(code: StructErrorCode, detail: string, offset?: number): never {
    throw new StructError(code, this.pathString(), detail, offset);
  }

  /** Fails LF_STRUCT_TRUNCATED unless `n` bytes are left at `pos`. */
  need(n: number): void {
    if (this.end - this.pos < n) this.truncated(n);
  }

  truncated(n: number): never {
    const left = this.end - this.pos;
    return this.fail('LF_STRUCT_TRUNCATED', `needs ${n} byte${n === 1 ? '' : 's'} at offset ${this.pos}, only ${left} left`, this.pos);
  }
}
