// What the worker imports from 'undici' (worker/protocols/http-*.ts), from undici's own modules:
// its dispatchers, connector, errors and header parsing. Left out: fetch, WebSocket, EventSource,
// caches, cookies, mocks, interceptors and the request()/stream() API a worker never calls (it
// uses dispatch()). An import of any other name fails the worker build ("No matching export").
import Agent from 'undici/lib/dispatcher/agent.js';
import Client from 'undici/lib/dispatcher/client.js';
import Dispatcher from 'undici/lib/dispatcher/dispatcher.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import buildConnector from 'undici/lib/core/connect.js';
import errors from 'undici/lib/core/errors.js';
import coreUtil from 'undici/lib/core/util.js';

/** As undici's index exports it. */
const util = { parseHeaders: coreUtil.parseHeaders, headerNameToString: coreUtil.headerNameToString };

export { Agent, Client, Dispatcher, Pool, buildConnector, errors, util };
export default { Agent, Client, Dispatcher, Pool, buildConnector, errors, util };
