import { CfnResource, CustomResourceProviderBase, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface FunctionLogsProps {
  /**
   * How long function logs are kept.
   * @default logs.RetentionDays.ONE_WEEK
   */
  readonly retention?: logs.RetentionDays;
}

/**
 * Gives every Lambda function of the stack (the CDK's own custom resource providers included,
 * such as the one that empties the results bucket on delete) a log group that belongs to the
 * stack, so that `down` removes it and it carries the stack's tags. Without this, Lambda creates
 * `/aws/lambda/<function>` on first use, outside the stack, untagged, and it outlives the
 * environment.
 *
 * For each function: a LogGroup (removal policy destroy), the function's `LoggingConfig`
 * pointed at it, and, for the CDK's providers, a role that may write to that group only (the
 * AWSLambdaBasicExecutionRole managed policy, which can create log groups anywhere, is
 * removed). Custom resources depend on the log groups, so on delete they run (and log) before
 * the groups go.
 *
 * Call it last in the stack's constructor: it sees the functions that exist then.
 */
export class FunctionLogs extends Construct {
  readonly logGroups: readonly logs.ILogGroup[];

  constructor(scope: Construct, id: string, props: FunctionLogsProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    const resources = stack.node.findAll().filter((c): c is CfnResource => CfnResource.isCfnResource(c));
    const functions = resources.filter((r) => r.cfnResourceType === 'AWS::Lambda::Function');
    const groups: logs.LogGroup[] = [];
    functions.forEach((fn, i) => {
      const group = new logs.LogGroup(this, `Group${i === 0 ? '' : i + 1}`, {
        retention: props.retention ?? logs.RetentionDays.ONE_WEEK,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      groups.push(group);
      fn.addPropertyOverride('LoggingConfig', { LogGroup: group.logGroupName, LogFormat: 'Text' });
      fn.node.addDependency(group);
      const provider = fn.node.scope;
      if (provider instanceof CustomResourceProviderBase) {
        const role = provider.node.tryFindChild('Role');
        if (CfnResource.isCfnResource(role)) role.addPropertyDeletionOverride('ManagedPolicyArns');
        provider.addToRolePolicy({
          Effect: 'Allow',
          Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
          Resource: group.logGroupArn,
        });
      }
    });
    for (const r of resources) {
      const custom = r.cfnResourceType.startsWith('Custom::') || r.cfnResourceType === 'AWS::CloudFormation::CustomResource';
      if (custom) for (const group of groups) r.node.addDependency(group);
    }
    this.logGroups = groups;
  }
}
