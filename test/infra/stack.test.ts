/**
 * The default environment (public subnets, on-demand workers), synthesized once with
 * cdk-nag's AWS Solutions checks.
 */
import { CfnResource, TagManager } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import type { CfnBucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ENV_TAG, EXPIRES_AT_TAG, WORKER_PATHS, parameterNames } from '../../infra/names';
import {
  EXPIRES_AT, REGION, type Synthesized, acknowledgements, asArray, cleanup, policyStatements, synthLoadfarm,
  userDataScript,
} from './helpers';

let s: Synthesized;
let bucketId: string;
beforeAll(() => {
  s = synthLoadfarm();
  bucketId = s.stack.getLogicalId(s.stack.results.bucket.node.defaultChild as CfnBucket);
});
afterAll(() => cleanup(s));

const bucketArn = () => ({ 'Fn::GetAtt': [bucketId, 'Arn'] });
const bucketObjects = (suffix: string) => ({ 'Fn::Join': ['', [bucketArn(), suffix]] });

describe('compliance (cdk-nag AwsSolutions)', () => {
  test('no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks().validateScope(s.stack);
    expect(report.violations).toEqual([]);
    expect(report.success).toBe(true);
  });

  test('every acknowledgement has a reason, and S2, S10, EC23, EC26 are never acknowledged', () => {
    const acks = acknowledgements(s.app);
    expect(acks.length).toBeGreaterThan(0);
    for (const ack of acks) {
      expect(ack.reason.trim().length).toBeGreaterThanOrEqual(30);
      expect(ack.id).not.toMatch(/AwsSolutions-(S2|S10|EC23|EC26)(?![0-9])/);
    }
  });

  test('the cdk-nag acknowledgements are exactly these', () => {
    const ids = acknowledgements(s.app).filter((a) => a.id.includes('AwsSolutions')).map((a) => `${a.path.replace(/^loadfarm-test\//, '')} ${a.id}`).sort();
    expect(ids).toEqual([
      'Results/Bucket AwsSolutions-S1',
      'Workers/Group AwsSolutions-AS3',
      `Workers/Role/DefaultPolicy AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*/workers/*]`,
      'Workers/Role/DefaultPolicy AwsSolutions-IAM5[Resource::*]',
      'Workers/Role/DefaultPolicy AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
      `Workers/Role/DefaultPolicy AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/runs/*]`,
    ].sort());
  });
});

describe('network', () => {
  test('a dedicated VPC with public subnets only, no NAT, and an internet gateway', () => {
    s.template.resourceCountIs('AWS::EC2::VPC', 1);
    s.template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.64.0.0/16' });
    s.template.resourceCountIs('AWS::EC2::NatGateway', 0);
    s.template.resourceCountIs('AWS::EC2::InternetGateway', 1);
    const subnets = Object.values(s.template.findResources('AWS::EC2::Subnet'));
    expect(subnets).toHaveLength(2);
    for (const subnet of subnets) expect(subnet.Properties.MapPublicIpOnLaunch).toBe(true);
    const azs = subnets.map((x) => x.Properties.AvailabilityZone).sort();
    expect(azs).toEqual(['us-east-1a', 'us-east-1b']);
  });

  test('an S3 gateway endpoint on the route tables', () => {
    s.template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
      RouteTableIds: Match.anyValue(),
    });
    s.template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
  });

  test('a flow log of rejected traffic', () => {
    s.template.hasResourceProperties('AWS::EC2::FlowLog', {
      ResourceType: 'VPC',
      TrafficType: 'REJECT',
      LogDestinationType: 'cloud-watch-logs',
    });
  });

  test('the workers security group has no ingress and allows all outbound', () => {
    const sgs = s.template.findResources('AWS::EC2::SecurityGroup');
    expect(Object.keys(sgs)).toHaveLength(1);
    const [sgId, sg] = Object.entries(sgs)[0];
    expect(sg.Properties.SecurityGroupIngress).toBeUndefined();
    expect(sg.Properties.SecurityGroupEgress).toEqual([
      expect.objectContaining({ CidrIp: '0.0.0.0/0', IpProtocol: '-1' }),
    ]);
    const ingressOnSg = Object.values(s.template.findResources('AWS::EC2::SecurityGroupIngress'))
      .filter((r) => JSON.stringify(r.Properties.GroupId).includes(sgId));
    expect(ingressOnSg).toEqual([]);
  });
});

