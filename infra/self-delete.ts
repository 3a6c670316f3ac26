import { Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { Construct } from 'constructs';

export interface SelfDeleteProps {
  /**
   * When the stack deletes itself: ISO 8601 UTC, whole minutes or seconds. Must be in the
   * future when deployed (EventBridge Scheduler never fires a one-time schedule in the past).
   */
  readonly at: string;
}

/**
 * A one-time EventBridge Scheduler schedule that calls CloudFormation DeleteStack on the
 * stack it belongs to, so that an environment nobody tears down stops billing by itself.
 *
 * Its role may do exactly one thing: `cloudformation:DeleteStack` on this stack's own id.
 * CloudFormation then deletes the resources with the stack's service role (the CDK
 * bootstrap's `cfn-exec` role, which `cdk deploy` and `loadfarm up` associate with the
 * stack), which a caller with permission on the stack may use without `iam:PassRole`. A stack
 * deployed without a service role would be deleted with this role's rights and fail:
 * `loadfarm envs` shows it as DELETE_FAILED and `loadfarm down` finishes the job.
 *
 * Deploying again moves the schedule; deleting the stack first (loadfarm down) deletes it.
 */
export class SelfDelete extends Construct {
  readonly schedule: scheduler.CfnSchedule;
  readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: SelfDeleteProps) {
    super(scope, id);
    const time = Date.parse(props.at);
    if (!/^\d{4}-\d{2}-\d{2}T/.test(props.at) || Number.isNaN(time)) {
      throw new Error(`SelfDelete at must be an ISO 8601 time such as 2030-01-01T12:00:00Z; got ${JSON.stringify(props.at)}`);
    }
    const stack = Stack.of(this);

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
      description: `loadfarm: deletes stack ${stack.stackName} at its expiry (EventBridge Scheduler)`,
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'DeleteThisStackOnly',
      actions: ['cloudformation:DeleteStack'],
      resources: [Aws.STACK_ID],
    }));
    this.role = role;

    // at(yyyy-mm-ddThh:mm:ss) in the given time zone, without a zone suffix.
    const at = new Date(time).toISOString().slice(0, 19);
    this.schedule = new scheduler.CfnSchedule(this, 'Schedule', {
      description: `loadfarm: delete stack ${stack.stackName} (the environment expired)`,
      scheduleExpression: `at(${at})`,
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'OFF' },
      state: 'ENABLED',
      target: {
        arn: `arn:${Aws.PARTITION}:scheduler:::aws-sdk:cloudformation:deleteStack`,
        roleArn: role.roleArn,
        input: JSON.stringify({ StackName: stack.stackName }),
        // DeleteStack is refused while an update runs: keep trying for a day.
        retryPolicy: { maximumEventAgeInSeconds: 86_400, maximumRetryAttempts: 185 },
      },
    });
    // The schedule must not fire with a role that lacks its policy.
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) this.schedule.node.addDependency(policy);
  }
}
