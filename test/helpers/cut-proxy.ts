import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CutProxy {
  /** e.g. http://127.0.0.1:40123: give it as the S3 endpoint. */
  readonly endpoint: string;
  /** Requests forwarded whole. */
  readonly forwarded: number;
  /** Response bodies cut mid-way (socket destroyed after half the body). */
  readonly cut: number;
  /**
   * Cuts the next `n` responses to GET requests whose path satisfies `match`: the status and
   * headers (with the full Content-Length) are sent, then half the body, then the socket is
   * destroyed.
   */
  cutNext(n: number, match: (path: string) => boolean): void;
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1 in front of `upstream` (an S3 protocol server) that can cut
 * response bodies mid-way, as a dropped Wi-Fi connection does.
 */
export async function startCutProxy(upstream: string): Promise<CutProxy> {
  const target = new URL(upstream);
  let forwarded = 0;
  let cut = 0;
  let toCut = 0;
  let match: (path: string) => boolean = () => false;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const body: Buffer[] = [];
          upRes.on('data', (c: Buffer) => body.push(c));
          upRes.on('end', () => {
            const whole = Buffer.concat(body);
            const cutThis = req.method === 'GET' && toCut > 0 && whole.length > 1 && match(req.url ?? '');
            res.writeHead(upRes.statusCode ?? 502, upRes.headers);
            if (!cutThis) {
              forwarded++;
              res.end(whole);
              return;
            }
            toCut--;
            cut++;
            res.write(whole.subarray(0, Math.floor(whole.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
          });
        },
      );
      up.on('error', () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get forwarded() {
      return forwarded;
    },
    get cut() {
      return cut;
    },
    cutNext(n, m) {
      toCut = n;
      match = m;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
