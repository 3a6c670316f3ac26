/**
 * Names made once per key: `<prefix><key>` for metric names and labels built on hot paths (a
 * message received, an event emitted, a wait), so that each call does not concatenate a new
 * string. Keys are the scenario's (event names, wait names, targets); past `max` distinct keys a
 * name is still returned but no longer kept, which bounds the memory a scenario that builds keys
 * from data can take.
 */
export function prefixedNames(prefix: string, max = 1000): (key: string) => string {
  const made = new Map<string, string>();
  return (key) => {
    let name = made.get(key);
    if (name === undefined) {
      name = prefix + key;
      if (made.size < max) made.set(key, name);
    }
    return name;
  };
}
