/**
 * The other options: Spot on Graviton, private workers behind NAT with SSM endpoints,
 * kept results; and proof that cdk-nag really fails a non-compliant stack.
 */
import * as path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  type Synthesized, acknowledgements, cleanup, makeTempDir, synthLoadfarm,
} from './helpers';

let s: Synthesized;
beforeAll(() => {
  s = synthLoadfarm({
    envName: 'spotty',
    workers: 5,
    spot: true,
    instanceType: new ec2.InstanceType('c7g.xlarge'),
    privateWorkers: true,
    keepResults: true,
    vpcCidr: '10.99.0.0/20',
    maxAzs: 3,
  });
});
afterAll(() => cleanup(s));

test('passes cdk-nag with the same acknowledgements and never S2, S10, EC23, EC26', () => {
  expect(new AwsSolutionsChecks().validateScope(s.stack).violations).toEqual([]);
  const nag = acknowledgements(s.app).filter((a) => a.id.includes('AwsSolutions'));
  expect(nag.map((a) => a.id.replace(/<[^>]+\.Arn>/, '<bucket>')).sort()).toEqual([
    'AwsSolutions-AS3',
    'AwsSolutions-IAM5[Resource::*]',
    'AwsSolutions-IAM5[Resource::<bucket>/runs/*/workers/*]',
    'AwsSolutions-IAM5[Resource::<bucket>/runs/*]',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*]',
    'AwsSolutions-S1',
  ]);
  for (const a of acknowledgements(s.app)) expect(a.id).not.toMatch(/AwsSolutions-(S2|S10|EC23|EC26)(?![0-9])/);
});

test('spot: mixed instances policy, all Spot above a base of 0 on-demand, capacity rebalance', () => {
  const g = Object.values(s.template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
  expect(g.Properties).toMatchObject({
    MinSize: '5',
    MaxSize: '5',
    CapacityRebalance: true,
    MixedInstancesPolicy: {
      InstancesDistribution: {
        OnDemandBaseCapacity: 0,
        OnDemandPercentageAboveBaseCapacity: 0,
        SpotAllocationStrategy: 'price-capacity-optimized',
      },
      LaunchTemplate: { Overrides: [{ InstanceType: 'c7g.xlarge' }] },
    },
  });
  // CloudFormation accepts only one of LaunchTemplate and MixedInstancesPolicy.
  expect(g.Properties.LaunchTemplate).toBeUndefined();
  expect(g.Properties.DesiredCapacity).toBeUndefined();
});

test('the launch template of the mixed policy has encrypted volumes and IMDSv2', () => {
  const lts = s.template.findResources('AWS::EC2::LaunchTemplate');
  const [ltId, lt] = Object.entries(lts)[0];
  const g = Object.values(s.template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
  expect(g.Properties.MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId).toEqual({ Ref: ltId });
  expect(lt.Properties.LaunchTemplateData.MetadataOptions.HttpTokens).toBe('required');
  expect(lt.Properties.LaunchTemplateData.BlockDeviceMappings[0].Ebs.Encrypted).toBe(true);
});

test('Graviton types get the arm64 Amazon Linux 2023 image', () => {
  const params = s.template.toJSON().Parameters as Record<string, { Default?: string }>;
  expect(Object.values(params).map((p) => p.Default)).toContain(
    '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-6.1-arm64',
  );
});

test('private workers: NAT, private subnets in 3 zones, SSM interface endpoints open to the workers only', () => {
  s.template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.99.0.0/20' });
  s.template.resourceCountIs('AWS::EC2::NatGateway', 1);
  const subnets = Object.values(s.template.findResources('AWS::EC2::Subnet'));
  expect(subnets).toHaveLength(6);
  const privateSubnets = subnets.filter((x) => x.Properties.MapPublicIpOnLaunch === false);
  expect(privateSubnets.map((x) => x.Properties.AvailabilityZone).sort()).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);

  const endpoints = Object.values(s.template.findResources('AWS::EC2::VPCEndpoint'));
  const interfaces = endpoints.filter((e) => e.Properties.VpcEndpointType === 'Interface');
  expect(interfaces.map((e) => e.Properties.ServiceName).sort()).toEqual(
    ['com.amazonaws.us-east-1.ec2messages', 'com.amazonaws.us-east-1.ssm', 'com.amazonaws.us-east-1.ssmmessages'],
  );
  for (const e of interfaces) expect(e.Properties.PrivateDnsEnabled).toBe(true);
  expect(endpoints.filter((e) => e.Properties.VpcEndpointType === 'Gateway')).toHaveLength(1);

  const workerSgId = s.stack.getLogicalId(s.stack.network.workerSecurityGroup.node.defaultChild as ec2.CfnSecurityGroup);
  const ingress = Object.values(s.template.findResources('AWS::EC2::SecurityGroupIngress'));
  expect(ingress).toHaveLength(1);
  expect(ingress[0].Properties).toMatchObject({
    IpProtocol: 'tcp', FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [workerSgId, 'GroupId'] },
  });
  expect(JSON.stringify(ingress[0].Properties.GroupId)).not.toContain(workerSgId);
  const workerSg = s.template.findResources('AWS::EC2::SecurityGroup')[workerSgId];
  expect(workerSg.Properties.SecurityGroupIngress).toBeUndefined();
});

