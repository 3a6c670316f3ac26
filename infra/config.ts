/**
 * The CDK app's context (`-c key=value`, cdk.json, or `new App({ context })`), validated.
 *
 * Plain code with no AWS or CDK import. Values from `-c` arrive as strings; values from
 * cdk.json or a test may be numbers or booleans: both are accepted.
 */
import { DEFAULT_ENV_NAME, checkEnvName } from './names';

/** Defaults of the context keys. */
export const CONTEXT_DEFAULTS = {
  env: DEFAULT_ENV_NAME,
  workers: 2,
  instanceType: 'c7i.large',
  spot: false,
  ttlHours: 4,
  vpcCidr: '10.64.0.0/16',
  maxAzs: 2,
  keepResults: false,
  privateWorkers: false,
  /** Only for results that are not kept: kept results never expire. */
  resultsExpirationDays: 30,
  workerBundle: 'dist/worker.js',
} as const;

/** Bounds of the numeric context keys (inclusive). */
export const CONTEXT_LIMITS = {
  workers: { min: 1, max: 200 },
  /** 15 minutes to 7 days. */
  ttlHours: { min: 0.25, max: 168 },
  maxAzs: { min: 1, max: 6 },
  resultsExpirationDays: { min: 1, max: 3650 },
  vpcPrefixLength: { min: 16, max: 24 },
  /** An explicit expiresAt must be at least this far in the future: a deploy takes minutes. */
  expiresAtMinLeadMinutes: 10,
  /** An explicit expiresAt may be at most this far in the future (the ttlHours cap). */
  expiresAtMaxLeadHours: 168,
} as const;

/**
 * Minutes between the expiry (workers scale to zero) and the environment deleting its own
 * stack, so that nothing billed by the hour (NAT gateway, its address, interface endpoints)
 * outlives the time to live by more than this.
 */
export const SELF_DELETE_GRACE_MINUTES = 60;

