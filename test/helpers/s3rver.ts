import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

export interface S3rverHandle {
  /** e.g. http://127.0.0.1:40123 */
  readonly endpoint: string;
  /** A bucket that exists and is empty at start. */
  readonly bucket: string;
  /** A client for the server, to look behind a store's back. */
  readonly client: S3Client;
  /** Stops the server, waits for its process to end, and removes its folder. */
  close(): Promise<void>;
}

/** Credentials s3rver accepts (it checks none: allowMismatchedSignatures). */
export const s3rverCredentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/**
 * Starts a real S3 protocol server (@20minutes/s3rver) on 127.0.0.1, a free port, in a temp
 * folder, and creates `bucket` in it. The server runs in a child process with
 * --openssl-legacy-provider (see s3rver-process.js): without it, ListObjectsV2 continuation
 * tokens fail. The child exits when this process does, even without `close()`.
 */
export async function startS3rver(bucket = 'loadfarm-test'): Promise<S3rverHandle> {
  const directory = await mkdtemp(path.join(tmpdir(), 'loadfarm-s3rver-'));
  const child = spawn(
    process.execPath,
    ['--openssl-legacy-provider', path.join(__dirname, 's3rver-process.js'), directory],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`s3rver did not start in ${START_TIMEOUT_MS} ms: ${stderr}`)), START_TIMEOUT_MS);
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      resolve((JSON.parse(line) as { port: number }).port);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`s3rver exited with ${code} before listening: ${stderr}`));
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    await rm(directory, { recursive: true, force: true });
    throw err;
  });

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    credentials: s3rverCredentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));

  return {
    endpoint,
    bucket,
    client,
    async close() {
      client.destroy();
      child.stdin.end(); // the child exits when its stdin closes
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      await exited;
      clearTimeout(timer);
      await rm(directory, { recursive: true, force: true });
    },
  };
}