describe('results bucket', () => {
  test('blocks public access, encrypts, expires objects after 30 days', () => {
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true,
      },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([Match.objectLike({ Status: 'Enabled', ExpirationInDays: 30 })]),
      },
    });
  });

  test('the bucket policy denies requests without TLS', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            Resource: [bucketArn(), bucketObjects('/*')],
          }),
        ]),
      },
    });
  });

  test('snapshots can only be created: any PutObject there without If-None-Match is denied, whoever sends it', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Sid: 'CreateOnly',
          Effect: 'Deny',
          Principal: { AWS: '*' },
          Action: 's3:PutObject',
          Resource: bucketObjects('/runs/*/workers/*/snapshots/*'),
          Condition: { Null: { 's3:if-none-match': 'true' } },
        }]),
      },
    });
  });

  test('is destroyed with its objects by default', () => {
    s.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 1);
  });
});

describe('worker fleet', () => {
  test('launch template: IMDSv2 required, encrypted gp3 root, AL2023 from the SSM public parameter', () => {
    s.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{
          DeviceName: '/dev/xvda',
          Ebs: { Encrypted: true, VolumeType: 'gp3', VolumeSize: 16, DeleteOnTermination: true },
        }],
        InstanceType: 'c7i.large',
        ImageId: { Ref: Match.stringLikeRegexp('al2023') },
      }),
    });
    const params = s.template.toJSON().Parameters as Record<string, { Default?: string }>;
    expect(Object.values(params).map((p) => p.Default)).toContain(
      '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-x86_64',
    );
  });

  test('every block device of every launch template is encrypted', () => {
    for (const lt of Object.values(s.template.findResources('AWS::EC2::LaunchTemplate'))) {
      const devices = lt.Properties.LaunchTemplateData.BlockDeviceMappings as Array<{ Ebs?: { Encrypted?: boolean } }>;
      expect(devices.length).toBeGreaterThan(0);
      for (const d of devices) expect(d.Ebs?.Encrypted).toBe(true);
    }
    s.template.resourceCountIs('AWS::EC2::Volume', 0);
  });

  test('group: min = max = workers, no desired capacity, waits for every worker to signal', () => {
    const groups = Object.values(s.template.findResources('AWS::AutoScaling::AutoScalingGroup'));
    expect(groups).toHaveLength(1);
    const g = groups[0];
    expect(g.Properties).toMatchObject({ MinSize: '3', MaxSize: '3' });
    expect(g.Properties.DesiredCapacity).toBeUndefined();
    expect(g.Properties.LaunchTemplate).toBeDefined();
    expect(g.Properties.MixedInstancesPolicy).toBeUndefined();
    expect(g.CreationPolicy).toEqual({ ResourceSignal: { Count: 3, Timeout: 'PT15M' } });
    expect(g.UpdatePolicy.AutoScalingScheduledAction).toEqual({ IgnoreUnmodifiedGroupSizeProperties: false });
    expect(g.UpdatePolicy.AutoScalingRollingUpdate).toMatchObject({ MaxBatchSize: 3, MinInstancesInService: 0 });
  });

  test('time to live: one scheduled action scales to zero at the expiry minute (UTC)', () => {
    s.template.resourceCountIs('AWS::AutoScaling::ScheduledAction', 1);
    s.template.hasResourceProperties('AWS::AutoScaling::ScheduledAction', {
      MinSize: 0, MaxSize: 0, DesiredCapacity: 0,
      StartTime: EXPIRES_AT,
      Recurrence: '4 3 2 1 *',
      TimeZone: 'Etc/UTC',
    });
  });

  test('user data: Node 22, the worker bundle, kernel tuning, clock sync, ready marker', () => {
    const script = userDataScript(s.template);
    const lines = script.split('\n');
    expect(lines[0]).toBe('#!/bin/bash');
    expect(script).toContain('set -euxo pipefail');
    expect(script).toContain('dnf install -y --setopt=retries=5 nodejs22');
    expect(script).toContain('ln -sf /usr/bin/node-22 /usr/bin/node');
    expect(script).toContain('systemctl enable --now chronyd');
    for (const line of [
      'net.ipv4.ip_local_port_range = 1024 65535',
      'net.ipv4.tcp_tw_reuse = 1',
      'net.core.somaxconn = 65535',
      'net.ipv4.tcp_max_syn_backlog = 65535',
      'fs.file-max = 4194304',
      '* soft nofile 1048576',
      '* hard nofile 1048576',
    ]) {
      expect(lines).toContain(line);
    }
    expect(script).toContain('DefaultLimitNOFILE=1048576');
    expect(script).toContain('LimitNOFILE=1048576');
    expect(script).toMatch(/aws s3 cp 's3:\/\/.*cdk-hnb659fds-assets-.*\.js' '\/opt\/loadfarm\/worker\.js' --region us-east-1/);
    expect(script).toContain(`touch ${WORKER_PATHS.ready}`);
    expect(script).toMatch(/cfn-signal --stack loadfarm-test --resource WorkersGroupASG[0-9A-F]+ /);
    // Ready comes last: after the bundle is in place.
    expect(script.indexOf(WORKER_PATHS.ready)).toBeGreaterThan(script.indexOf(WORKER_PATHS.bundle));
  });

  test('the instance role has no managed policy; for SSM exactly what Run Command needs, nothing of Parameter Store', () => {
    const roles = s.template.findResources('AWS::IAM::Role', {
      Properties: { AssumeRolePolicyDocument: Match.objectLike({ Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] }) },
    });
    expect(Object.keys(roles)).toHaveLength(1);
    expect(Object.values(roles)[0].Properties.ManagedPolicyArns).toBeUndefined();

    const workerPolicyId = s.stack.getLogicalId(
      s.stack.fleet.role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource,
    );
    const statements = policyStatements(s.template).filter((st) => st.policy === workerPolicyId);
    const agentActions = statements.flatMap((st) => asArray(st.Action)).filter((a) => /^(ssm|ssmmessages|ec2messages):/.test(a)).sort();
    expect(agentActions).toEqual([
      'ec2messages:AcknowledgeMessage', 'ec2messages:DeleteMessage', 'ec2messages:FailMessage', 'ec2messages:GetEndpoint',
      'ec2messages:GetMessages', 'ec2messages:SendReply', 'ssm:UpdateInstanceInformation',
      'ssmmessages:CreateControlChannel', 'ssmmessages:OpenControlChannel',
    ]);
    const registration = statements.find((st) => asArray(st.Action).includes('ssm:UpdateInstanceInformation'))!;
    expect(registration.Resource).toEqual({
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ec2:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':instance/*']],
    });
  });

  test('no role of the stack may read SSM parameters on "*" or any parameter at all', () => {
    const managed = Object.values(s.template.findResources('AWS::IAM::Role')).flatMap((r) => asArray(r.Properties.ManagedPolicyArns));
    expect(JSON.stringify(managed)).not.toMatch(/AmazonSSMManagedInstanceCore|AmazonEC2RoleforSSM/);
    const inline = Object.values(s.template.findResources('AWS::IAM::Role'))
      .flatMap((r) => asArray(r.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }>))
      .flatMap((p) => p.PolicyDocument.Statement);
    for (const st of [...policyStatements(s.template), ...inline]) {
      for (const action of asArray(st.Action)) expect(action).not.toMatch(/^ssm:(GetParameter|\*)/i);
    }
  });

  test('S3 access: the exact bundle object, list/read runs/*, write runs/*/workers/* only', () => {
    const workerPolicyId = s.stack.getLogicalId(
      s.stack.fleet.role.node.findChild('DefaultPolicy').node.defaultChild as CfnResource,
    );
    const statements = policyStatements(s.template).filter((st) => st.policy === workerPolicyId);
    const bySid = Object.fromEntries(statements.filter((st) => st.Sid).map((st) => [st.Sid, st]));

    expect(bySid.ReadWorkerBundle.Action).toBe('s3:GetObject');
    const bundleArn = JSON.stringify(bySid.ReadWorkerBundle.Resource);
    expect(bundleArn).toMatch(/cdk-hnb659fds-assets-.*\/[0-9a-f]{64}\.js"/);
    expect(bundleArn).not.toContain('*');

    expect(bySid.ListRuns).toMatchObject({
      Action: 's3:ListBucket', Resource: bucketArn(), Condition: { StringLike: { 's3:prefix': ['runs/*'] } },
    });
    expect(bySid.ReadRuns).toMatchObject({ Action: 's3:GetObject', Resource: bucketObjects('/runs/*') });
    expect(bySid.WriteWorkerResults).toMatchObject({
      Action: ['s3:PutObject', 's3:AbortMultipartUpload'], Resource: bucketObjects('/runs/*/workers/*'),
    });

    const s3Statements = statements.filter((st) => asArray(st.Action).some((a) => a.startsWith('s3:')));
    expect(s3Statements.map((st) => st.Sid).sort()).toEqual(['ListRuns', 'ReadRuns', 'ReadWorkerBundle', 'WriteWorkerResults']);
    for (const st of statements) {
      expect(asArray(st.Action).some((a) => /^s3:(\*|Delete|PutBucket|PutObjectAcl)/.test(a))).toBe(false);
    }
  });

  test('no policy grants s3:* or ssm:* actions on Resource "*"', () => {
    for (const st of policyStatements(s.template)) {
      const touchesS3OrSsm = asArray(st.Action).some((a) => /^(s3|ssm):/.test(a));
      if (!touchesS3OrSsm) continue;
      expect(asArray(st.Resource)).not.toContain('*');
    }
  });
});

