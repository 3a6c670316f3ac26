import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { isRunId, layout, runIdProblem } from '../../../worker/store/layout';
import { openStore, storeUrlProblem } from '../../../worker/store/open';
import { parseStoreUrl, s3BucketProblem } from '../../../worker/store/url';

describe('store URLs', () => {
  test('file://, plain paths and s3:// parse into where they point', () => {
    expect(parseStoreUrl('file:///tmp/x')).toEqual({ location: { kind: 'file', path: '/tmp/x' } });
    expect(parseStoreUrl('file://.loadfarm')).toEqual({ location: { kind: 'file', path: '.loadfarm' } });
    expect(parseStoreUrl('file://localhost/tmp/x')).toEqual({ location: { kind: 'file', path: '/tmp/x' } });
    expect(parseStoreUrl('file:///tmp/with%20space')).toEqual({ location: { kind: 'file', path: '/tmp/with space' } });
    expect(parseStoreUrl('results/here')).toEqual({ location: { kind: 'file', path: 'results/here' } });
    expect(parseStoreUrl('s3://my-bucket.eu/a//b/')).toEqual({ location: { kind: 's3', bucket: 'my-bucket.eu', keyPrefix: 'a/b/' } });
  });

  test('a bad % escape in file:// is named, with how to write it', () => {
    expect(storeUrlProblem('file://%ZZ')).toBe(
      'a file:// URL whose % escapes are valid UTF-8 ("%ZZ" is not; write a literal % as %25, or give the folder as a plain path)',
    );
    expect(storeUrlProblem('file:///tmp/100%')).toContain('("%" is not;');
    expect(storeUrlProblem('file:///tmp/%FF')).toContain('("%FF" is not;');
    expect(storeUrlProblem('file:///tmp/%C3%A9')).toBeUndefined();
    expect(storeUrlProblem('file://')).toBe('file://DIR naming a folder (file:///abs/path or file://relative/path)');
    expect(storeUrlProblem('file:///tmp/%00')).toBe('a folder path without a NUL character (%00)');
  });

  test("S3's bucket naming rules, each named", () => {
    expect(s3BucketProblem('Bad_Bucket')).toBe(
      'an S3 bucket name of 3-63 lowercase letters, digits, "." and "-", starting and ending with a letter or digit ("Bad_Bucket" has "B", "_"; bucket names are lowercase)',
    );
    expect(s3BucketProblem('ab')).toContain('("ab" has 2 characters)');
    expect(s3BucketProblem('a'.repeat(64))).toContain('has 64 characters');
    expect(s3BucketProblem('-abc')).toContain('starts or ends with "." or "-"');
    expect(s3BucketProblem('a..b')).toContain('without ".."');
    expect(s3BucketProblem('192.168.5.4')).toContain('not an IP address');
    expect(s3BucketProblem('xn--abc')).toContain('reserved "xn--"');
    expect(s3BucketProblem('abc-s3alias')).toContain('reserved "-s3alias"');
    for (const ok of ['abc', 'my-bucket', 'my.bucket.1', 'a'.repeat(63)]) expect(s3BucketProblem(ok)).toBeUndefined();
    expect(storeUrlProblem('s3://Bad_Bucket/runs')).toBe(s3BucketProblem('Bad_Bucket'));
    expect(storeUrlProblem('ftp://x')).toBe('file://DIR, s3://BUCKET/PREFIX or a folder path');
  });

  test('openStore refuses a bad URL and a path that is a file with a StoreError, one line each', async () => {
    await expect(openStore('file://%ZZ')).rejects.toMatchObject({
      name: 'StoreError',
      code: 'STORE_BAD_URL',
      message: '--store: expected a file:// URL whose % escapes are valid UTF-8 ("%ZZ" is not; write a literal % as %25, or give the folder as a plain path), got "file://%ZZ"',
    });
    await expect(openStore('s3://Bad_Bucket')).rejects.toMatchObject({ code: 'STORE_BAD_URL' });
    const dir = await mkdtemp(path.join(tmpdir(), 'loadfarm-url-'));
    try {
      await writeFile(path.join(dir, 'f'), 'x');
      await expect(openStore(`file://${dir}/f`)).rejects.toMatchObject({ code: 'STORE_NOT_FOLDER' });
      await expect(openStore('f', { cwd: dir })).rejects.toMatchObject({ code: 'STORE_NOT_FOLDER' });
      expect((await openStore('file://sub', { cwd: dir })).url).toBe(`file://${dir}/sub`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('run ids', () => {
  test('a run id that could leave runs/<runId>/ is refused by every layout key, with StoreError STORE_BAD_RUN_ID', () => {
    for (const bad of ['../../etc', '..', '.', 'a/b', 'a\\b', '', '-rf', 'x..y', 'a b', 'é', 'x'.repeat(129)]) {
      expect(isRunId(bad)).toBe(false);
      expect(() => layout.plan(bad)).toThrow(expect.objectContaining({ name: 'StoreError', code: 'STORE_BAD_RUN_ID' }));
      expect(() => layout.snapshot(bad, 0, 1)).toThrow(expect.objectContaining({ code: 'STORE_BAD_RUN_ID' }));
    }
    expect(runIdProblem('../../etc')).toBe(
      'run id "../../etc": expected letters, digits, ".", "_" and "-" (starting with a letter or digit, at most 128, no "..") like 20261123-181400-devices-a1b2; `loadfarm runs` lists the runs',
    );
  });

  test('the ids loadfarm makes, and plain names, are accepted', () => {
    for (const ok of ['20261123-181400-devices-a1b2', 'r1', 'run-1', 'R_2.b', 'x'.repeat(128)]) {
      expect(isRunId(ok)).toBe(true);
      expect(layout.plan(ok)).toBe(`runs/${ok}/plan.json`);
    }
    expect(layout.snapshot('r1', 2, 7)).toBe('runs/r1/workers/2/snapshots/000007.json');
  });
});
