import { GetBucketLocationCommand, HeadBucketCommand, type S3Client } from '@aws-sdk/client-s3';

// Loaded with s3.ts only (open.ts imports it lazily, for s3:// URLs).

/** The parts of an SDK error read here and in s3.ts; not `instanceof`: errors may come from another realm. */
export interface SdkError {
  name?: string;
  message?: string;
  code?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { headers?: Record<string, string | undefined> };
}

/**
 * The region `bucket` lives in, asked with `client` (signed for any region):
 * 1. HeadBucket: S3 names the region in `x-amz-bucket-region`, on a 200, and on the 301
 *    (PermanentRedirect), 400 or 403 it answers a request signed for another region with;
 * 2. else GetBucketLocation (an empty constraint is us-east-1, `EU` is eu-west-1), for
 *    S3-compatible stores that send no header;
 * 3. else undefined: the caller keeps its configured region. So it is for a bucket that does
 *    not exist (404), whose own requests then say so.
 * Rejects only with a failure that is not an answer about the bucket (network, 5xx after the
 * client's retries, no credentials).
 */
export async function findBucketRegion(client: S3Client, bucket: string): Promise<string | undefined> {
  try {
    const head = await client.send(new HeadBucketCommand({ Bucket: bucket }));
    if (head.BucketRegion) return head.BucketRegion;
  } catch (err) {
    const { $metadata, $response } = err as SdkError;
    const region = $response?.headers?.['x-amz-bucket-region'];
    if (region) return region;
    const status = $metadata?.httpStatusCode;
    if (status === 404) return undefined;
    if (status === undefined || status >= 500) throw err;
  }
  try {
    const { LocationConstraint } = await client.send(new GetBucketLocationCommand({ Bucket: bucket }));
    if (!LocationConstraint) return 'us-east-1';
    return LocationConstraint === 'EU' ? 'eu-west-1' : LocationConstraint;
  } catch (err) {
    const status = (err as SdkError).$metadata?.httpStatusCode;
    if (status === undefined || status >= 500) throw err;
    return undefined; // refused or not implemented: nothing more to learn
  }
}
