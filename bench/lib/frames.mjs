// Frames whose inclusive share of the worker's CPU the profiles report, per part.
// A frame is { name, file, line } with file mapped back to worker/… or node_modules/… .
const inFile = (prefix) => (f) => f.file.startsWith(prefix);
const pkg = (name) => (f) => f.file.includes(`node_modules/${name}/`);
const fn = (name) => (f) => f.name === name;

const common = {
  'garbage collector': fn('(garbage collector)'),
  'worker/metrics (Recorder, HDR recording, snapshots)': inFile('worker/metrics/'),
  'hdr-histogram-js': pkg('hdr-histogram-js'),
  'setTimeout / clearTimeout / setImmediate (calls)': (f) => ['setTimeout', 'clearTimeout', 'setImmediate'].includes(f.name) && (f.file === 'node:timers' || f.file.startsWith('node:internal/timers')),
};

export const FRAMES = {
  http: {
    'worker/protocols/http*.ts (request(), the Exchange handler)': (f) => f.file.startsWith('worker/protocols/http'),
    'undici': pkg('undici'),
    'AbortController / AbortSignal (per-request deadline)': (f) => f.file.startsWith('node:internal/abort_controller') || f.file.startsWith('node:internal/event_target'),
    'new URL() / URL parsing': (f) => f.file.startsWith('node:internal/url'),
    'reading the body (undici BodyReadable, api/readable.js)': (f) => f.file.includes('undici/lib/api/readable.js'),
    'undici request() API layer (api-request.js)': (f) => f.file.includes('undici/lib/api/api-request.js'),
    'socket writes (writeLatin1String/writev/writeBuffer)': (f) => /^write(Latin1String|v|Buffer|Utf8String)$/.test(f.name),
    ...common,
  },
  ws: {
    'worker/protocols/ws (ws.ts, ws/)': inFile('worker/protocols/ws'),
    'ws': pkg('ws'),
    'socket writes (writev/writeBuffer/…)': (f) => /^write(Latin1String|v|Buffer|Utf8String)$/.test(f.name),
    ...common,
  },
  tcp: {
    'worker/protocols/tcp/ (dial, connection)': (f) => f.file.startsWith('worker/protocols/tcp'),
    'LoadError (new Error with a stack)': (f) => f.name === 'LoadError',
    'net connect (node:net)': (f) => f.file === 'node:net',
    'worker/engine/scope.ts (track/fail/begin/ok)': inFile('worker/engine/scope.ts'),
    ...common,
  },
  hold: {
    'worker/builtin/hold.ts (the hold journey)': inFile('worker/builtin/hold.ts'),
    'VirtualUser.think': fn('think'),
    'EventTarget.addEventListener (AbortSignal listeners)': (f) => f.name === 'addEventListener' && f.file.startsWith('node:internal/event_target'),
    'EventTarget.removeEventListener': (f) => f.name === 'removeEventListener' && f.file.startsWith('node:internal/event_target'),
    'Engine.launch (starting users)': (f) => f.name === 'launch' && f.file.startsWith('worker/engine/engine.ts'),
    'LoadError (new Error with a stack)': (f) => f.name === 'LoadError',
    'worker/protocols/tcp/ (dial, connection)': (f) => f.file.startsWith('worker/protocols/tcp'),
    'net connect (node:net)': (f) => f.file === 'node:net',
    ...common,
  },
  socketio: {
    'worker/protocols/socketio (socketio.ts, socketio/)': inFile('worker/protocols/socketio'),
    'socket.io-client / engine.io-client': (f) => /node_modules\/(socket\.io-client|engine\.io-client|socket\.io-parser|@socket\.io)\//.test(f.file),
    ...common,
  },
};
