import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ResultsBucketProps {
  /**
   * Keep the bucket and its objects: retained when the environment is destroyed, and no
   * object ever expires.
   * @default false - the bucket is emptied and deleted with the stack
   */
  readonly keepResults?: boolean;

  /**
   * Days after which objects (runs, snapshots, reports) are deleted. Only for a bucket that is
   * not kept: kept results never expire, and giving both is an error.
   * @default 30 when keepResults is false; none when it is true
   */
  readonly expirationDays?: number;

  /**
   * Key patterns (`*` wildcards, relative to the bucket) under which an object may only be
   * created, never replaced: the bucket policy denies any PutObject without `If-None-Match`
   * there (S3 condition key `s3:if-none-match`), whoever sends it. Multipart uploads under
   * these keys are refused too (their CreateMultipartUpload and UploadPart carry no such header).
   * @default - none
   */
  readonly createOnlyKeys?: readonly string[];
}

/**
 * The environment's store (`s3://<bucket>/`, layout `runs/<runId>/…`): private, TLS only,
 * encrypted with S3-managed keys; objects expire after `expirationDays` unless the results
 * are kept.
 */
export class ResultsBucket extends Construct {
  readonly bucket: s3.IBucket;
  /** Days after which objects expire; undefined when they never do (kept results). */
  readonly expirationDays?: number;

  constructor(scope: Construct, id: string, props: ResultsBucketProps = {}) {
    super(scope, id);
    const keep = props.keepResults ?? false;
    if (keep && props.expirationDays !== undefined) {
      throw new Error(`ResultsBucket expirationDays cannot be combined with keepResults (kept results never expire); got ${props.expirationDays}`);
    }
    const expirationDays = keep ? undefined : (props.expirationDays ?? 30);
    if (expirationDays !== undefined && (!Number.isInteger(expirationDays) || expirationDays < 1)) {
      throw new Error(`ResultsBucket expirationDays must be a whole number of days >= 1; got ${expirationDays}`);
    }
    this.expirationDays = expirationDays;

    const bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [
        expirationDays === undefined
          ? { id: 'abort-incomplete-uploads', enabled: true, abortIncompleteMultipartUploadAfter: Duration.days(1) }
          : {
            id: 'expire-results',
            enabled: true,
            expiration: Duration.days(expirationDays),
            abortIncompleteMultipartUploadAfter: Duration.days(1),
          },
      ],
      removalPolicy: keep ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !keep,
    });
    this.bucket = bucket;

    const createOnly = props.createOnlyKeys ?? [];
    if (createOnly.length > 0) {
      bucket.addToResourcePolicy(new iam.PolicyStatement({
        sid: 'CreateOnly',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['s3:PutObject'],
        resources: createOnly.map((pattern) => bucket.arnForObjects(pattern)),
        conditions: { Null: { 's3:if-none-match': 'true' } },
      }));
    }

    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Short-lived results store of a throwaway test environment, reachable only by the environment\'s ' +
        'worker role and the operator\'s credentials; access logs would need a second bucket that outlives it.',
    });
  }
}
