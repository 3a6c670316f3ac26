/**
 * The API a scenario imports: `import { defineScenario } from 'loadfarm'`.
 * Everything exported here is part of the scenario contract (shared/DESIGN.md).
 */
export { defineScenario, isScenario } from './scenario/define';
export { parseDuration } from './scenario/duration';
export type { Duration } from './scenario/duration';
export type {
  ScenarioConfig,
  Scenario,
  User,
  UserFn,
  Flow,
  Phase,
  OpenLoad,
  ClosedLoad,
  Load,
  HttpOptions,
} from './scenario/types';
export type { HttpClient, HttpRequestOptions, HttpResponse } from './protocols/http';
export type {
  WsClient,
  WsConnection,
  WsConnectOptions,
  WsMessage,
  WaitOptions,
  WsHeartbeatOptions,
  WsRandomDisconnectOptions,
  WsReconnectInfo,
} from './protocols/ws';
export type { ReconnectOptions } from './protocols/reconnect';
export type {
  TcpClient,
  TcpConnection,
  TcpConnectOptions,
  ReadOptions,
  LengthFrameOptions,
  FramedTcpConnection,
  ReceiveOptions,
  FrameRequestOptions,
  SessionProtocol,
  TcpSession,
  SessionMessage,
  MessageSpec,
  MessageSpecs,
  SessionRequestOptions,
  SessionSendOptions,
  SessionReceiveOptions,
} from './protocols/tcp';
export type {
  SocketIoClient,
  SocketIoConnection,
  SocketIoConnectOptions,
  SocketIoWaitOptions,
  SocketIoAckOptions,
  SocketIoArgs,
  SocketIoTransport,
} from './protocols/socketio';
export type { Rng } from './engine/rng';
export { LoadError } from './protocols/errors';
export * from './protocols/binary';
export { holdScenario, type HoldOptions } from './builtin/hold';
export { csv, json, ndjson } from './data/define';
export type { DataSource, DataView, DataViews, DataMode, DataFormat, DataOptions, CsvOptions, ColumnType, Row } from './data/types';
