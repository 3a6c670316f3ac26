import type { Clock } from '../../../cli/aws/poll';
import type { Output } from '../../../cli/aws/output';

// The SDK warns on Node 20 about future releases (see TOOLCHAIN.md); the tests build clients.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** A clock that moves only when slept on: waits take no time. */
export function fakeClock(startIso = '2030-01-01T12:00:00Z'): Clock & { slept: number[] } {
  let t = Date.parse(startIso);
  const slept: number[] = [];
  return {
    slept,
    now: () => t,
    sleep: async (ms: number) => {
      slept.push(ms);
      t += ms;
    },
  };
}

/** Output that keeps its lines. */
export function captureOutput(): Output & { lines: string[]; problems: string[]; text(): string } {
  const lines: string[] = [];
  const problems: string[] = [];
  return {
    lines,
    problems,
    info: (line) => lines.push(line),
    problem: (line) => problems.push(line),
    text: () => [...lines, ...problems.map((p) => `loadfarm: ${p}`)].join('\n'),
  };
}

/** The error CloudFormation answers DescribeStacks with for a stack that does not exist. */
export function noSuchStack(name: string): Error {
  return Object.assign(new Error(`Stack with id ${name} does not exist`), { name: 'ValidationError' });
}

/** An error as the SDK raises it for the service error code `name`. */
export function awsError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name });
}

/** SSM parameters an environment publishes (see infra/discovery.ts). */
export function factParameters(env: string, facts: Partial<Record<string, string>> = {}) {
  const values: Record<string, string> = {
    bucket: `loadfarm-${env}-results-abc123`,
    asg: `loadfarm-${env}-WorkersGroup-XYZ`,
    region: 'eu-west-1',
    workers: '3',
    'expires-at': '2030-01-01T16:00:00Z',
    'instance-type': 'c7i.large',
    spot: 'false',
    ...facts,
  };
  return Object.entries(values).map(([key, value]) => ({ Name: `/loadfarm/${env}/${key}`, Value: value, Type: 'String' as const }));
}
