/** `loadfarm envs`: the environments of a region, with their workers and the time they have left. */
import { type AwsClients, firstCall, resolveRegion } from './clients';
import { type EnvListing, listEnvironments } from './environments';
import { formatUtc, timeLeft } from './format';
import type { Output } from './output';

export interface EnvsOptions {
  readonly region?: string;
  readonly json: boolean;
}

export interface EnvsDeps {
  readonly clients: (region: string) => AwsClients;
  readonly defaultRegion: () => Promise<string | undefined>;
  readonly out: Output;
  readonly now: () => Date;
}

/** Pure: one row per environment (header first), columns padded. */
export function envTable(listings: readonly EnvListing[], now: Date): string[] {
  const rows = listings.map((l) => {
    const status = l.stackStatus ?? 'no stack';
    if (l.workers === undefined) {
      return [l.env, status, '-', '-', l.problems ? `facts unreadable: ${l.problems[0]}${l.problems.length > 1 ? ` (and ${l.problems.length - 1} more)` : ''}` : 'no facts published'];
    }
    const expired = l.expiresAt !== undefined && Date.parse(l.expiresAt) <= now.getTime();
    const expires = `${timeLeft(l.expiresAt, now)}${l.expiresAt ? ` (${formatUtc(l.expiresAt)})` : ''}${expired ? ', scaled to 0' : ''}`;
    return [
      l.env,
      status,
      `${l.inService ?? '?'}/${l.workers} in service`,
      `${l.instanceType}${l.spot ? ' spot' : ''}`,
      expires,
    ];
  });
  const all = [['ENV', 'STATUS', 'WORKERS', 'TYPE', 'EXPIRES'], ...rows];
  const widths = all[0].map((_, c) => Math.max(...all.map((r) => r[c].length)));
  return all.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
}

/** Runs `envs`. @returns the exit code (0). */
export async function listEnvs(options: EnvsOptions, deps: EnvsDeps): Promise<number> {
  const region = await resolveRegion(options.region, deps.defaultRegion);
  const clients = deps.clients(region);
  const listings = await firstCall(() => listEnvironments(clients));
  const now = deps.now();
  if (options.json) {
    const items = listings.map((l) => ({ ...l, region, timeLeft: l.expiresAt ? timeLeft(l.expiresAt, now) : undefined }));
    deps.out.info(JSON.stringify(items, null, 2));
    return 0;
  }
  if (listings.length === 0) {
    deps.out.info(`no loadfarm environments in ${region}`);
    return 0;
  }
  deps.out.info(`loadfarm environments in ${region}:`);
  for (const line of envTable(listings, now)) deps.out.info(line);
  return 0;
}