describe('self-deletion at expiry + grace', () => {
  test('a one-time schedule calls CloudFormation DeleteStack on this stack an hour after the expiry', () => {
    s.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
    const [schedule] = Object.values(s.template.findResources('AWS::Scheduler::Schedule'));
    expect(schedule.Properties).toMatchObject({
      ScheduleExpression: 'at(2030-01-02T04:04:00)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':scheduler:::aws-sdk:cloudformation:deleteStack']] },
        Input: JSON.stringify({ StackName: 'loadfarm-test' }),
      },
    });
    expect(schedule.Properties.ActionAfterCompletion ?? 'NONE').toBe('NONE');
  });

  test("the schedule's role may only delete this very stack, and only the scheduler of this account may assume it", () => {
    const [schedule] = Object.values(s.template.findResources('AWS::Scheduler::Schedule'));
    const roleId = schedule.Properties.Target.RoleArn['Fn::GetAtt'][0] as string;
    const role = s.template.findResources('AWS::IAM::Role')[roleId];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{
      Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
    }]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    expect(role.Properties.Policies).toBeUndefined();
    const statements = policyStatements(s.template).filter((st) => JSON.stringify(s.template.findResources('AWS::IAM::Policy')[st.policy].Properties.Roles).includes(roleId));
    expect(statements.map(({ policy, ...st }) => st)).toEqual([
      { Sid: 'DeleteThisStackOnly', Effect: 'Allow', Action: 'cloudformation:DeleteStack', Resource: { Ref: 'AWS::StackId' } },
    ]);
  });

  test('the stack outputs and publishes when it deletes itself', () => {
    expect(s.template.toJSON().Outputs.DeletesAt.Value).toBe('2030-01-02T04:04:00Z');
  });
});

