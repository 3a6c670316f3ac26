import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

export interface NetworkProps {
  /**
   * IPv4 range of the VPC.
   * @default '10.64.0.0/16'
   */
  readonly vpcCidr?: string;

  /**
   * Most availability zones to spread workers over. An environment-agnostic stack
   * (no account/region) has at most 2.
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * Exact availability zones to use instead of `maxAzs`.
   * @default - the first `maxAzs` zones of the region
   */
  readonly availabilityZones?: string[];

  /**
   * Put workers in private subnets behind NAT gateways, reached by SSM through interface
   * endpoints (ssm, ssmmessages, ec2messages). Load then leaves through the NAT gateways,
   * which cost per hour and per GB and cap bandwidth.
   * @default false - workers sit in public subnets and load leaves through the internet gateway
   */
  readonly privateWorkers?: boolean;

  /**
   * NAT gateways when `privateWorkers` is true (ignored otherwise).
   * @default 1
   */
  readonly natGateways?: number;

  /**
   * Days the VPC flow log (rejected traffic) is kept.
   * @default logs.RetentionDays.ONE_WEEK
   */
  readonly flowLogRetention?: logs.RetentionDays;
}

/**
 * A VPC dedicated to one environment: subnets for the workers, an S3 gateway endpoint,
 * a flow log of rejected traffic, and a security group for the workers with no ingress.
 */
export class Network extends Construct {
  readonly vpc: ec2.IVpc;
  /** Subnets the workers launch into. */
  readonly workerSubnets: ec2.SubnetSelection;
  /** Workers' security group: no ingress at all, all outbound allowed. */
  readonly workerSecurityGroup: ec2.ISecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const privateWorkers = props.privateWorkers ?? false;

    const subnetConfiguration: ec2.SubnetConfiguration[] = [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC },
    ];
    if (privateWorkers) {
      subnetConfiguration.push({ name: 'Workers', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    }

    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(props.vpcCidr ?? '10.64.0.0/16'),
      ...(props.availabilityZones ? { availabilityZones: props.availabilityZones } : { maxAzs: props.maxAzs ?? 2 }),
      natGateways: privateWorkers ? (props.natGateways ?? 1) : 0,
      subnetConfiguration,
      enableDnsHostnames: true,
      enableDnsSupport: true,
    });
    this.vpc = vpc;

    this.workerSubnets = {
      subnetType: privateWorkers ? ec2.SubnetType.PRIVATE_WITH_EGRESS : ec2.SubnetType.PUBLIC,
    };

    // Results and the worker bundle go to S3 without crossing the internet gateway or a NAT.
    vpc.addGatewayEndpoint('S3Endpoint', { service: ec2.GatewayVpcEndpointAwsService.S3 });

    this.workerSecurityGroup = new ec2.SecurityGroup(this, 'WorkerSecurityGroup', {
      vpc,
      description: 'loadfarm workers: no ingress; all egress (load, S3, SSM)',
      allowAllOutbound: true,
    });

    if (privateWorkers) {
      // Reachable from the workers only (not the whole VPC range).
      const endpointSecurityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
        vpc,
        description: 'loadfarm SSM interface endpoints: HTTPS from the workers only',
        allowAllOutbound: false,
      });
      endpointSecurityGroup.addIngressRule(this.workerSecurityGroup, ec2.Port.tcp(443), 'HTTPS from loadfarm workers');
      const services: Array<[string, ec2.InterfaceVpcEndpointAwsService]> = [
        ['SsmEndpoint', ec2.InterfaceVpcEndpointAwsService.SSM],
        ['SsmMessagesEndpoint', ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES],
        ['Ec2MessagesEndpoint', ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES],
      ];
      for (const [endpointId, service] of services) {
        vpc.addInterfaceEndpoint(endpointId, {
          service,
          subnets: this.workerSubnets,
          privateDnsEnabled: true,
          securityGroups: [endpointSecurityGroup],
          open: false,
        });
      }
    }

    const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      retention: props.flowLogRetention ?? logs.RetentionDays.ONE_WEEK,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup),
      trafficType: ec2.FlowLogTrafficType.REJECT,
    });
  }
}
