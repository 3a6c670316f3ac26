/**
 * The credentials of the built worker (dist/worker.js, `npm run build`): the environment, else the
 * instance metadata service; never a profile. Each test runs a one-worker run in s3rver through a
 * loopback proxy that records, per S3 request, the access key it is signed with and its session
 * token; the instance metadata service is a loopback server too (AWS_EC2_METADATA_SERVICE_ENDPOINT).
 * A profile with its own key is always there to be (wrongly) picked up.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { layout } from '../../worker/store/layout';
import { ROOT, rmTemp, tempDir } from '../helpers/cli';
import { s3rverCredentials, startS3rver, type S3rverHandle } from '../helpers/s3rver';
import { writeClosedRun } from './process/run-fixture';

const WORKER = path.join(ROOT, 'dist', 'worker.js');
const ROLE = 'loadfarm-worker';
const IMDS_TOKEN = 'imds-token-1';
const IMDS_SESSION = 'imds-session-1';
const PROFILE_KEY = 'FROMPROFILE';

interface Signed {
  accessKey: string | undefined;
  sessionToken: string | undefined;
}

interface Recorder {
  readonly url: string;
  readonly seen: Signed[];
  close(): Promise<void>;
}

/** A proxy to s3rver that records what signs each request. */
async function startSigningRecorder(upstream: string): Promise<Recorder> {
  const target = new URL(upstream);
  const seen: Signed[] = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    seen.push({ accessKey: /Credential=([^/]+)\//.exec(auth)?.[1], sessionToken: req.headers['x-amz-security-token'] as string | undefined });
    const out = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

interface Imds {
  readonly url: string;
  /** `METHOD path` of every request, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** IMDSv2 as EC2 answers it, for one role whose credentials s3rver accepts. */
async function startImds(): Promise<Imds> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const tokenOk = req.headers['x-aws-ec2-metadata-token'] === IMDS_TOKEN;
    if (req.method === 'PUT' && req.url === '/latest/api/token') return void res.end(IMDS_TOKEN);
    if (req.method === 'GET' && tokenOk && req.url === '/latest/meta-data/iam/security-credentials/') return void res.end(ROLE);
    if (req.method === 'GET' && tokenOk && req.url === `/latest/meta-data/iam/security-credentials/${ROLE}`) {
      return void res.end(
        JSON.stringify({
          Code: 'Success',
          LastUpdated: new Date().toISOString(),
          Type: 'AWS-HMAC',
          AccessKeyId: s3rverCredentials.accessKeyId,
          SecretAccessKey: s3rverCredentials.secretAccessKey,
          Token: IMDS_SESSION,
          Expiration: new Date(Date.now() + 6 * 3600_000).toISOString(),
        }),
      );
    }
    res.statusCode = tokenOk ? 404 : 401;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

let s3: S3rverHandle;
let front: Recorder;
let imds: Imds;
let dir: string;
let home: Record<string, string>;

beforeAll(async () => {
  s3 = await startS3rver('loadfarm-creds');
  front = await startSigningRecorder(s3.endpoint);
  dir = tempDir('loadfarm-creds-');
  fs.writeFileSync(path.join(dir, 'credentials'), `[farm]\naws_access_key_id = ${PROFILE_KEY}\naws_secret_access_key = ${PROFILE_KEY}\n`);
  fs.writeFileSync(path.join(dir, 'config'), '[profile farm]\nregion = us-east-1\n');
  home = { HOME: dir, AWS_PROFILE: 'farm', AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'credentials'), AWS_CONFIG_FILE: path.join(dir, 'config') };
}, 30_000);
beforeEach(async () => {
  imds = await startImds();
  front.seen.length = 0;
});
afterEach(() => imds.close());
afterAll(async () => {
  await front?.close();
  await s3?.close();
  rmTemp(dir);
});

/** Puts a one-worker no-op run in the bucket and runs the built worker on it with `env` (and nothing else of this process's). */
async function runWorker(runId: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string; status?: { state: string } }> {
  const local = path.join(dir, runId);
  writeClosedRun(local, runId, { scenario: `module.exports = { default: { name: 'noop', load: { users: 1, duration: '100ms' }, async user(u) { await u.think(0.02); } } };`, users: 1, loadMs: 100, graceMs: 0 });
  for (const key of [layout.plan(runId), layout.scenario(runId)]) {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: fs.readFileSync(path.join(local, key)) }));
  }
  let stderr = '';
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(process.execPath, [WORKER, '--store', `s3://${s3.bucket}`, '--run', runId, '--worker', '0', '--s3-endpoint', front.url], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', AWS_EC2_METADATA_SERVICE_ENDPOINT: imds.url, ...home, ...env },
    });
    child.stderr.setEncoding('utf8').on('data', (t: string) => (stderr += t));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.once('error', reject);
    child.once('close', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const status = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: layout.status(runId, 0) })).then(
    async (r) => JSON.parse(await r.Body!.transformToString()) as { state: string },
    () => undefined,
  );
  return { code, stderr, status };
}

test('without credentials in the environment, the instance role (IMDSv2) signs every request, not the profile', async () => {
  const r = await runWorker('imds', {});
  expect(r.code).toBe(0);
  expect(r.status?.state).toBe('done');
  expect(imds.requests.slice(0, 3)).toEqual(['PUT /latest/api/token', 'GET /latest/meta-data/iam/security-credentials/', `GET /latest/meta-data/iam/security-credentials/${ROLE}`]);
  expect(front.seen.length).toBeGreaterThan(0);
  expect(new Set(front.seen.map((s) => `${s.accessKey} ${s.sessionToken}`))).toEqual(new Set([`${s3rverCredentials.accessKeyId} ${IMDS_SESSION}`]));
}, 60_000);

test('credentials in the environment sign every request, even with AWS_PROFILE set, and the instance metadata service is not asked', async () => {
  const r = await runWorker('env', { AWS_ACCESS_KEY_ID: s3rverCredentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s3rverCredentials.secretAccessKey });
  expect(r.code).toBe(0);
  expect(r.status?.state).toBe('done');
  expect(imds.requests).toEqual([]);
  expect(new Set(front.seen.map((s) => `${s.accessKey} ${s.sessionToken}`))).toEqual(new Set([`${s3rverCredentials.accessKeyId} undefined`]));
}, 60_000);

test('with neither (metadata service disabled), the worker fails as a store failure (exit 2) naming what it looked for, and sends nothing', async () => {
  const r = await runWorker('none', { AWS_EC2_METADATA_DISABLED: 'true' });
  expect(r.code).toBe(2);
  expect(r.stderr).toContain('AWS_ACCESS_KEY_ID');
  expect(r.stderr).toContain('AWS_EC2_METADATA_DISABLED');
  expect(imds.requests).toEqual([]);
  expect(front.seen).toEqual([]);
}, 60_000);
