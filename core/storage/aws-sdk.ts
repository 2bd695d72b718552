/**
 * The AWS SDK, loaded on first need. Evaluating the S3 client and lib-storage costs about 0.13 s of
 * start-up, which a dump to a file or a restore from one should not pay. S3Bucket.open loads it, and
 * every S3 call goes through a bucket, so the synchronous getter below is always reached after it.
 */
type AwsSdk = typeof import('./aws-sdk-values.js');

let loaded: AwsSdk | undefined;

export async function loadAwsSdk(): Promise<AwsSdk> {
  return (loaded ??= await import('./aws-sdk-values.js'));
}

export function awsSdk(): AwsSdk {
  if (!loaded)
    throw new Error('internal error: an S3 request was built before S3Bucket.open loaded the AWS SDK');
  return loaded;
}
