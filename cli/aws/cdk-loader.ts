/**
 * What only deploying needs: the AWS CDK, cdk-nag, the CDK toolkit library and tsx (which runs
 * the CDK app of infra/, cdk.json's `npx tsx infra/app.ts`). They are optional peer dependencies:
 * a person who runs only the local farm does not install them, and only `loadfarm up` asks for them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from '../errors';
import { packageRoot } from '../paths';

/** The optional peer dependencies `loadfarm up` needs, as package names. */
export const DEPLOY_PACKAGES = ['aws-cdk-lib', 'constructs', 'cdk-nag', '@aws-cdk/toolkit-lib', 'tsx'] as const;

/** The command that installs them into a person's project. */
export const DEPLOY_INSTALL_COMMAND = `npm i ${DEPLOY_PACKAGES.join(' ')}`;

/**
 * The packages of DEPLOY_PACKAGES that Node cannot find from `from` (default: the loadfarm
 * package's root): each is looked for in `node_modules/<name>/package.json` of `from` and of every
 * folder above it, as Node resolves a package name.
 */
export function missingDeployPackages(from: string = packageRoot()): string[] {
  const dirs: string[] = [];
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    dirs.push(dir);
    if (path.dirname(dir) === dir) break;
  }
  return DEPLOY_PACKAGES.filter((name) => !dirs.some((dir) => fs.existsSync(path.join(dir, 'node_modules', name, 'package.json'))));
}

/**
 * Checks, before anything is made, that the CDK can be loaded.
 * @throws UsageError naming what is missing and the command that installs it
 */
export function checkDeployPackages(from?: string): void {
  const missing = missingDeployPackages(from);
  if (missing.length === 0) return;
  throw new UsageError(`loadfarm up needs the AWS CDK, which is not installed (missing ${missing.join(', ')}): run \`${DEPLOY_INSTALL_COMMAND}\``);
}

/**
 * The CDK toolkit library, imported on first use (it and the CDK are hundreds of MB that the local
 * farm never loads).
 * @throws UsageError as checkDeployPackages when a deploy package is missing
 */
export async function loadToolkit(): Promise<typeof import('@aws-cdk/toolkit-lib')> {
  checkDeployPackages();
  return import('@aws-cdk/toolkit-lib');
}
