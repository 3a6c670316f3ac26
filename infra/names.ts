/**
 * Names and facts of one loadfarm environment: the contract between the CDK app (which
 * writes them) and the CLI (which finds everything from the environment's name).
 *
 * Plain code with no AWS or CDK import, so the CLI can use it without loading aws-cdk-lib.
 */

/** Environment used when none is given. */
export const DEFAULT_ENV_NAME = 'default';

/** Tag on every resource of the environment; its value is the environment's name. */
export const ENV_TAG = 'loadfarm:env';

/** Tag on every resource of the environment; its value is the ISO 8601 (UTC) expiry time. */
export const EXPIRES_AT_TAG = 'loadfarm:expires-at';

/** Prefix of every environment's CloudFormation stack name. */
export const STACK_NAME_PREFIX = 'loadfarm-';

/** Where things live on a worker machine once its user data has finished. */
export const WORKER_PATHS = {
  /** The worker bundle (dist/worker.js), run with `node`. */
  bundle: '/opt/loadfarm/worker.js',
  /** Written last by the user data: the machine is ready to start a worker. */
  ready: '/opt/loadfarm/ready',
  /** Node 22 on the worker machines. */
  node: '/usr/bin/node',
} as const;

const ENV_NAME = /^[a-z](?:[a-z0-9-]{0,30}[a-z0-9])?$/;

/**
 * Checks an environment name: 1 to 32 characters, lowercase letters, digits and hyphens,
 * starting with a letter and not ending with a hyphen.
 * @returns a one-line problem, or undefined when the name is valid
 */
export function checkEnvName(name: string): string | undefined {
  if (ENV_NAME.test(name)) return undefined;
  return (
    `environment name must be 1-32 lowercase letters, digits or hyphens, starting with a letter ` +
    `and not ending with a hyphen; got ${JSON.stringify(name)}`
  );
}

/** CloudFormation stack name of environment `env`: `loadfarm-<env>`. */
export function stackName(env: string): string {
  return `${STACK_NAME_PREFIX}${env}`;
}

/** The environment named by a stack name, or undefined when it is not a loadfarm stack name. */
export function envNameFromStackName(name: string): string | undefined {
  if (!name.startsWith(STACK_NAME_PREFIX)) return undefined;
  const env = name.slice(STACK_NAME_PREFIX.length);
  return checkEnvName(env) === undefined ? env : undefined;
}

/** SSM parameter path under which environment `env` publishes its facts: `/loadfarm/<env>/`. */
export function parameterPrefix(env: string): string {
  return `/loadfarm/${env}/`;
}

/** The facts an environment publishes, each as one SSM String parameter. */
export const FACT_KEYS = ['bucket', 'asg', 'region', 'workers', 'expires-at', 'instance-type', 'spot'] as const;
export type FactKey = (typeof FACT_KEYS)[number];

/**
 * Facts published since the results retention and the self-deletion were added. Optional when
 * reading, so that environments deployed before still read (their values are then unknown).
 */
export const OPTIONAL_FACT_KEYS = ['keep-results', 'deletes-at'] as const;
export type OptionalFactKey = (typeof OPTIONAL_FACT_KEYS)[number];

/** Full SSM parameter names of every fact environment `env` publishes, the optional ones included. */
export function allParameterNames(env: string): Record<FactKey | OptionalFactKey, string> {
  const prefix = parameterPrefix(env);
  const names = parameterNames(env) as Record<FactKey | OptionalFactKey, string>;
  for (const key of OPTIONAL_FACT_KEYS) names[key] = `${prefix}${key}`;
  return names;
}

/** Full SSM parameter names of environment `env`, by fact key. */
export function parameterNames(env: string): Record<FactKey, string> {
  const prefix = parameterPrefix(env);
  const names = {} as Record<FactKey, string>;
  for (const key of FACT_KEYS) names[key] = `${prefix}${key}`;
  return names;
}

/** Everything about an environment that follows from its name alone. */
export interface EnvNames {
  readonly env: string;
  readonly stackName: string;
  readonly parameterPrefix: string;
  readonly parameters: Record<FactKey, string>;
  readonly tags: { readonly env: string; readonly expiresAt: string };
}

