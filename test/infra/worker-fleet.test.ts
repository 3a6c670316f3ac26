/** WorkerFleet on its own: the checks of its props and the expiry rounding. No cdk-nag here. */
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { WorkerFleet, type WorkerFleetProps } from '../../infra/worker-fleet';
import { cleanup, makeTempDir, writeFakeBundle } from './helpers';

let dir: string;
let bundle: string;
beforeAll(() => {
  dir = makeTempDir();
  bundle = writeFakeBundle(dir);
});
afterAll(() => cleanup({ dir }));

function fleet(overrides: Partial<WorkerFleetProps> = {}): { stack: Stack; fleet: WorkerFleet } {
  const app = new App({ outdir: path.join(dir, `out-${Math.random().toString(36).slice(2)}`) });
  const stack = new Stack(app, 'FleetOnly', { env: { account: '123456789012', region: 'us-east-1' } });
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    availabilityZones: ['us-east-1a'],
    natGateways: 0,
    subnetConfiguration: [{ name: 'Public', subnetType: ec2.SubnetType.PUBLIC }],
  });
  const securityGroup = new ec2.SecurityGroup(stack, 'Sg', { vpc });
  const resultsBucket = new s3.Bucket(stack, 'Bucket');
  const f = new WorkerFleet(stack, 'Workers', {
    vpc, securityGroup, resultsBucket, workers: 1, expiresAt: '2030-06-15T08:30:00Z', workerBundlePath: bundle,
    ...overrides,
  });
  return { stack, fleet: f };
}

test('expiresAt is rounded up to the next whole minute, in UTC', () => {
  const { stack, fleet: f } = fleet({ expiresAt: '2030-06-15T10:59:30+02:00' });
  expect(f.expiresAt.toISOString()).toBe('2030-06-15T09:00:00.000Z');
  Template.fromStack(stack).hasResourceProperties('AWS::AutoScaling::ScheduledAction', {
    Recurrence: '0 9 15 6 *', StartTime: '2030-06-15T09:00:00Z', MinSize: 0, MaxSize: 0, DesiredCapacity: 0,
  });
});

test('a malformed expiresAt is refused', () => {
  expect(() => fleet({ expiresAt: 'in four hours' })).toThrow(/^WorkerFleet expiresAt must be an ISO 8601 time .*got "in four hours"$/);
});

test('a missing bundle is refused with the path and the fix', () => {
  expect(() => fleet({ workerBundlePath: path.join(dir, 'missing.js') }))
    .toThrow(/^WorkerFleet worker bundle not found at .*missing\.js: run `npm run build` first$/);
});

test('the worker count must be a whole number', () => {
  expect(() => fleet({ workers: 1.5 })).toThrow('WorkerFleet workers must be a whole number >= 0; got 1.5');
});

test('spot types of another architecture are refused', () => {
  expect(() => fleet({
    spot: true,
    instanceType: new ec2.InstanceType('c7g.large'),
    additionalSpotInstanceTypes: [new ec2.InstanceType('c7i.large')],
  })).toThrow(/must share the architecture of c7g\.large \(arm64\); got c7i\.large \(x86_64\)/);
});

test('additional spot types become overrides', () => {
  const { stack } = fleet({
    spot: true,
    onDemandBaseCapacity: 1,
    additionalSpotInstanceTypes: [new ec2.InstanceType('c6i.large'), new ec2.InstanceType('m7i.large')],
  });
  Template.fromStack(stack).hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
    MixedInstancesPolicy: {
      InstancesDistribution: { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 0 },
      LaunchTemplate: {
        Overrides: [{ InstanceType: 'c7i.large' }, { InstanceType: 'c6i.large' }, { InstanceType: 'm7i.large' }],
      },
    },
  });
});
