/** `ws.<name>` metric names, made once per name (bounded: names are the scenario's). */
const NAMES_MAX = 1000;
const metricNames = new Map<string, string>();

/** The metric of a wait named `name` (`undefined`: `ws.reply`). */
export function waitMetric(name: string | undefined): string {
  if (name === undefined) return 'ws.reply';
  let metric = metricNames.get(name);
  if (metric === undefined) {
    metric = `ws.${name}`;
    if (metricNames.size < NAMES_MAX) metricNames.set(name, metric);
  }
  return metric;
}
