import { prefixedNames } from '../../metrics/names';

const named = prefixedNames('ws.');

/** The metric of a wait named `name` (`undefined`: `ws.reply`), made once per name. */
export function waitMetric(name: string | undefined): string {
  return name === undefined ? 'ws.reply' : named(name);
}
