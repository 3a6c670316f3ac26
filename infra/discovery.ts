import { Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { type FactKey, type OptionalFactKey, allParameterNames } from './names';

export interface DiscoveryProps {
  /** Environment name: the parameters live under `/loadfarm/<envName>/`. */
  readonly envName: string;
  readonly resultsBucket: s3.IBucket;
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /** Number of worker machines. */
  readonly workers: number;
  readonly instanceType: ec2.InstanceType;
  readonly spot: boolean;
  /** ISO 8601 UTC time at which the workers scale to zero. */
  readonly expiresAt: string;
  /** The results are kept (published so that a later deploy keeps them unless told otherwise). */
  readonly keepResults: boolean;
  /** ISO 8601 UTC time at which the stack deletes itself. */
  readonly deletesAt: string;
}

/**
 * Publishes the environment's facts as SSM String parameters under `/loadfarm/<env>/`
 * (names in `./names.ts`), so the CLI finds everything from the environment's name.
 */
export class Discovery extends Construct {
  /** The parameters, by fact key. */
  readonly parameters: Readonly<Record<FactKey | OptionalFactKey, ssm.IStringParameter>>;

  constructor(scope: Construct, id: string, props: DiscoveryProps) {
    super(scope, id);
    const names = allParameterNames(props.envName);
    const values: Record<FactKey | OptionalFactKey, string> = {
      bucket: props.resultsBucket.bucketName,
      asg: props.autoScalingGroup.autoScalingGroupName,
      region: Stack.of(this).region,
      workers: String(props.workers),
      'expires-at': props.expiresAt,
      'instance-type': props.instanceType.toString(),
      spot: String(props.spot),
      'keep-results': String(props.keepResults),
      'deletes-at': props.deletesAt,
    };
    const parameters = {} as Record<FactKey | OptionalFactKey, ssm.IStringParameter>;
    for (const key of Object.keys(values) as Array<FactKey | OptionalFactKey>) {
      parameters[key] = new ssm.StringParameter(this, constructId(key), {
        parameterName: names[key],
        stringValue: values[key],
        description: `loadfarm environment ${props.envName}: ${key}`,
        tier: ssm.ParameterTier.STANDARD,
      });
    }
    this.parameters = parameters;
  }
}

/** `instance-type` → `InstanceType`. */
function constructId(key: string): string {
  return key.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('');
}
