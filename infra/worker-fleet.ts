import * as fs from 'node:fs';
import * as path from 'node:path';
import { Aws, Duration, Stack, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import { Construct } from 'constructs';
import { WORKER_PATHS } from './names';

/** Open files (sockets included) allowed per worker process. */
export const WORKER_NOFILE = 1_048_576;

export interface WorkerFleetProps {
  readonly vpc: ec2.IVpc;

  /**
   * Subnets the workers launch into.
   * @default - the VPC's public subnets
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /** Security group of the workers (expected: no ingress). */
  readonly securityGroup: ec2.ISecurityGroup;

  /** The results store: workers read `runs/*` and write `runs/<runId>/workers/…`. */
  readonly resultsBucket: s3.IBucket;

  /** Number of worker machines; the group's min and max (a whole number, 0 or more). */
  readonly workers: number;

  /**
   * Machine type of every worker. Arm (Graviton) types get the arm64 image.
   * @default c7i.large
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Run workers on Spot capacity, diversified over `instanceType` and
   * `additionalSpotInstanceTypes`, with capacity rebalancing.
   * @default false - on-demand
   */
  readonly spot?: boolean;

  /**
   * Workers kept on-demand when `spot` is true (the rest are Spot). Auto Scaling does not
   * switch to on-demand by itself when Spot is short: raise this to guarantee capacity.
   * @default 0
   */
  readonly onDemandBaseCapacity?: number;

  /**
   * More instance types Spot may choose from when `spot` is true (same CPU architecture).
   * @default - none
   */
  readonly additionalSpotInstanceTypes?: ec2.InstanceType[];

  /**
   * ISO 8601 time at which the group scales to zero (min = max = desired = 0), rounded up
   * to the next whole UTC minute. Computed by the caller, so synth stays deterministic.
   * Must be in the future when deployed (Auto Scaling rejects a past start time).
   */
  readonly expiresAt: string;

  /**
   * The worker bundle (one self-contained JavaScript file), shipped as an asset to
   * `/opt/loadfarm/worker.js`. Relative paths resolve from the working directory.
   * @default 'dist/worker.js'
   */
  readonly workerBundlePath?: string;

  /**
   * Size of each worker's encrypted gp3 root volume.
   * @default 16
   */
  readonly rootVolumeSizeGiB?: number;

  /**
   * How long a deploy waits for every worker to report that its user data finished.
   * @default 15
   */
  readonly bootstrapTimeoutMinutes?: number;
}

/**
 * The worker machines: an auto-scaling group of Amazon Linux 2023 instances with Node 22,
 * the worker bundle, a kernel tuned for many connections, and a role limited to SSM and the
 * results bucket. A deploy completes once every worker has signalled that it is ready.
 */
export class WorkerFleet extends Construct {
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly role: iam.IRole;
  /** The instant the group scales to zero: `expiresAt` rounded up to the minute. */
  readonly expiresAt: Date;

  constructor(scope: Construct, id: string, props: WorkerFleetProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const workers = props.workers;
    if (!Number.isInteger(workers) || workers < 0) {
      throw new Error(`WorkerFleet workers must be a whole number >= 0; got ${workers}`);
    }
    this.expiresAt = expiryInstant(props.expiresAt);
    const instanceType = props.instanceType ?? new ec2.InstanceType('c7i.large');
    const spot = props.spot ?? false;
    const spotTypes = [instanceType, ...(props.additionalSpotInstanceTypes ?? [])];
    const architecture = instanceType.architecture;
    const mixed = spotTypes.find((t) => t.architecture !== architecture);
    if (spot && mixed) {
      throw new Error(
        `WorkerFleet additionalSpotInstanceTypes must share the architecture of ${instanceType} (${architecture}); ` +
          `got ${mixed} (${mixed.architecture})`,
      );
    }

    const bundlePath = path.resolve(props.workerBundlePath ?? 'dist/worker.js');
    if (!fs.existsSync(bundlePath) || !fs.statSync(bundlePath).isFile()) {
      throw new Error(`WorkerFleet worker bundle not found at ${bundlePath}: run \`npm run build\` first`);
    }
    const bundle = new s3assets.Asset(this, 'WorkerBundle', { path: bundlePath });

    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: 'loadfarm worker: SSM Run Command, the worker bundle, and runs/* of the results bucket',
    });
    this.role = role;
    for (const statement of runCommandStatements()) role.addToPrincipalPolicy(statement);
    const bucket = props.resultsBucket;
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadWorkerBundle',
      actions: ['s3:GetObject'],
      resources: [bundle.bucket.arnForObjects(bundle.s3ObjectKey)],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ListRuns',
      actions: ['s3:ListBucket'],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { 's3:prefix': ['runs/*'] } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'ReadRuns',
      actions: ['s3:GetObject'],
      resources: [bucket.arnForObjects('runs/*')],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      sid: 'WriteWorkerResults',
      actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
      resources: [bucket.arnForObjects('runs/*/workers/*')],
    }));

    const userData = ec2.UserData.forLinux({ shebang: '#!/bin/bash' });
    const machineImage = ec2.MachineImage.latestAmazonLinux2023({
      cpuType: architecture === ec2.InstanceArchitecture.ARM_64
        ? ec2.AmazonLinuxCpuType.ARM_64
        : ec2.AmazonLinuxCpuType.X86_64,
    });

    const launchTemplate = new ec2.LaunchTemplate(this, 'LaunchTemplate', {
      machineImage,
      instanceType,
      userData,
      role,
      securityGroup: props.securityGroup,
      requireImdsv2: true,
      httpPutResponseHopLimit: 1,
      instanceInitiatedShutdownBehavior: ec2.InstanceInitiatedShutdownBehavior.TERMINATE,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(props.rootVolumeSizeGiB ?? 16, {
          volumeType: ec2.EbsDeviceVolumeType.GP3,
          encrypted: true,
          deleteOnTermination: true,
        }),
      }],
    });

    const group = new autoscaling.AutoScalingGroup(this, 'Group', {
      vpc: props.vpc,
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PUBLIC },
      minCapacity: workers,
      maxCapacity: workers,
      // desiredCapacity is left unset: CloudFormation would reset it on every deploy.
      ...(spot
        ? {
          mixedInstancesPolicy: {
            launchTemplate,
            launchTemplateOverrides: spotTypes.map((t) => ({ instanceType: t })),
            instancesDistribution: {
              onDemandBaseCapacity: props.onDemandBaseCapacity ?? 0,
              onDemandPercentageAboveBaseCapacity: 0,
              onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED,
              spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
            },
          },
          capacityRebalance: true,
        }
        : { launchTemplate }),
      signals: autoscaling.Signals.waitForMinCapacity({
        timeout: Duration.minutes(props.bootstrapTimeoutMinutes ?? 15),
      }),
      // A new bundle or image replaces every worker at once: a farm is used whole.
      updatePolicy: autoscaling.UpdatePolicy.rollingUpdate({
        maxBatchSize: Math.max(1, workers),
        minInstancesInService: 0,
      }),
    });
    this.autoScalingGroup = group;

    const cfnGroup = group.node.defaultChild as autoscaling.CfnAutoScalingGroup;
    // Every deploy sets min and max back to `workers`, also after the expiry scaled the group
    // to zero (CloudFormation's default with scheduled actions is to leave them).
    cfnGroup.cfnOptions.updatePolicy = {
      ...cfnGroup.cfnOptions.updatePolicy,
      autoScalingScheduledAction: { ignoreUnmodifiedGroupSizeProperties: false },
    };
    if (spot) {
      // cdk-nag 3.0.2's EC26 (encrypted EBS) reads only the group's LaunchTemplate property
      // and throws on a mixed instances policy. The policy's launch template is mirrored
      // there for the check, and deleted from the rendered template (where CloudFormation
      // allows only one of the two). The tests check the rendered template.
      cfnGroup.launchTemplate = {
        launchTemplateId: launchTemplate.launchTemplateId,
        version: launchTemplate.latestVersionNumber,
      };
      cfnGroup.addPropertyDeletionOverride('LaunchTemplate');
    }

    userData.addSignalOnExitCommand(group);
    userData.addCommands(...bootstrapCommands());
    userData.addS3DownloadCommand({
      bucket: bundle.bucket,
      bucketKey: bundle.s3ObjectKey,
      localFile: WORKER_PATHS.bundle,
      region: stack.region,
    });
    userData.addCommands(
      `chmod 0644 ${WORKER_PATHS.bundle}`,
      // The agent starts workers: restart it so it runs with the raised limits.
      'systemctl try-restart amazon-ssm-agent',
      `touch ${WORKER_PATHS.ready}`,
    );

    // Time to live. A one-time action (StartTime without Recurrence) is deleted by Auto
    // Scaling once it has run, after which CloudFormation fails to update or delete it. So
    // this is a yearly cron at the expiry minute, also starting at that instant: it fires at
    // expiry and stays in place for later deploys (which move it). A start time already in
    // the past makes the deploy fail instead of leaving workers running with no expiry.
    const at = this.expiresAt;
    group.scaleOnSchedule('ExpireAt', {
      schedule: autoscaling.Schedule.cron({
        minute: String(at.getUTCMinutes()),
        hour: String(at.getUTCHours()),
        day: String(at.getUTCDate()),
        month: String(at.getUTCMonth() + 1),
      }),
      timeZone: 'Etc/UTC',
      startTime: at,
      minCapacity: 0,
      maxCapacity: 0,
      desiredCapacity: 0,
    });

    Validations.of(group).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Throwaway load-test fleet watched by the loadfarm CLI (worker status in the results store and ' +
        'SSM); scaling notifications would need an SNS topic nobody subscribes to.',
    });
    const bucketArn = nagToken(stack, bucket.bucketArn);
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge(
        {
          id: `AwsSolutions-IAM5[Resource::${bucketArn}/runs/*]`,
          reason: 'Workers read plan.json and scenario.js of runs whose ids are chosen at run time: scoped to runs/.',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${bucketArn}/runs/*/workers/*]`,
          reason: 'Workers write status and snapshots under runs/<runId>/workers/<i>/, ids chosen at run time.',
        },
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ec2messages:* and ssmmessages:*ControlChannel (how the SSM agent receives Run Command) have no ' +
            'resource types: AWS accepts only "*" for them. Nothing of Parameter Store or any other service is on "*".',
        },
        {
          id: `AwsSolutions-IAM5[Resource::${INSTANCE_ARN_NAG}]`,
          reason:
            'ssm:UpdateInstanceInformation (the agent registering its own instance) on instances of this account and ' +
            'region: instance ids are assigned at launch.',
        },
      );
    }
  }
}

/** `expiresAt` parsed and rounded up to the next whole minute. */
function expiryInstant(expiresAt: string): Date {
  const time = Date.parse(expiresAt);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(expiresAt) || Number.isNaN(time)) {
    throw new Error(`WorkerFleet expiresAt must be an ISO 8601 time such as 2030-01-01T12:00:00Z; got ${JSON.stringify(expiresAt)}`);
  }
  return new Date(Math.ceil(time / 60_000) * 60_000);
}

/** How cdk-nag prints a `Fn::GetAtt` token in finding ids: `<LogicalId.Attribute>`. */
function nagToken(stack: Stack, token: string): string {
  const resolved = stack.resolve(token) as { 'Fn::GetAtt'?: [string, string] } | string;
  if (typeof resolved === 'object' && resolved['Fn::GetAtt']) {
    const [logicalId, attribute] = resolved['Fn::GetAtt'];
    return `<${logicalId}.${attribute}>`;
  }
  return String(resolved);
}

/** The instances of the stack's account and region, as an ARN with pseudo parameters. */
const INSTANCE_ARN = `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:instance/*`;
/** How cdk-nag prints `INSTANCE_ARN` in finding ids. */
const INSTANCE_ARN_NAG = 'arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:instance/*';

/**
 * What the SSM agent needs to take Run Command, instead of AmazonSSMManagedInstanceCore
 * (which also grants ssm:GetParameter(s) on "*", State Manager, inventory and patching):
 * registering and heartbeating its instance (ssm:UpdateInstanceInformation), the Run Command
 * message service (ec2messages), and the agent's control channel (ssmmessages), which newer
 * agents use for Run Command too. No data channels (Session Manager shells) and nothing of
 * Parameter Store: the worker reads no parameter.
 * Reference: "Reference: ec2messages, ssmmessages, and other API operations" in the Systems
 * Manager user guide, and the AmazonSSMManagedInstanceCore policy document.
 */
export function runCommandStatements(): iam.PolicyStatement[] {
  return [
    new iam.PolicyStatement({
      sid: 'SsmAgentRegistration',
      actions: ['ssm:UpdateInstanceInformation'],
      resources: [INSTANCE_ARN],
    }),
    new iam.PolicyStatement({
      sid: 'SsmAgentRunCommand',
      actions: [
        'ec2messages:AcknowledgeMessage',
        'ec2messages:DeleteMessage',
        'ec2messages:FailMessage',
        'ec2messages:GetEndpoint',
        'ec2messages:GetMessages',
        'ec2messages:SendReply',
        'ssmmessages:CreateControlChannel',
        'ssmmessages:OpenControlChannel',
      ],
      resources: ['*'],
    }),
  ];
}

/**
 * Shell lines that prepare a worker machine (Amazon Linux 2023, run as root by cloud-init).
 * Any failing line fails the user data, which signals failure to CloudFormation.
 */
export function bootstrapCommands(): string[] {
  const nofile = WORKER_NOFILE;
  return [
    'set -euxo pipefail',
    // cfn-signal first, so that a failure below can still be reported.
    'dnf install -y --setopt=retries=5 aws-cfn-bootstrap',
    'dnf install -y --setopt=retries=5 nodejs22 chrony',
    'if [ -x /usr/bin/node-22 ]; then ln -sf /usr/bin/node-22 /usr/bin/node; fi',
    `${WORKER_PATHS.node} --version | grep -q '^v22\\.'`,
    'systemctl enable --now chronyd',
    // Many concurrent connections: file descriptors, ephemeral ports, accept and SYN queues.
    "cat > /etc/sysctl.d/90-loadfarm.conf <<'EOF'",
    'fs.file-max = 4194304',
    `fs.nr_open = ${nofile * 2}`,
    'net.ipv4.ip_local_port_range = 1024 65535',
    'net.ipv4.tcp_tw_reuse = 1',
    'net.ipv4.tcp_fin_timeout = 15',
    'net.core.somaxconn = 65535',
    'net.ipv4.tcp_max_syn_backlog = 65535',
    'net.core.netdev_max_backlog = 65535',
    'EOF',
    'sysctl --system',
    // limits.conf drop-in, for login sessions (pam_limits).
    "cat > /etc/security/limits.d/90-loadfarm.conf <<'EOF'",
    `* soft nofile ${nofile}`,
    `* hard nofile ${nofile}`,
    `root soft nofile ${nofile}`,
    `root hard nofile ${nofile}`,
    'EOF',
    // systemd services (the SSM agent, hence every worker it starts) ignore limits.conf.
    'mkdir -p /etc/systemd/system.conf.d /etc/systemd/system/amazon-ssm-agent.service.d',
    `printf '[Manager]\\nDefaultLimitNOFILE=${nofile}\\n' > /etc/systemd/system.conf.d/90-loadfarm.conf`,
    `printf '[Service]\\nLimitNOFILE=${nofile}\\n' > /etc/systemd/system/amazon-ssm-agent.service.d/90-loadfarm.conf`,
    'systemctl daemon-reexec',
    'systemctl daemon-reload',
  ];
}
