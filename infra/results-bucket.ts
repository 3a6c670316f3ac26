import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface ResultsBucketProps {
  /**
   * Keep the bucket and its objects when the environment is destroyed.
   * @default false - the bucket is emptied and deleted with the stack
   */
  readonly keepResults?: boolean;

  /**
   * Days after which objects (runs, snapshots, reports) are deleted.
   * @default 30
   */
  readonly expirationDays?: number;
}

/**
 * The environment's store (`s3://<bucket>/`, layout `runs/<runId>/…`): private, TLS only,
 * encrypted with S3-managed keys, objects expiring after `expirationDays`.
 */
export class ResultsBucket extends Construct {
  readonly bucket: s3.IBucket;

  constructor(scope: Construct, id: string, props: ResultsBucketProps = {}) {
    super(scope, id);
    const keep = props.keepResults ?? false;
    const expirationDays = props.expirationDays ?? 30;
    if (!Number.isInteger(expirationDays) || expirationDays < 1) {
      throw new Error(`ResultsBucket expirationDays must be a whole number of days >= 1; got ${expirationDays}`);
    }

    const bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: s3.BucketEncryption.S3_MANAGED,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: false,
      lifecycleRules: [
        {
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

    Validations.of(bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'Short-lived results store of a throwaway test environment, reachable only by the environment\'s ' +
        'worker role and the operator\'s credentials; access logs would need a second bucket that outlives it.',
    });
  }
}
