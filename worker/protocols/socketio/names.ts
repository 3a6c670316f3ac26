/** `socketio.received <event>` names, made once per event name (bounded: event names are the scenario's). */
const receivedNames = new Map<string, string>();
export function receivedMetric(event: string): string {
  let name = receivedNames.get(event);
  if (name === undefined) {
    name = `socketio.received ${event}`;
    if (receivedNames.size < 1000) receivedNames.set(event, name);
  }
  return name;
}

/** `socketio.emit <event>` names, made once per event name (bounded as above). */
const emitNames = new Map<string, string>();
export function emitMetric(event: string): string {
  let name = emitNames.get(event);
  if (name === undefined) {
    name = `socketio.emit ${event}`;
    if (emitNames.size < 1000) emitNames.set(event, name);
  }
  return name;
}

