/**
 * `u.ws`: WebSocket connections. One concept per file under ws/: the public types (types.ts), a
 * received message (message.ts), wait metric names (names.ts), the socket and its shared
 * listeners (socket.ts), a pending wait on the deadline list (waiter.ts), the validated liveness
 * options and the dial (config.ts), heartbeat/random disconnect/reconnection (live.ts), the
 * connection (connection.ts) and the client factory (client.ts).
 */
export type * from './ws/types';
export { createWsClient, type RngSource } from './ws/client';
