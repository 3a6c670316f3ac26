/**
 * `u.socketio`: Socket.IO connections. One concept per file under socketio/: the public types
 * (types.ts), metric names (names.ts), disconnect and transport error codes (codes.ts), the
 * connection (connection.ts) and the client factory (client.ts).
 */
export type * from './socketio/types';
export { createSocketIoClient } from './socketio/client';
