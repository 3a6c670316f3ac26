import type { WsMessage } from './types';

/**
 * A message received. Text frames are decoded as UTF-8 when first read (`data`, `text()`,
 * `json()`), not on arrival: an exchange whose predicate does not look at the text costs no
 * decoding. `keep()` decodes at once, for a message that waits in the inbox (so that it holds a
 * string, not a view on the socket's read buffer).
 */
export class Message implements WsMessage {
  private parsed: unknown = undefined;
  private raw: Buffer | undefined;
  private decoded: string | undefined = undefined;

  constructor(raw: Buffer, readonly isBinary: boolean) {
    this.raw = raw;
  }

  get data(): string | Buffer {
    return this.isBinary ? this.raw! : this.text();
  }

  text(): string {
    if (this.isBinary) return this.raw!.toString('utf8');
    if (this.decoded === undefined) {
      this.decoded = this.raw!.toString('utf8');
      this.raw = undefined;
    }
    return this.decoded;
  }

  json<T>(): T {
    return (this.parsed ??= JSON.parse(this.text())) as T;
  }

  /** Decodes a text frame now and lets go of its bytes. */
  keep(): this {
    if (!this.isBinary) this.text();
    return this;
  }
}

/** What goes on the wire for `send(data)`: strings and bytes as they are, anything else as JSON. */
export function payloadOf(data: string | Buffer | object): string | Buffer {
  return typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
}
