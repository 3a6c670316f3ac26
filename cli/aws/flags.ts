/**
 * Checks of the flags the AWS commands share. Plain code with no SDK import, so that the
 * commands load the AWS SDK only when they run.
 */
import { checkEnvName } from '../../infra/names';
import type { Problems } from '../options';

const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

/** @returns a problem with `--region`, or undefined when it is absent or looks like `us-east-1` */
export function regionFlagProblem(region: string | undefined): string | undefined {
  if (region === undefined || REGION.test(region)) return undefined;
  return `--region: expected a region like us-east-1, got ${JSON.stringify(region)}`;
}

/** Adds the problems of `--env` and `--region` to `p`. */
export function checkEnvAndRegion(p: Problems, env: string, region: string | undefined): void {
  if (checkEnvName(env) !== undefined) {
    p.add('--env', '1-32 lowercase letters, digits or hyphens, starting with a letter and not ending with a hyphen', env);
  }
  const regionProblem = regionFlagProblem(region);
  if (regionProblem) p.list.push(regionProblem);
}

/** Whether a person can answer a question: stdin and stderr are terminals. */
export function interactive(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true;
}