test('workers launch in the private subnets', () => {
  const g = Object.values(s.template.findResources('AWS::AutoScaling::AutoScalingGroup'))[0];
  const zone = JSON.stringify(g.Properties.VPCZoneIdentifier);
  expect(zone).toContain('Workers');
  expect(zone).not.toContain('Public');
});

test('keepResults: bucket retained, no auto-delete, and no object ever expires', () => {
  s.template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  s.template.resourceCountIs('Custom::S3AutoDeleteObjects', 0);
  s.template.hasResourceProperties('AWS::S3::Bucket', {
    LifecycleConfiguration: {
      Rules: [{ Id: 'abort-incomplete-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 } }],
    },
  });
  s.template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/loadfarm/spotty/keep-results', Value: 'true' });
});

test('private workers: the NAT gateway, its address and the endpoints go with the stack, which deletes itself after expiry', () => {
  // Everything billed by the hour is a resource of the stack (no Retain), so the scheduled DeleteStack removes it.
  for (const type of ['AWS::EC2::NatGateway', 'AWS::EC2::EIP', 'AWS::EC2::VPCEndpoint']) {
    const found = Object.values(s.template.findResources(type));
    expect(found.length).toBeGreaterThan(0);
    for (const r of found) expect(r.DeletionPolicy ?? 'Delete').toBe('Delete');
  }
  s.template.resourceCountIs('AWS::Scheduler::Schedule', 1);
  s.template.hasResourceProperties('AWS::Scheduler::Schedule', { ScheduleExpression: 'at(2030-01-02T04:04:00)' });
});

test('keepResults with an expiry is refused: kept results never expire', () => {
  expect(() => synthLoadfarm({ envName: 'both', keepResults: true, resultsExpirationDays: 7 }))
    .toThrow('ResultsBucket expirationDays cannot be combined with keepResults (kept results never expire); got 7');
});

test('spot and the worker count are published', () => {
  s.template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/loadfarm/spotty/spot', Value: 'true' });
  s.template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/loadfarm/spotty/workers', Value: '5' });
  s.template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/loadfarm/spotty/instance-type', Value: 'c7g.xlarge' });
});

test('cdk-nag is really active: an unacknowledged finding fails synthesis', () => {
  const dir = makeTempDir();
  try {
    const app = new App({ outdir: path.join(dir, 'cdk.out') });
    const stack = new Stack(app, 'Bad');
    new s3.Bucket(stack, 'PlainBucket');
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    expect(() => Template.fromStack(stack)).toThrow(/AwsSolutions-S10/);
  } finally {
    cleanup({ dir });
  }
});
