import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback S3 front for s3rver that behaves as AWS does where s3rver does not:
 * - the bucket lives in `region`: a request for it signed for another region (the credential
 *   scope in the Authorization header) gets S3's 301 PermanentRedirect with
 *   `x-amz-bucket-region`; HeadBucket signed for the right region gets the header on its 200;
 *   GetBucketLocation names the region whatever region it is signed for. With `regionHeader`
 *   false no answer carries the header (as some S3-compatible stores);
 * - with `conditionalWrites`, PutObject with `If-None-Match: *` gets 412 PreconditionFailed when
 *   the object exists (s3rver 4.0.4 ignores the header and overwrites). Conditional PUTs are
 *   handled one at a time, so two writers of one key cannot both win. With
 *   `loseFirstConditionalAnswer`, the first one is stored and its answer lost (connection cut).
 * Everything else is passed to s3rver as it is. `counts` are what this server saw.
 */
export interface S3FrontOptions {
  /** s3rver's endpoint, e.g. http://127.0.0.1:40123 */
  readonly upstream: string;
  readonly bucket: string;
  readonly region: string;
  /** @default true */
  readonly regionHeader?: boolean;
  /** @default false */
  readonly conditionalWrites?: boolean;
  /** Store the first conditional PUT, then cut the connection instead of answering (a lost response). @default false */
  readonly loseFirstConditionalAnswer?: boolean;
}

export interface S3FrontCounts {
  /** Every request, by the region its signature is scoped to ('unsigned' when none). */
  signedFor: Record<string, number>;
  /** HEAD /bucket requests. */
  headBucket: number;
  /** GET /bucket?location requests. */
  getBucketLocation: number;
  /** 301 answers, by method. */
  redirected: Record<string, number>;
  /** PUTs that carried If-None-Match: *. */
  conditionalPuts: number;
  /** 412 answers. */
  preconditionFailed: number;
}

export interface S3Front {
  readonly endpoint: string;
  readonly counts: S3FrontCounts;
  close(): Promise<void>;
}

export async function startS3Front(o: S3FrontOptions): Promise<S3Front> {
  const upstream = new URL(o.upstream);
  const counts: S3FrontCounts = { signedFor: {}, headBucket: 0, getBucketLocation: 0, redirected: {}, conditionalPuts: 0, preconditionFailed: 0 };
  let conditionalChain: Promise<unknown> = Promise.resolve();

  const forward = (req: http.IncomingMessage, res: http.ServerResponse, extraHeaders: Record<string, string> = {}, loseAnswer = false) => {
    const out = http.request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (loseAnswer) {
          answer.resume();
          answer.on('end', () => res.socket?.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, { ...answer.headers, ...extraHeaders });
        answer.pipe(res);
      },
    );
    out.on('error', (err) => res.destroy(err));
    req.pipe(out);
  };

  /** Status of HEAD on the object in s3rver (it takes unsigned requests). */
  const exists = (path: string) =>
    new Promise<boolean>((resolve, reject) => {
      const head = http.request({ host: upstream.hostname, port: upstream.port, method: 'HEAD', path }, (answer) => {
        answer.resume();
        resolve(answer.statusCode === 200);
      });
      head.on('error', reject);
      head.end();
    });

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://front');
    const scope = /Credential=[^/]+\/\d{8}\/([^/]+)\/s3\/aws4_request/.exec(req.headers.authorization ?? '');
    const signedFor = scope ? scope[1] : 'unsigned';
    counts.signedFor[signedFor] = (counts.signedFor[signedFor] ?? 0) + 1;
    const [, bucket, ...key] = url.pathname.split('/');
    if (bucket !== o.bucket) return forward(req, res);
    const isBucket = key.length === 0 || (key.length === 1 && key[0] === '');
    if (isBucket && req.method === 'HEAD') counts.headBucket++;
    if (isBucket && req.method === 'GET' && url.searchParams.has('location')) counts.getBucketLocation++;

    // GetBucketLocation is answered whatever region it is signed for, as AWS does.
    if (isBucket && req.method === 'GET' && url.searchParams.has('location')) {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/xml' });
      return res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${o.region === 'us-east-1' ? '' : o.region}</LocationConstraint>`,
      );
    }
    const regionHeader: Record<string, string> = o.regionHeader === false ? {} : { 'x-amz-bucket-region': o.region };
    if (signedFor !== o.region) {
      counts.redirected[req.method ?? '?'] = (counts.redirected[req.method ?? '?'] ?? 0) + 1;
      req.resume();
      res.writeHead(301, { ...regionHeader, 'content-type': 'application/xml' });
      if (req.method === 'HEAD') return res.end();
      return res.end(
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PermanentRedirect</Code>' +
          '<Message>The bucket you are attempting to access must be addressed using the specified endpoint. ' +
          'Please send all future requests to this endpoint.</Message>' +
          `<Endpoint>${o.bucket}.s3.${o.region}.amazonaws.com</Endpoint><Bucket>${o.bucket}</Bucket></Error>`,
      );
    }
    if (isBucket && req.method === 'HEAD') return forward(req, res, regionHeader);
    if (o.conditionalWrites && req.method === 'PUT' && !isBucket && req.headers['if-none-match'] === '*') {
      counts.conditionalPuts++;
      const loseAnswer = o.loseFirstConditionalAnswer === true && counts.conditionalPuts === 1;
      req.pause();
      conditionalChain = conditionalChain.then(async () => {
        if (await exists(url.pathname)) {
          counts.preconditionFailed++;
          req.resume();
          res.writeHead(412, { 'content-type': 'application/xml' });
          res.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>');
          return;
        }
        await new Promise<void>((resolve) => {
          res.on('close', resolve);
          forward(req, res, {}, loseAnswer);
        });
      }).catch((err: unknown) => res.destroy(err as Error));
      return undefined;
    }
    return forward(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
