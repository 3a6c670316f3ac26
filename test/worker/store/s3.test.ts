import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { S3Store, s3ClientConfig } from '../../../worker/store/s3';
import { startS3Front } from '../../helpers/s3-front';
import { s3rverCredentials, startS3rver, type S3rverHandle } from '../../helpers/s3rver';

// What the contract suite (contract.test.ts) cannot say: configuration, addressing, failures.

let server: S3rverHandle;
const savedEnv = { ...process.env };
const opened: S3Store[] = [];

/** A store the test owns; destroyed after all. Retries are kept short. */
function open(url: string, options: Parameters<typeof S3Store.fromUrl>[1] = {}): S3Store {
  const store = S3Store.fromUrl(url, { endpoint: server.endpoint, maxAttempts: 2, env: {}, ...options });
  opened.push(store);
  return store;
}

beforeAll(async () => {
  server = await startS3rver();
  process.env.AWS_ACCESS_KEY_ID = s3rverCredentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = s3rverCredentials.secretAccessKey;
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  delete process.env.AWS_REGION;
  delete process.env.AWS_PROFILE;
  process.env.AWS_CONFIG_FILE = '/nonexistent/loadfarm-test-aws-config';
});

afterEach(() => {
  delete process.env.AWS_REGION;
  delete process.env.AWS_ENDPOINT_URL_S3;
});

afterAll(async () => {
  for (const store of opened) store.destroy();
  await server?.close();
  process.env = savedEnv;
});

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = http.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * A server in front of s3rver that answers the first `failFirst` requests with S3's
 * 500 InternalError, and passes the others through once `before(request)` resolves.
 * `requests` counts all it received.
 */
async function startProxy(
  target: string,
  { failFirst = 0, before }: { failFirst?: number; before?: (req: http.IncomingMessage) => Promise<void> } = {},
) {
  const upstream = new URL(target);
  let requests = 0;
  const proxy = http.createServer(async (req, res) => {
    requests++;
    if (requests <= failFirst) {
      req.resume();
      res.writeHead(500, { 'content-type': 'application/xml' });
      res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>');
      return;
    }
    await before?.(req);
    const forward = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (err) => res.destroy(err));
    req.pipe(forward);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    requests: () => requests,
    close: () => new Promise((resolve) => proxy.close(resolve)),
  };
}