describe('teardown leaves nothing behind', () => {
  test('every Lambda function logs to a log group of the stack, destroyed with it', () => {
    const functions = s.template.findResources('AWS::Lambda::Function');
    expect(Object.keys(functions).length).toBeGreaterThan(0);
    const groups = s.template.findResources('AWS::Logs::LogGroup');
    for (const fn of Object.values(functions)) {
      const ref = fn.Properties.LoggingConfig?.LogGroup as { Ref?: string } | undefined;
      expect(ref?.Ref).toBeDefined();
      expect(groups[ref!.Ref!]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
      expect(groups[ref!.Ref!].Properties.Tags).toEqual(expect.arrayContaining([{ Key: ENV_TAG, Value: 'test' }]));
    }
  });

  test('no role can create a log group (which would appear outside the stack), nor holds AWSLambdaBasicExecutionRole', () => {
    const roles = Object.values(s.template.findResources('AWS::IAM::Role'));
    expect(JSON.stringify(roles.map((r) => r.Properties.ManagedPolicyArns ?? []))).not.toContain('AWSLambdaBasicExecutionRole');
    const inline = roles
      .flatMap((r) => asArray(r.Properties.Policies as Array<{ PolicyDocument: { Statement: Array<{ Action: string | string[] }> } }>))
      .flatMap((p) => p.PolicyDocument.Statement);
    for (const st of [...policyStatements(s.template), ...inline]) {
      for (const action of asArray(st.Action)) expect(action).not.toMatch(/^logs:(CreateLogGroup|\*)$/);
    }
  });

  test('the custom resource that empties the bucket goes before the log group it writes to', () => {
    const [custom] = Object.values(s.template.findResources('Custom::S3AutoDeleteObjects'));
    const groupIds = Object.keys(s.template.findResources('AWS::Logs::LogGroup'));
    const fnGroup = Object.values(s.template.findResources('AWS::Lambda::Function'))[0].Properties.LoggingConfig.LogGroup.Ref;
    expect(groupIds).toContain(fnGroup);
    expect(custom.DependsOn).toContain(fnGroup);
  });
});

describe('discovery', () => {
  test('publishes the facts as SSM String parameters under /loadfarm/<env>/', () => {
    const names = parameterNames('test');
    const asgId = s.stack.getLogicalId(s.stack.fleet.autoScalingGroup.node.defaultChild as CfnResource);
    const expected: Record<string, unknown> = {
      [names.bucket]: { Ref: bucketId },
      [names.asg]: { Ref: asgId },
      [names.region]: REGION,
      [names.workers]: '3',
      [names['expires-at']]: EXPIRES_AT,
      [names['instance-type']]: 'c7i.large',
      [names.spot]: 'false',
      '/loadfarm/test/keep-results': 'false',
      '/loadfarm/test/deletes-at': '2030-01-02T04:04:00Z',
    };
    const params = Object.values(s.template.findResources('AWS::SSM::Parameter'));
    const actual = Object.fromEntries(params.map((p) => [p.Properties.Name, p.Properties.Value]));
    expect(actual).toEqual(expected);
    for (const p of params) expect(p.Properties.Type).toBe('String');
  });

  test('every taggable resource carries loadfarm:env and loadfarm:expires-at', () => {
    let checked = 0;
    for (const c of s.stack.node.findAll()) {
      if (!CfnResource.isCfnResource(c) || !TagManager.isTaggable(c)) continue;
      const tags = c.tags.tagValues();
      expect({ path: c.node.path, env: tags[ENV_TAG] }).toEqual({ path: c.node.path, env: 'test' });
      if (c.cfnResourceType !== 'AWS::EC2::LaunchTemplate') {
        expect({ path: c.node.path, expiresAt: tags[EXPIRES_AT_TAG] }).toEqual({ path: c.node.path, expiresAt: EXPIRES_AT });
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(15);
  });

  test('instances get both tags from the group at launch; volumes get the env tag', () => {
    s.template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      Tags: Match.arrayWith([
        { Key: ENV_TAG, Value: 'test', PropagateAtLaunch: true },
        { Key: EXPIRES_AT_TAG, Value: EXPIRES_AT, PropagateAtLaunch: true },
      ]),
    });
    s.template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        TagSpecifications: Match.arrayWith([
          { ResourceType: 'volume', Tags: Match.arrayWith([{ Key: ENV_TAG, Value: 'test' }]) },
        ]),
      }),
    });
  });
});
