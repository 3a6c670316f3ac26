import WebSocket from 'ws';

/** What a socket's events are reported to: the connection using it. */
export interface SocketOwner {
  received(raw: Buffer, isBinary: boolean): void;
  closedByServer(): void;
  dropped(err: Error): void;
}

/**
 * A `ws` client socket that knows the connection using it, read by the shared listeners below
 * (`ws` calls them with `this` set to the socket): a connection adds no closure to its socket.
 * The field is declared by the class, so it sits in the socket object itself rather than in a
 * property array added to it.
 */
export class OwnedSocket extends WebSocket {
  owner: SocketOwner | undefined = undefined;
}

export function onSocketMessage(this: WebSocket, raw: Buffer, isBinary: boolean): void {
  (this as OwnedSocket).owner?.received(raw, isBinary);
}

export function onSocketClose(this: WebSocket): void {
  (this as OwnedSocket).owner?.closedByServer();
}

export function onSocketError(this: WebSocket, err: Error): void {
  (this as OwnedSocket).owner?.dropped(err);
}

/** Takes `socket`'s errors once it is given up on (a socket being torn down may still report one). */
export function ignore(): void {}
