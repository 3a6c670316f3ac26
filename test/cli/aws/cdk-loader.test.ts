import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEPLOY_PACKAGES, checkDeployPackages, missingDeployPackages } from '../../../cli/aws/cdk-loader';
import { UsageError } from '../../../cli/errors';
import { ROOT, rmTemp, tempDir } from '../../helpers/cli';

/** Node's way of finding a package by name: node_modules of the folder and of every folder above. */
describe('the deploy packages (optional peer dependencies)', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('loadfarm-cdk-loader-')));
  afterEach(() => rmTemp(dir));

  function install(at: string, name: string): void {
    fs.mkdirSync(path.join(at, 'node_modules', name), { recursive: true });
    fs.writeFileSync(path.join(at, 'node_modules', name, 'package.json'), JSON.stringify({ name, version: '1.0.0' }));
  }

  it('are found in node_modules of the package or of any folder above it', () => {
    const pkg = path.join(dir, 'project', 'node_modules', 'loadfarm');
    fs.mkdirSync(pkg, { recursive: true });
    expect(missingDeployPackages(pkg)).toEqual([...DEPLOY_PACKAGES]);
    install(path.join(dir, 'project'), 'aws-cdk-lib');
    install(path.join(dir, 'project'), '@aws-cdk/toolkit-lib');
    install(dir, 'tsx');
    install(pkg, 'constructs');
    expect(missingDeployPackages(pkg)).toEqual(['cdk-nag']);
    // A folder named like the package is not the package.
    fs.mkdirSync(path.join(dir, 'project', 'node_modules', 'cdk-nag'));
    expect(missingDeployPackages(pkg)).toEqual(['cdk-nag']);
    install(path.join(dir, 'project'), 'cdk-nag');
    expect(missingDeployPackages(pkg)).toEqual([]);
  });

  it('missing, `up` stops with one line naming them and the command that installs them', () => {
    install(dir, 'constructs');
    let thrown: unknown;
    try {
      checkDeployPackages(dir);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(UsageError);
    expect((thrown as UsageError).message).toBe(
      'loadfarm up needs the AWS CDK, which is not installed (missing aws-cdk-lib, cdk-nag, @aws-cdk/toolkit-lib, tsx): run `npm i aws-cdk-lib constructs cdk-nag @aws-cdk/toolkit-lib tsx`',
    );
  });

  it('this repository has them all (devDependencies)', () => {
    expect(missingDeployPackages(ROOT)).toEqual([]);
    expect(() => checkDeployPackages()).not.toThrow();
  });
});
