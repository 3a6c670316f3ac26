/**
 * `u.tcp`: raw TCP connections, framed messages and typed sessions. One concept per file under
 * tcp/: the public types (types.ts, session-types.ts), the byte inbox (inbox.ts), the connection
 * (connection.ts), the session protocol (session.ts) and the client factory (client.ts).
 */
export type * from './tcp/types';
export type * from './tcp/session-types';
export { createTcpClient, parseTcpTarget } from './tcp/client';
