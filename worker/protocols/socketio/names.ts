import { prefixedNames } from '../../metrics/names';

/** `socketio.received <event>`, made once per event name. */
export const receivedMetric = prefixedNames('socketio.received ');

/** `socketio.emit <event>`, made once per event name. */
export const emitMetric = prefixedNames('socketio.emit ');
