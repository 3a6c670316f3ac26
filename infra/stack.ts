import { CfnOutput, Stack, type StackProps, Tags } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Construct } from 'constructs';
import { selfDeleteAt } from './config';
import { Discovery } from './discovery';
import { FunctionLogs } from './function-logs';
import { ENV_TAG, EXPIRES_AT_TAG, checkEnvName } from './names';
import { Network } from './network';
import { ResultsBucket } from './results-bucket';
import { SelfDelete } from './self-delete';
import { WorkerFleet } from './worker-fleet';

export interface LoadfarmStackProps extends StackProps {
  /** Environment name (`loadfarm:env` tag, `/loadfarm/<envName>/` parameters). */
  readonly envName: string;

  /** Number of worker machines. */
  readonly workers: number;

  /**
   * Machine type of the workers.
   * @default c7i.large
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Run workers on Spot capacity.
   * @default false
   */
  readonly spot?: boolean;

  /**
   * ISO 8601 time at which the workers scale to zero (rounded up to the minute); the stack
   * deletes itself SELF_DELETE_GRACE_MINUTES later (`./config.ts`). Computed and capped by the
   * caller (`infra/app.ts` through `parseContext`: now + ttlHours, at most 168 h ahead) so that
   * synth is deterministic.
   */
  readonly expiresAt: string;

  /**
   * IPv4 range of the VPC.
   * @default '10.64.0.0/16'
   */
  readonly vpcCidr?: string;

  /**
   * Most availability zones to use.
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * Workers in private subnets behind NAT, with SSM interface endpoints.
   * @default false - public subnets, load leaves through the internet gateway
   */
  readonly privateWorkers?: boolean;

  /**
   * Keep the results: the bucket stays when the environment is destroyed, and its objects
   * never expire.
   * @default false
   */
  readonly keepResults?: boolean;

  /**
   * Days results are kept in a bucket that is not kept (an error with `keepResults`).
   * @default 30
   */
  readonly resultsExpirationDays?: number;

  /**
   * The worker bundle file.
   * @default 'dist/worker.js'
   */
  readonly workerBundlePath?: string;
}

/** Keys of the workers' snapshots (`worker/store/layout.ts`): created once, never replaced. */
export const SNAPSHOT_KEYS = 'runs/*/workers/*/snapshots/*';

/** One loadfarm environment: network, results bucket, worker fleet and its published facts. */
export class LoadfarmStack extends Stack {
  readonly network: Network;
  readonly results: ResultsBucket;
  readonly fleet: WorkerFleet;
  readonly discovery: Discovery;
  readonly selfDelete: SelfDelete;
  readonly functionLogs: FunctionLogs;

  constructor(scope: Construct, id: string, props: LoadfarmStackProps) {
    super(scope, id, {
      description: `loadfarm environment ${props.envName}: load-test workers and their results store`,
      ...props,
    });
    const envProblem = checkEnvName(props.envName);
    if (envProblem) throw new Error(`LoadfarmStack envName: ${envProblem}`);
    const instanceType = props.instanceType ?? new ec2.InstanceType('c7i.large');
    const spot = props.spot ?? false;

    this.network = new Network(this, 'Network', {
      vpcCidr: props.vpcCidr,
      maxAzs: props.maxAzs,
      privateWorkers: props.privateWorkers,
    });
    this.results = new ResultsBucket(this, 'Results', {
      keepResults: props.keepResults,
      expirationDays: props.resultsExpirationDays,
      // Snapshots are written once (If-None-Match) and never replaced, whoever holds the role.
      createOnlyKeys: [SNAPSHOT_KEYS],
    });
    this.fleet = new WorkerFleet(this, 'Workers', {
      vpc: this.network.vpc,
      vpcSubnets: this.network.workerSubnets,
      securityGroup: this.network.workerSecurityGroup,
      resultsBucket: this.results.bucket,
      workers: props.workers,
      instanceType,
      spot,
      expiresAt: props.expiresAt,
      workerBundlePath: props.workerBundlePath,
    });
    const expiresAt = this.fleet.expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z');
    const deletesAt = selfDeleteAt(expiresAt);
    this.discovery = new Discovery(this, 'Discovery', {
      envName: props.envName,
      resultsBucket: this.results.bucket,
      autoScalingGroup: this.fleet.autoScalingGroup,
      workers: props.workers,
      instanceType,
      spot,
      expiresAt,
      keepResults: props.keepResults ?? false,
      deletesAt,
    });
    this.selfDelete = new SelfDelete(this, 'SelfDelete', { at: deletesAt });

    Tags.of(this).add(ENV_TAG, props.envName);
    // Not on the launch template: a new value there would make a new template version and
    // replace every worker on each deploy. Instances get it from the group at launch.
    Tags.of(this).add(EXPIRES_AT_TAG, expiresAt, { excludeResourceTypes: ['AWS::EC2::LaunchTemplate'] });

    new CfnOutput(this, 'BucketName', { value: this.results.bucket.bucketName });
    new CfnOutput(this, 'AutoScalingGroupName', { value: this.fleet.autoScalingGroup.autoScalingGroupName });
    new CfnOutput(this, 'ExpiresAt', { value: expiresAt });
    new CfnOutput(this, 'DeletesAt', { value: deletesAt });

    // Last: it gives a stack-owned log group to every function that exists by now.
    this.functionLogs = new FunctionLogs(this, 'FunctionLogs');
  }
}
