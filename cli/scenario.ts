import * as api from '../worker/index';
import { evaluateScenario, scenarioFrom } from '../worker/scenario/load';
import { targetProblem } from '../worker/scenario/validate';
import type { Scenario } from '../worker/scenario/types';
import { bundleScenario } from './bundle';
import { UsageError } from './errors';

export interface PreparedScenario {
  code: string;
  path: string;
  scenario: Scenario;
  target: string;
}

/**
 * Bundles, evaluates and validates a scenario file, and settles its target (`--target` wins).
 * Every problem is reported at once as a UsageError, before anything is launched.
 */
export async function prepareScenario(file: string, targetOverride?: string): Promise<PreparedScenario> {
  const { code, path } = await bundleScenario(file);
  let value: unknown;
  try {
    value = evaluateScenario(code, path, api);
  } catch (err) {
    throw new UsageError(`scenario ${file} throws while loading: ${(err as Error).message}`);
  }
  const loaded = scenarioFrom(value);
  const problems = 'problems' in loaded ? loaded.problems : [];
  const target = targetOverride ?? ('scenario' in loaded ? loaded.scenario.target : (value as { target?: string })?.target);
  if (target === undefined) problems.push('target: none given: set target in the scenario or pass --target URL');
  else if (targetOverride !== undefined) {
    const problem = targetProblem(targetOverride);
    if (problem) problems.push(`--target: expected ${problem}, got ${JSON.stringify(targetOverride)}`);
  }
  if (problems.length > 0 || !('scenario' in loaded)) {
    throw new UsageError(`scenario ${file} is not valid: ${problems[0]}`, problems.slice(1));
  }
  return { code, path, scenario: loaded.scenario, target: target! };
}