async function until(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function rejection(promise: Promise<unknown>): Promise<Error & { cause?: unknown }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('s3ClientConfig', () => {
  test('an endpoint gives path style, checksums only when required, and region us-east-1 when none is set', async () => {
    const config = s3ClientConfig({ endpoint: 'http://127.0.0.1:4566' }, {});
    expect(config).toMatchObject({
      endpoint: 'http://127.0.0.1:4566',
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 5,
    });
    const region = config.region as () => Promise<string>;
    expect(await region()).toBe('us-east-1');
    process.env.AWS_REGION = 'eu-west-3';
    expect(await region()).toBe('eu-west-3');
  });

  test("the SDK's endpoint variables count as an endpoint, and are left for the SDK to read", () => {
    for (const env of [{ AWS_ENDPOINT_URL_S3: 'http://localhost:9000' }, { AWS_ENDPOINT_URL: 'http://localhost:4566' }]) {
      const config = s3ClientConfig({}, env);
      expect(config.endpoint).toBeUndefined();
      expect(config).toMatchObject({ forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    }
  });

  test('without an endpoint, everything is left to the SDK but the number of attempts', () => {
    expect(s3ClientConfig({ maxAttempts: 3 }, {})).toEqual({ maxAttempts: 3 });
  });

  test('LOADFARM_S3_CHECKSUMS forces the checksum mode either way, and a wrong value is refused', () => {
    expect(s3ClientConfig({}, { LOADFARM_S3_CHECKSUMS: 'when_required' })).toMatchObject({
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    expect(s3ClientConfig({ endpoint: 'http://127.0.0.1:1' }, { LOADFARM_S3_CHECKSUMS: 'when_supported' })).toMatchObject({
      requestChecksumCalculation: 'WHEN_SUPPORTED',
      responseChecksumValidation: 'WHEN_SUPPORTED',
    });
    expect(() => s3ClientConfig({}, { LOADFARM_S3_CHECKSUMS: 'off' })).toThrow(
      'LOADFARM_S3_CHECKSUMS=off: expected when_required or when_supported',
    );
  });
});

describe('S3Store.fromUrl', () => {
  test('refuses a bad bucket name and a URL that is not s3://, with StoreError STORE_BAD_URL', () => {
    expect(() => S3Store.fromUrl('s3://Bad_Bucket/runs')).toThrow(
      '--store: expected an S3 bucket name of 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit ' +
        '("Bad_Bucket" has "B", "_"; bucket names are lowercase), got "s3://Bad_Bucket/runs"',
    );
    expect(() => S3Store.fromUrl('s3:///runs')).toThrow('--store: expected s3://BUCKET/PREFIX with a bucket name, got "s3:///runs"');
    expect(() => S3Store.fromUrl('file:///tmp/x')).toThrow('--store: expected s3://BUCKET/PREFIX, got "file:///tmp/x"');
    expect(() => S3Store.fromUrl('s3://Bad_Bucket')).toThrow(expect.objectContaining({ name: 'StoreError', code: 'STORE_BAD_URL' }));
  });

  test('splits bucket and prefix, with or without slashes', () => {
    expect(open('s3://b-1')).toMatchObject({ url: 's3://b-1', bucket: 'b-1', keyPrefix: '' });
    expect(open('s3://b-1/')).toMatchObject({ bucket: 'b-1', keyPrefix: '' });
    expect(open('s3://b-1/some/prefix')).toMatchObject({ url: 's3://b-1/some/prefix', keyPrefix: 'some/prefix/' });
    expect(open('s3://b-1/some/prefix/')).toMatchObject({ keyPrefix: 'some/prefix/' });
  });
});

describe('S3Store against a real S3 protocol server', () => {
  test('keys live under the prefix in the bucket', async () => {
    const store = open(`s3://${server.bucket}/layout/some/prefix`);
    await store.put('runs/r1/plan.json', '{}');
    await store.putStream('runs/r1/events.ndjson', Readable.from([Buffer.from('{}\n')]));
    const raw = await server.client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: 'layout/' }));
    expect(raw.Contents?.map((o) => o.Key).sort()).toEqual([
      'layout/some/prefix/runs/r1/events.ndjson',
      'layout/some/prefix/runs/r1/plan.json',
    ]);
  });

  test('list follows continuation tokens, one request per page', async () => {
    const proxy = await startProxy(server.endpoint);
    try {
      const store = open(`s3://${server.bucket}/paged`, { endpoint: proxy.endpoint, pageSize: 2 });
      const keys = ['a/1', 'a/2', 'a/3', 'a/4', 'a/5'];
      for (const key of keys) await store.put(key, key);
      const before = proxy.requests();
      expect(await store.list('a/')).toEqual(keys);
      expect(proxy.requests() - before).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  test('uses a client it is given, and leaves it open', async () => {
    const store = S3Store.fromUrl(`s3://${server.bucket}/given`, { client: server.client });
    await store.put('k', 'v');
    store.destroy();
    expect((await store.get('k'))?.toString()).toBe('v');
  });

  test("reaches the endpoint in the SDK's own AWS_ENDPOINT_URL_S3", async () => {
    process.env.AWS_ENDPOINT_URL_S3 = server.endpoint;
    const store = open(`s3://${server.bucket}/from-env`, { endpoint: undefined, env: process.env });
    await store.put('k', 'v');
    expect((await store.get('k'))?.toString()).toBe('v');
  });

  test('retries a request that failed with a server error', async () => {
    const proxy = await startProxy(server.endpoint, { failFirst: 2 });
    try {
      // An explicit region: no region search, so the proxy sees the PutObject only.
      const store = open(`s3://${server.bucket}/retried`, { endpoint: proxy.endpoint, maxAttempts: 3, region: 'us-east-1' });
      await store.put('runs/r1/plan.json', 'after two failures');
      expect(proxy.requests()).toBe(3);
      expect((await store.get('runs/r1/plan.json'))?.toString()).toBe('after two failures');
    } finally {
      await proxy.close();
    }
  });

  test('gives up after maxAttempts, naming the store and the key, with the last error as cause', async () => {
    const proxy = await startProxy(server.endpoint, { failFirst: Infinity });
    try {
      const store = open(`s3://${server.bucket}/failing`, { endpoint: proxy.endpoint, maxAttempts: 3, region: 'us-east-1' });
      const err = await rejection(store.put('runs/r1/plan.json', '{}'));
      expect(err.message).toBe(
        `s3://${server.bucket}/failing: cannot write runs/r1/plan.json: InternalError: We encountered an internal error. Please try again. (HTTP 500)`,
      );
      expect(err).toMatchObject({ name: 'StoreError', code: 'STORE_FAILED' });
      expect(err.cause).toMatchObject({ name: 'InternalError', $metadata: { httpStatusCode: 500, attempts: 3 } });
      expect(proxy.requests()).toBe(3);
    } finally {
      await proxy.close();
    }
  });

  test('an unreachable endpoint fails every operation with the store and the key, never "absent"', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const store = open('s3://results/prefix', { endpoint, maxAttempts: 2 });
    const failures = [
      [() => store.put('runs/r1/plan.json', '{}'), 'cannot write runs/r1/plan.json'],
      [() => store.get('runs/r1/plan.json'), 'cannot read runs/r1/plan.json'],
      [() => store.list('runs/r1/'), 'cannot list runs/r1/'],
      [() => store.putStream('runs/r1/events.ndjson', Readable.from([Buffer.from('x')])), 'cannot write runs/r1/events.ndjson'],
    ] as const;
    for (const [operation, what] of failures) {
      const err = await rejection(operation());
      expect(err.message).toContain(`s3://results/prefix: ${what}: `);
      expect(err.message).toContain('ECONNREFUSED');
      // Under jest the SDK wraps Node's errors (another realm) and drops their `code`.
      expect(String((err.cause as Error).message)).toContain('ECONNREFUSED');
    }
  });

  test('a bucket that does not exist fails, even for get', async () => {
    const store = open('s3://no-such-bucket/prefix');
    const put = await rejection(store.put('runs/r1/plan.json', '{}'));
    expect(put.message).toMatch(
      /^s3:\/\/no-such-bucket\/prefix: cannot write runs\/r1\/plan.json: NoSuchBucket: .* \(HTTP 404\); check the bucket name in --store, or create the bucket$/,
    );
    expect(put).toMatchObject({ name: 'StoreError', code: 'STORE_NO_BUCKET' });
    expect(put.cause).toMatchObject({ name: 'NoSuchBucket' });
    expect((await rejection(store.get('runs/r1/plan.json'))).message).toContain('NoSuchBucket');
    expect((await rejection(store.list('runs/'))).message).toContain('NoSuchBucket');
  });

  test('putStream holds at most two parts of a long body in memory', async () => {
    const MiB = 1024 * 1024;
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let partsInFlight = 0;
    const proxy = await startProxy(server.endpoint, {
      // UploadPart requests wait until the test has looked.
      before: async (req) => {
        if (req.url?.includes('partNumber=')) {
          partsInFlight++;
          await gate;
        }
      },
    });
    const total = 22 * MiB;
    let pulled = 0;
    const source = new Readable({
      read() {
        if (pulled === total) return void this.push(null);
        const chunk = Buffer.alloc(Math.min(64 * 1024, total - pulled), pulled % 251);
        pulled += chunk.length;
        this.push(chunk);
      },
    });
    const store = open(`s3://${server.bucket}/bounded`, { endpoint: proxy.endpoint });
    const done = store.putStream('runs/r1/events.ndjson', source);
    try {
      await until(() => partsInFlight === 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(partsInFlight).toBe(2);
      expect(pulled).toBeLessThanOrEqual(2 * 5 * MiB + MiB);
    } finally {
      release();
      await done.finally(() => proxy.close());
    }
    expect(partsInFlight).toBe(5);
    const back = await open(`s3://${server.bucket}/bounded`).get('runs/r1/events.ndjson');
    expect(back?.length).toBe(total);
  });

  test('a body stream that fails rejects putStream and stores nothing', async () => {
    const store = open(`s3://${server.bucket}/broken-stream`);
    async function* broken() {
      yield Buffer.alloc(1024);
      throw new Error('disk went away');
    }
    const err = await rejection(store.putStream('runs/r1/events.ndjson', Readable.from(broken())));
    expect(err.message).toBe(`s3://${server.bucket}/broken-stream: cannot write runs/r1/events.ndjson: disk went away`);
    expect(await store.list('')).toEqual([]);
  });
});

describe('putNew: write-once objects', () => {
  test('s3rver 4.0.4 itself ignores If-None-Match and overwrites (why these tests go through a front)', async () => {
    const Key = 'fact/if-none-match';
    await server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: 'first', IfNoneMatch: '*' }));
    await server.client.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body: 'second', IfNoneMatch: '*' }));
    const res = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key }));
    expect(await res.Body?.transformToString()).toBe('second');
  });

  test('sends If-None-Match: * and turns the 412 into StoreError STORE_EXISTS, the first body kept', async () => {
    const front = await startS3Front({ upstream: server.endpoint, bucket: server.bucket, region: 'us-east-1', conditionalWrites: true });
    try {
      const store = open(`s3://${server.bucket}/once`, { endpoint: front.endpoint, region: 'us-east-1' });
      await store.putNew('runs/r1/workers/0/snapshots/000001.json', 'first');
      const err = await rejection(store.putNew('runs/r1/workers/0/snapshots/000001.json', 'forged'));
      expect(err).toMatchObject({ name: 'StoreError', code: 'STORE_EXISTS' });
      expect(err.message).toBe(`s3://${server.bucket}/once: cannot write runs/r1/workers/0/snapshots/000001.json: it already exists and is written once only`);
      expect(front.counts.conditionalPuts).toBe(2);
      expect(front.counts.preconditionFailed).toBe(1);
      const res = await server.client.send(new GetObjectCommand({ Bucket: server.bucket, Key: 'once/runs/r1/workers/0/snapshots/000001.json' }));
      expect(await res.Body?.transformToString()).toBe('first');
      // put, by contrast, still replaces, and is sent unconditionally.
      await store.put('runs/r1/workers/0/status.json', 'a');
      await store.put('runs/r1/workers/0/status.json', 'b');
      expect(front.counts.conditionalPuts).toBe(2);
      expect((await store.get('runs/r1/workers/0/status.json'))?.toString()).toBe('b');
    } finally {
      await front.close();
    }
  });

  test('a retry after a lost answer finds its own bytes there: success, not STORE_EXISTS', async () => {
    const front = await startS3Front({
      upstream: server.endpoint,
      bucket: server.bucket,
      region: 'us-east-1',
      conditionalWrites: true,
      loseFirstConditionalAnswer: true,
    });
    try {
      const store = open(`s3://${server.bucket}/lost`, { endpoint: front.endpoint, region: 'us-east-1', maxAttempts: 3 });
      await store.putNew('runs/r1/workers/0/snapshots/000001.json', 'mine');
      expect(front.counts.conditionalPuts).toBe(2);
      expect(front.counts.preconditionFailed).toBe(1);
      expect((await store.get('runs/r1/workers/0/snapshots/000001.json'))?.toString()).toBe('mine');
    } finally {
      await front.close();
    }
  });

  test('of many writers of one key, exactly one wins', async () => {
    const front = await startS3Front({ upstream: server.endpoint, bucket: server.bucket, region: 'us-east-1', conditionalWrites: true });
    try {
      const store = open(`s3://${server.bucket}/race`, { endpoint: front.endpoint, region: 'us-east-1' });
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => store.putNew('k', `writer ${i}`)));
      const won = results.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      expect(won).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'STORE_EXISTS' });
      expect(front.counts.preconditionFailed).toBe(5);
      expect((await store.get('k'))?.toString()).toBe(`writer ${won[0]}`);
    } finally {
      await front.close();
    }
  });
});
