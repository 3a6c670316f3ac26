/**
 * Finding environments from their names: the CloudFormation stack `loadfarm-<env>` and the
 * facts the stack publishes under `/loadfarm/<env>/` (contract in `infra/names.ts`). The one
 * reader of an environment's facts: up, down, envs and the SSM fleet's discovery all read
 * them here. Plain functions taking the clients they call, so tests pass mocked clients.
 */
import { type AutoScalingClient, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  type CloudFormationClient,
  DescribeStacksCommand,
  type Stack,
  paginateDescribeStacks,
} from '@aws-sdk/client-cloudformation';
import { GetParametersCommand, type Parameter, type SSMClient, paginateGetParametersByPath } from '@aws-sdk/client-ssm';
import {
  type EnvFacts,
  type EnvFactsResult,
  envFactsFromParameters,
  envNameFromStackName,
  parameterNames,
  parameterPrefix,
} from '../../infra/names';
import { UsageError } from '../errors';

/**
 * The stack named `name`, or undefined when there is none. CloudFormation answers a missing
 * stack with a ValidationError whose message is exactly `Stack with id NAME does not exist`
 * (the test the CDK toolkit uses too); every other error is passed on.
 */
export async function describeStack(cfn: CloudFormationClient, name: string): Promise<Stack | undefined> {
  try {
    const out = await cfn.send(new DescribeStacksCommand({ StackName: name }));
    return out.Stacks?.[0];
  } catch (err) {
    if (err instanceof Error && err.name === 'ValidationError' && err.message === `Stack with id ${name} does not exist`) {
      return undefined;
    }
    throw err;
  }
}

/** The value of output `key` of a stack, if it has one. */
export function stackOutput(stack: Stack | undefined, key: string): string | undefined {
  return stack?.Outputs?.find((o) => o.OutputKey === key)?.OutputValue;
}

/** Every parameter under `path` (recursive, all pages). */
export async function parametersUnder(ssm: SSMClient, path: string): Promise<Parameter[]> {
  const out: Parameter[] = [];
  for await (const page of paginateGetParametersByPath({ client: ssm }, { Path: path, Recursive: true })) {
    out.push(...(page.Parameters ?? []));
  }
  return out;
}

/**
 * The facts environment `env` published, or undefined when it published none (never
 * deployed, being created, or deleted).
 */
export async function readEnvFacts(ssm: SSMClient, env: string): Promise<EnvFactsResult | undefined> {
  return factsOf(env, await parametersUnder(ssm, parameterPrefix(env)));
}

/**
 * The facts of `env`, for a run: one GetParameters call (7 names, at most 10 allowed).
 * @throws UsageError when the environment has no parameters (not deployed, or another region)
 *   or malformed ones
 */
export async function requireEnvFacts(ssm: SSMClient, env: string): Promise<EnvFacts> {
  const out = await ssm.send(new GetParametersCommand({ Names: Object.values(parameterNames(env)) }));
  const result = factsOf(env, out.Parameters ?? []);
  if (result === undefined) {
    throw new UsageError(
      `environment "${env}" was not found: no SSM parameters under ${parameterPrefix(env)} in this region ` +
        `(deploy it first, or check the region)`,
    );
  }
  if (!result.ok) {
    const [first, ...rest] = result.problems;
    const more = rest.length > 0 ? ` (and ${rest.length} more)` : '';
    throw new UsageError(`environment "${env}" is incomplete: ${first}${more}; deploy it again`, [...result.problems]);
  }
  return result.facts;
}

/** What `env`'s parameters say, or undefined when it has none. */
function factsOf(env: string, parameters: readonly Parameter[]): EnvFactsResult | undefined {
  if (parameters.length === 0) return undefined;
  return envFactsFromParameters(env, parameters);
}

/** Auto-scaling groups by name, with their instances (names the API does not know are absent). */
export async function describeGroups(
  autoScaling: AutoScalingClient,
  names: readonly string[],
): Promise<Map<string, { readonly inService: number; readonly instances: number; readonly desired: number }>> {
  const groups = new Map<string, { inService: number; instances: number; desired: number }>();
  // DescribeAutoScalingGroups takes up to 100 names per call and pages its answer.
  for (let i = 0; i < names.length; i += 100) {
    let token: string | undefined;
    do {
      const out = await autoScaling.send(
        new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names.slice(i, i + 100), NextToken: token }),
      );
      for (const g of out.AutoScalingGroups ?? []) {
        if (!g.AutoScalingGroupName) continue;
        const instances = g.Instances ?? [];
        groups.set(g.AutoScalingGroupName, {
          inService: instances.filter((x) => x.LifecycleState === 'InService').length,
          instances: instances.length,
          desired: g.DesiredCapacity ?? 0,
        });
      }
      token = out.NextToken;
    } while (token);
  }
  return groups;
}

/** One environment as `loadfarm envs` shows it. */
export interface EnvListing {
  readonly env: string;
  /** CloudFormation stack status, or undefined when only parameters were found. */
  readonly stackStatus?: string;
  readonly workers?: number;
  readonly inService?: number;
  readonly instanceType?: string;
  readonly spot?: boolean;
  readonly expiresAt?: string;
  readonly bucket?: string;
  /** Why the facts could not be read, when they could not. */
  readonly problems?: readonly string[];
}

/**
 * Every environment in the clients' region: stacks named `loadfarm-*` (not deleted) and
 * environments with parameters under `/loadfarm/`, joined by name, sorted by name.
 */
export async function listEnvironments(clients: {
  readonly cloudFormation: CloudFormationClient;
  readonly ssm: SSMClient;
  readonly autoScaling: AutoScalingClient;
}): Promise<EnvListing[]> {
  const stacks = new Map<string, Stack>();
  for await (const page of paginateDescribeStacks({ client: clients.cloudFormation }, {})) {
    for (const stack of page.Stacks ?? []) {
      const env = stack.StackName ? envNameFromStackName(stack.StackName) : undefined;
      if (env !== undefined && stack.StackStatus !== 'DELETE_COMPLETE') stacks.set(env, stack);
    }
  }
  const byEnv = new Map<string, Parameter[]>();
  for (const p of await parametersUnder(clients.ssm, '/loadfarm/')) {
    const env = p.Name?.split('/')[2];
    if (env) (byEnv.get(env) ?? byEnv.set(env, []).get(env)!).push(p);
  }
  const names = [...new Set([...stacks.keys(), ...byEnv.keys()])].sort();
  const facts = new Map(names.map((env) => [env, envFactsFromParameters(env, byEnv.get(env) ?? [])] as const));
  const asgs = [...facts.values()].flatMap((f) => (f.ok ? [f.facts.asg] : []));
  const groups = asgs.length > 0 ? await describeGroups(clients.autoScaling, asgs) : new Map();
  return names.map((env): EnvListing => {
    const stackStatus = stacks.get(env)?.StackStatus;
    const f = facts.get(env)!;
    if (!f.ok) return { env, stackStatus, problems: byEnv.has(env) ? f.problems : undefined };
    const group = groups.get(f.facts.asg);
    return {
      env,
      stackStatus,
      workers: f.facts.workers,
      inService: group?.inService,
      instanceType: f.facts.instanceType,
      spot: f.facts.spot,
      expiresAt: f.facts.expiresAt,
      bucket: f.facts.bucket,
    };
  });
}
