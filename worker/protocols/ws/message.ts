import type { WsMessage } from './types';

/** A message received: text frames decoded as UTF-8, binary frames as bytes. */
export class Message implements WsMessage {
  private parsed: unknown;
  constructor(readonly data: string | Buffer, readonly isBinary: boolean) {}
  text(): string {
    return typeof this.data === 'string' ? this.data : this.data.toString('utf8');
  }
  json<T>(): T {
    return (this.parsed ??= JSON.parse(this.text())) as T;
  }
}

/** What goes on the wire for `send(data)`: strings and bytes as they are, anything else as JSON. */
export function payloadOf(data: string | Buffer | object): string | Buffer {
  return typeof data === 'string' || Buffer.isBuffer(data) ? data : JSON.stringify(data);
}
