import { GetObjectCommand } from '@aws-sdk/client-s3';
import { S3Store } from '../../../worker/store/s3';
import { startS3Front, type S3Front } from '../../helpers/s3-front';
import { s3rverCredentials, startS3rver, type S3rverHandle } from '../../helpers/s3rver';

// An s3:// store talks to its bucket in the bucket's region, whatever AWS_REGION says.
// The bucket is "in eu-west-1": a front (test/helpers/s3-front.ts) answers requests signed for
// any other region with S3's 301 and x-amz-bucket-region, as AWS does; s3rver keeps the objects.

let server: S3rverHandle;
const savedEnv = { ...process.env };
const opened: S3Store[] = [];
const fronts: S3Front[] = [];

beforeAll(async () => {
  server = await startS3rver();
  process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3rverCredentials.secretAccessKey;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_PROFILE;
  delete process.env.AWS_DEFAULT_REGION;
  process.env.AWS_CONFIG_FILE = '/nonexistent/loadfarm-test-aws-config';
});

beforeEach(() => {
  delete process.env.AWS_REGION;
  delete process.env.AWS_ENDPOINT_URL_S3;
  delete process.env.AWS_ENDPOINT_URL;
});

afterEach(async () => {
  for (const store of opened.splice(0)) store.destroy();
  for (const front of fronts.splice(0)) await front.close();
});

afterAll(async () => {
  await server?.close();
  process.env = savedEnv;
});

async function euFront(o: { regionHeader?: boolean } = {}): Promise<S3Front> {
  const front = await startS3Front({ upstream: server.endpoint, bucket: server.bucket, region: 'eu-west-1', ...o });
  fronts.push(front);
  return front;
}

function open(url: string, options: Parameters<typeof S3Store.fromUrl>[1]): S3Store {
  const store = S3Store.fromUrl(url, { maxAttempts: 2, ...options });
  opened.push(store);
  return store;
}

/** The object as s3rver holds it, read behind the store's back. */
async function stored(key: string): Promise<string | undefined> {
  const res = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: key }));
  return res.Body?.transformToString();
}

/** Requests the front answered with a 301, HeadBucket's aside. */
function redirectedWork(front: S3Front): number {
  return Object.entries(front.counts.redirected).reduce((n, [method, count]) => n + (method === 'HEAD' ? 0 : count), 0);
}

test('with AWS_REGION unset, the store finds the bucket in eu-west-1 and signs every request for it', async () => {
  const front = await euFront();
  const store = open(`s3://${server.bucket}/unset`, { endpoint: front.endpoint, env: {} });
  await store.put('runs/r1/plan.json', 'plan');
  expect((await store.get('runs/r1/plan.json'))?.toString()).toBe('plan');
  expect(await store.list('runs/')).toEqual(['runs/r1/plan.json']);

  expect(await stored('unset/runs/r1/plan.json')).toBe('plan');
  expect(front.counts.headBucket).toBe(1);
  expect(redirectedWork(front)).toBe(0);
  // HeadBucket is asked in us-east-1 (nothing configured) and redirected; then everything in eu-west-1.
  expect(front.counts.signedFor).toEqual({ 'us-east-1': 1, 'eu-west-1': 3 });
});

test('with AWS_REGION=us-east-1, an eu-west-1 bucket is still reached in eu-west-1', async () => {
  process.env.AWS_REGION = 'us-east-1';
  const front = await euFront();
  const store = open(`s3://${server.bucket}/east`, { endpoint: front.endpoint, env: process.env });
  await Promise.all([store.put('a', '1'), store.put('b', '2'), store.get('c')]);
  expect(await stored('east/a')).toBe('1');
  expect(await stored('east/b')).toBe('2');
  expect(front.counts.headBucket).toBe(1); // concurrent first requests share one search
  expect(front.counts.redirected).toEqual({ HEAD: 1 });
  expect(front.counts.signedFor['eu-west-1']).toBe(3);
});

test('a store that sends no region header is asked with GetBucketLocation', async () => {
  const front = await euFront({ regionHeader: false });
  const store = open(`s3://${server.bucket}/location`, { endpoint: front.endpoint, env: {} });
  await store.put('k', 'v');
  expect(await stored('location/k')).toBe('v');
  expect(front.counts.getBucketLocation).toBe(1);
  expect(front.counts.redirected).toEqual({ HEAD: 1 });
  expect(front.counts.signedFor['eu-west-1']).toBe(1);
});

test('an explicit region wins: no search, every request signed for it', async () => {
  process.env.AWS_REGION = 'us-east-1';
  const front = await euFront();
  const store = open(`s3://${server.bucket}/explicit`, { endpoint: front.endpoint, region: 'eu-west-1', env: process.env });
  await store.put('k', 'v');
  expect(front.counts.headBucket).toBe(0);
  expect(front.counts.signedFor).toEqual({ 'eu-west-1': 1 });

  const wrong = open(`s3://${server.bucket}/explicit`, { endpoint: front.endpoint, region: 'ap-south-1', env: {} });
  await expect(wrong.get('k')).rejects.toMatchObject({ code: 'STORE_FAILED', message: expect.stringContaining('PermanentRedirect') });
  expect(front.counts.headBucket).toBe(0);
});

test("the SDK's AWS_ENDPOINT_URL_S3 is still honoured, and the region found through it", async () => {
  const front = await euFront();
  process.env.AWS_ENDPOINT_URL_S3 = front.endpoint;
  const store = open(`s3://${server.bucket}/from-env`, { env: process.env });
  await store.put('k', 'v');
  expect(await stored('from-env/k')).toBe('v');
  expect(front.counts.signedFor['eu-west-1']).toBe(1);
});

test('a failed search is tried again by the next request', async () => {
  const front = await euFront();
  const { port } = new URL(front.endpoint);
  await front.close();
  fronts.splice(0);
  const store = open(`s3://${server.bucket}/again`, { endpoint: `http://127.0.0.1:${port}`, env: {} });
  await expect(store.put('k', 'v')).rejects.toMatchObject({ message: expect.stringContaining("cannot find the bucket's region") });
  // The same port, now served again.
  const back = await startS3FrontOn(Number(port));
  await store.put('k', 'v');
  expect(await stored('again/k')).toBe('v');
  expect(back.counts.headBucket).toBe(1);
});

/** A front on a given port (the one a closed front used). */
async function startS3FrontOn(port: number): Promise<S3Front> {
  // startS3Front listens on port 0; proxy the fixed port to a fresh one.
  const net = await import('node:net');
  const front = await euFront();
  const target = Number(new URL(front.endpoint).port);
  const relay = net.createServer((socket) => {
    const out = net.connect(target, '127.0.0.1');
    socket.pipe(out).pipe(socket);
    out.on('error', () => socket.destroy());
    socket.on('error', () => out.destroy());
  });
  await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
  fronts.push({ endpoint: '', counts: front.counts, close: () => new Promise<void>((resolve) => relay.close(() => resolve())) });
  return front;
}
