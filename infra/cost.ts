/**
 * Rough hourly cost of an environment, to show a person before `up`. Plain code, no AWS SDK.
 *
 * Prices are US East (N. Virginia) on-demand Linux list prices in USD per hour, rounded;
 * other regions are typically 0-30 % dearer. Spot is estimated at a fixed fraction of
 * on-demand (it varies by type, zone and hour). Not included: data transfer out of AWS
 * (about 0.09 USD/GB, which can dominate a load test against an internet target), S3
 * requests and storage, CloudWatch Logs.
 */

/** On-demand USD per hour of the `large` size of each family (us-east-1). */
export const LARGE_PRICE_USD_PER_HOUR: Readonly<Record<string, number>> = {
  t3: 0.0832, t3a: 0.0752, t4g: 0.0672,
  c5: 0.085, c5a: 0.077, c5n: 0.108, c6a: 0.0765, c6g: 0.068, c6gn: 0.0864, c6i: 0.085, c6in: 0.1134,
  c7a: 0.10264, c7g: 0.0725, c7gn: 0.0999, c7i: 0.08925, c8g: 0.07976,
  m5: 0.096, m5a: 0.086, m5n: 0.119, m6a: 0.0864, m6g: 0.077, m6i: 0.096, m6in: 0.13923,
  m7a: 0.11592, m7g: 0.0816, m7i: 0.1008, m8g: 0.08976,
  r5: 0.126, r6g: 0.1008, r6i: 0.126, r7g: 0.1071, r7i: 0.1323,
};

/** Size multipliers relative to `large`. */
export const SIZE_FACTOR: Readonly<Record<string, number>> = {
  nano: 1 / 16, micro: 1 / 8, small: 1 / 4, medium: 1 / 2, large: 1,
  xlarge: 2, '2xlarge': 4, '4xlarge': 8, '8xlarge': 16, '12xlarge': 24, '16xlarge': 32,
  '24xlarge': 48, '32xlarge': 64, '48xlarge': 96,
};

/** Spot price as a fraction of on-demand (a typical 60-70 % discount). */
export const SPOT_FRACTION = 0.35;

/** USD per hour of each public IPv4 address (every worker in a public subnet has one). */
export const PUBLIC_IPV4_USD_PER_HOUR = 0.005;
/** USD per hour of one NAT gateway (private workers), before its per-GB charge. */
export const NAT_GATEWAY_USD_PER_HOUR = 0.045;
/** USD per hour of one interface endpoint in one availability zone (private workers). */
export const INTERFACE_ENDPOINT_USD_PER_HOUR_PER_AZ = 0.01;
/** Interface endpoints of a private-worker environment (ssm, ssmmessages, ec2messages). */
export const INTERFACE_ENDPOINTS = 3;
/** USD per GiB-month of gp3, as per hour (30-day month). */
export const GP3_USD_PER_GIB_HOUR = 0.08 / 730;

export interface CostOptions {
  /**
   * Workers in private subnets behind NAT gateways with SSM interface endpoints.
   * @default false
   */
  readonly privateWorkers?: boolean;
  /**
   * NAT gateways when `privateWorkers`.
   * @default 1
   */
  readonly natGateways?: number;
  /**
   * Availability zones (interface endpoints are billed per zone).
   * @default 2
   */
  readonly azs?: number;
  /**
   * Root volume size of each worker.
   * @default 16
   */
  readonly rootVolumeSizeGiB?: number;
}

export interface CostEstimate {
  /** USD per hour for the whole environment. */
  readonly usdPerHour: number;
  /** USD per hour of one worker machine (instance, root volume, public address). */
  readonly usdPerWorkerHour: number;
  /** USD per hour that does not depend on the worker count (NAT, endpoints). */
  readonly usdPerHourFixed: number;
  /** How the instance price was found. */
  readonly basis: 'on-demand list price' | 'spot estimate';
}

/** On-demand USD per hour of one instance, or undefined for a type not in the table. */
export function instancePriceUsdPerHour(instanceType: string): number | undefined {
  const dot = instanceType.indexOf('.');
  if (dot < 0) return undefined;
  const large = LARGE_PRICE_USD_PER_HOUR[instanceType.slice(0, dot)];
  const factor = SIZE_FACTOR[instanceType.slice(dot + 1)];
  return large === undefined || factor === undefined ? undefined : large * factor;
}

/**
 * Rough USD per hour of an environment with `workers` machines of `instanceType`.
 * @returns undefined when the instance type is not in the table (the caller says "unknown")
 */
export function costPerHour(
  instanceType: string,
  workers: number,
  spot: boolean,
  options: CostOptions = {},
): CostEstimate | undefined {
  const onDemand = instancePriceUsdPerHour(instanceType);
  if (onDemand === undefined) return undefined;
  const privateWorkers = options.privateWorkers ?? false;
  const instance = spot ? onDemand * SPOT_FRACTION : onDemand;
  const volume = (options.rootVolumeSizeGiB ?? 16) * GP3_USD_PER_GIB_HOUR;
  const address = privateWorkers ? 0 : PUBLIC_IPV4_USD_PER_HOUR;
  const perWorker = instance + volume + address;
  const fixed = privateWorkers
    ? (options.natGateways ?? 1) * (NAT_GATEWAY_USD_PER_HOUR + PUBLIC_IPV4_USD_PER_HOUR) +
      INTERFACE_ENDPOINTS * (options.azs ?? 2) * INTERFACE_ENDPOINT_USD_PER_HOUR_PER_AZ
    : 0;
  return {
    usdPerHour: perWorker * workers + fixed,
    usdPerWorkerHour: perWorker,
    usdPerHourFixed: fixed,
    basis: spot ? 'spot estimate' : 'on-demand list price',
  };
}