/** When an environment expiring at `expiresAt` (ISO 8601) deletes itself, as ISO 8601 without milliseconds. */
export function selfDeleteAt(expiresAt: string): string {
  const at = new Date(Date.parse(expiresAt) + SELF_DELETE_GRACE_MINUTES * 60_000);
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Context keys the app reads. */
export const CONTEXT_KEYS = [
  'env', 'workers', 'instanceType', 'spot', 'ttlHours', 'expiresAt', 'vpcCidr', 'maxAzs',
  'keepResults', 'privateWorkers', 'resultsExpirationDays', 'workerBundle', 'account', 'region',
] as const;

export interface LoadfarmConfig {
  readonly env: string;
  readonly workers: number;
  readonly instanceType: string;
  readonly spot: boolean;
  /** ISO 8601 UTC, whole minutes: when the workers scale to zero. */
  readonly expiresAt: string;
  readonly vpcCidr: string;
  readonly maxAzs: number;
  /** Results bucket retained on destroy, and its objects never expire. */
  readonly keepResults: boolean;
  readonly privateWorkers: boolean;
  /** Days objects live in a bucket that is not kept; undefined for kept results (no expiry). */
  readonly resultsExpirationDays?: number;
  /** Path of the worker bundle, relative to the working directory or absolute. */
  readonly workerBundle: string;
  /** Explicit AWS account; undefined leaves it to the CLI's credentials. */
  readonly account?: string;
  /** Explicit AWS region; undefined leaves it to the CLI's configuration. */
  readonly region?: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: LoadfarmConfig }
  | { readonly ok: false; readonly problems: readonly string[] };

const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/;
const ACCOUNT = /^\d{12}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/**
 * `expiresAt` rounded up to the next whole UTC minute (the granularity of the scheduled
 * scale-in), as ISO 8601 without milliseconds.
 */
export function roundUpToMinute(time: Date): string {
  const minute = 60_000;
  const rounded = new Date(Math.ceil(time.getTime() / minute) * minute);
  return rounded.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * Validates the context and fills in defaults. `now` is when the app runs: the expiry time
 * is `now + ttlHours` unless `expiresAt` is given.
 * @returns the configuration, or every problem found (one line each, naming the key and the value received)
 */
export function parseContext(context: Readonly<Record<string, unknown>>, now: Date): ConfigResult {
  const problems: string[] = [];
  const has = (key: string): boolean => context[key] !== undefined && context[key] !== '';

  const str = (key: string, fallback: string): string => {
    if (!has(key)) return fallback;
    const v = context[key];
    if (typeof v === 'string') return v.trim();
    problems.push(`context ${key} must be a string; got ${JSON.stringify(v)}`);
    return fallback;
  };
  const num = (key: string, fallback: number, min: number, max: number, integer: boolean): number => {
    if (!has(key)) return fallback;
    const raw = context[key];
    const v = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : Number.NaN;
    if (!Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max) {
      const kind = integer ? 'a whole number' : 'a number';
      problems.push(`context ${key} must be ${kind} from ${min} to ${max}; got ${JSON.stringify(raw)}`);
      return fallback;
    }
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    if (!has(key)) return fallback;
    const raw = context[key];
    if (raw === true || raw === 'true') return true;
    if (raw === false || raw === 'false') return false;
    problems.push(`context ${key} must be true or false; got ${JSON.stringify(raw)}`);
    return fallback;
  };

  const env = str('env', CONTEXT_DEFAULTS.env);
  const envProblem = checkEnvName(env);
  if (envProblem) problems.push(`context env: ${envProblem}`);

  const L = CONTEXT_LIMITS;
  const workers = num('workers', CONTEXT_DEFAULTS.workers, L.workers.min, L.workers.max, true);
  const instanceType = str('instanceType', CONTEXT_DEFAULTS.instanceType);
  if (!INSTANCE_TYPE.test(instanceType)) {
    problems.push(`context instanceType must look like c7i.large (family.size); got ${JSON.stringify(instanceType)}`);
  }
  const spot = bool('spot', CONTEXT_DEFAULTS.spot);
  const ttlHours = num('ttlHours', CONTEXT_DEFAULTS.ttlHours, L.ttlHours.min, L.ttlHours.max, false);
  const vpcCidr = str('vpcCidr', CONTEXT_DEFAULTS.vpcCidr);
  const cidrProblem = checkCidr(vpcCidr);
  if (cidrProblem) problems.push(`context vpcCidr ${cidrProblem}`);
  const maxAzs = num('maxAzs', CONTEXT_DEFAULTS.maxAzs, L.maxAzs.min, L.maxAzs.max, true);
  const keepResults = bool('keepResults', CONTEXT_DEFAULTS.keepResults);
  const privateWorkers = bool('privateWorkers', CONTEXT_DEFAULTS.privateWorkers);
  const expirationDays = num(
    'resultsExpirationDays', CONTEXT_DEFAULTS.resultsExpirationDays,
    L.resultsExpirationDays.min, L.resultsExpirationDays.max, true,
  );
  if (keepResults && has('resultsExpirationDays')) {
    problems.push(
      `context resultsExpirationDays cannot be combined with keepResults=true (kept results never expire); ` +
        `got ${JSON.stringify(context.resultsExpirationDays)}`,
    );
  }
  const resultsExpirationDays = keepResults ? undefined : expirationDays;
  const workerBundle = str('workerBundle', CONTEXT_DEFAULTS.workerBundle);

  const account = has('account') ? str('account', '') : undefined;
  if (account !== undefined && !ACCOUNT.test(account)) {
    problems.push(`context account must be a 12-digit AWS account id; got ${JSON.stringify(context.account)}`);
  }
  const region = has('region') ? str('region', '') : undefined;
  if (region !== undefined && !REGION.test(region)) {
    problems.push(`context region must look like us-east-1; got ${JSON.stringify(context.region)}`);
  }

  let expiresAt = roundUpToMinute(new Date(now.getTime() + ttlHours * 3_600_000));
  if (has('expiresAt')) {
    const raw = str('expiresAt', '');
    const time = Date.parse(raw);
    const earliest = now.getTime() + L.expiresAtMinLeadMinutes * 60_000;
    const latest = now.getTime() + L.expiresAtMaxLeadHours * 3_600_000;
    if (Number.isNaN(time) || !/^\d{4}-\d{2}-\d{2}T/.test(raw)) {
      problems.push(`context expiresAt must be an ISO 8601 time such as 2030-01-01T12:00:00Z; got ${JSON.stringify(raw)}`);
    } else if (time < earliest) {
      problems.push(
        `context expiresAt must be at least ${L.expiresAtMinLeadMinutes} minutes in the future ` +
          `(now ${now.toISOString()}); got ${JSON.stringify(raw)}`,
      );
    } else if (time > latest) {
      problems.push(
        `context expiresAt must be at most ${L.expiresAtMaxLeadHours} hours (7 days) in the future ` +
          `(now ${now.toISOString()}); got ${JSON.stringify(raw)}`,
      );
    } else {
      expiresAt = roundUpToMinute(new Date(time));
    }
  }

  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    config: {
      env, workers, instanceType, spot, expiresAt, vpcCidr, maxAzs, keepResults, privateWorkers,
      resultsExpirationDays, workerBundle, account, region,
    },
  };
}

/** @returns a problem (without the key name) or undefined when `cidr` is an IPv4 CIDR of an allowed size */
function checkCidr(cidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const { min, max } = CONTEXT_LIMITS.vpcPrefixLength;
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) {
    return `must be an IPv4 CIDR such as ${CONTEXT_DEFAULTS.vpcCidr}; got ${JSON.stringify(cidr)}`;
  }
  const prefix = Number(m[5]);
  if (prefix < min || prefix > max) return `must have a prefix length from /${min} to /${max}; got ${JSON.stringify(cidr)}`;
  return undefined;
}