/** Names of environment `env` (stack, SSM parameters, tag keys). Does not validate `env`. */
export function envNames(env: string): EnvNames {
  return {
    env,
    stackName: stackName(env),
    parameterPrefix: parameterPrefix(env),
    parameters: parameterNames(env),
    tags: { env: ENV_TAG, expiresAt: EXPIRES_AT_TAG },
  };
}

/** What a deployed environment publishes under `/loadfarm/<env>/`. */
export interface EnvFacts {
  readonly env: string;
  /** Results bucket name (the store is `s3://<bucket>/`). */
  readonly bucket: string;
  /** Auto-scaling group name of the workers. */
  readonly asg: string;
  readonly region: string;
  /** Number of worker machines (min = max of the group). */
  readonly workers: number;
  /** ISO 8601 UTC time at which the group scales to zero. */
  readonly expiresAt: string;
  readonly instanceType: string;
  readonly spot: boolean;
  /**
   * The results are kept (bucket retained on destroy, no expiry); undefined for an environment
   * deployed before this fact was published.
   */
  readonly keepResults?: boolean;
  /** ISO 8601 UTC time at which the stack deletes itself; undefined when not published. */
  readonly deletesAt?: string;
}

export type EnvFactsResult =
  | { readonly ok: true; readonly facts: EnvFacts }
  | { readonly ok: false; readonly problems: readonly string[] };

/**
 * Reads an environment's facts from its SSM parameters (as returned by GetParametersByPath).
 * Parameters outside `/loadfarm/<env>/` are ignored.
 * @returns the facts, or every problem found (missing or malformed parameters)
 */
export function envFactsFromParameters(
  env: string,
  parameters: ReadonlyArray<{ readonly Name?: string; readonly Value?: string }>,
): EnvFactsResult {
  const names = parameterNames(env);
  const values = new Map<string, string>();
  for (const p of parameters) if (p.Name !== undefined && p.Value !== undefined) values.set(p.Name, p.Value);
  const problems: string[] = [];
  const get = (key: FactKey): string => {
    const value = values.get(names[key]);
    if (value === undefined || value === '') problems.push(`SSM parameter ${names[key]} is missing`);
    return value ?? '';
  };
  const bucket = get('bucket');
  const asg = get('asg');
  const region = get('region');
  const workersText = get('workers');
  const expiresAt = get('expires-at');
  const instanceType = get('instance-type');
  const spotText = get('spot');
  const workers = Number(workersText);
  if (workersText !== '' && !(Number.isInteger(workers) && workers >= 0)) {
    problems.push(`SSM parameter ${names.workers} must be a whole number; got ${JSON.stringify(workersText)}`);
  }
  if (expiresAt !== '' && Number.isNaN(Date.parse(expiresAt))) {
    problems.push(`SSM parameter ${names['expires-at']} must be an ISO 8601 time; got ${JSON.stringify(expiresAt)}`);
  }
  if (spotText !== '' && spotText !== 'true' && spotText !== 'false') {
    problems.push(`SSM parameter ${names.spot} must be true or false; got ${JSON.stringify(spotText)}`);
  }
  const optional = allParameterNames(env);
  const keepText = values.get(optional['keep-results']);
  if (keepText !== undefined && keepText !== 'true' && keepText !== 'false') {
    problems.push(`SSM parameter ${optional['keep-results']} must be true or false; got ${JSON.stringify(keepText)}`);
  }
  const deletesAt = values.get(optional['deletes-at']);
  if (deletesAt !== undefined && Number.isNaN(Date.parse(deletesAt))) {
    problems.push(`SSM parameter ${optional['deletes-at']} must be an ISO 8601 time; got ${JSON.stringify(deletesAt)}`);
  }
  if (problems.length > 0) return { ok: false, problems };
  return {
    ok: true,
    facts: {
      env, bucket, asg, region, workers, expiresAt, instanceType, spot: spotText === 'true',
      ...(keepText !== undefined ? { keepResults: keepText === 'true' } : {}),
      ...(deletesAt !== undefined ? { deletesAt } : {}),
    },
  };
}
