import { parseSourceIps } from '../../worker/net/source-ips';
import { ceiling, describeCeiling, FD_RESERVE } from '../../cli/preflight';

describe('parseSourceIps', () => {
  it('takes lists, ranges and CIDR blocks, in any mix', () => {
    expect(parseSourceIps('127.0.0.2,127.0.0.3')).toEqual({ ips: ['127.0.0.2', '127.0.0.3'] });
    expect(parseSourceIps('127.0.0.254-127.0.1.1')).toEqual({ ips: ['127.0.0.254', '127.0.0.255', '127.0.1.0', '127.0.1.1'] });
    expect(parseSourceIps('127.0.0.0/29')).toEqual({ ips: ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6'] });
    expect(parseSourceIps('10.0.0.7/32, 10.0.0.7')).toEqual({ ips: ['10.0.0.7'] });
  });
  it('says what is wrong', () => {
    expect(parseSourceIps('127.0.0.300')).toEqual({ problem: '127.0.0.300: expected an IPv4 address' });
    expect(parseSourceIps('127.0.0.9-127.0.0.2')).toEqual({ problem: '127.0.0.9-127.0.0.2: the range ends before it starts' });
    expect(parseSourceIps('127.0.0.0/8')).toEqual({ problem: '127.0.0.0/8: expected an IPv4 CIDR block from /16 to /32' });
    expect(parseSourceIps('::1')).toEqual({ problem: '::1: expected an IPv4 address' });
    expect(parseSourceIps(' , ')).toEqual({ problem: 'no address given' });
  });
});

describe('ceiling', () => {
  const limits = { nofile: 20_000, ports: { low: 32_768, high: 60_999 } };
  it('is the lower of sockets per process × workers and ports × source addresses', () => {
    expect(ceiling(limits, 1, 0)).toMatchObject({ bySockets: 20_000 - FD_RESERVE, byPorts: 28_232, connections: 20_000 - FD_RESERVE });
    expect(ceiling(limits, 6, 0).connections).toBe(28_232);
    expect(ceiling(limits, 6, 5).connections).toBe(6 * (20_000 - FD_RESERVE));
  });
  it('says plainly what to change when more are wanted', () => {
    expect(describeCeiling(ceiling(limits, 1, 0), 1, 0, 50_000)).toBe(
      'preflight: ulimit -n 20000 × 1 worker(s) → 19,936 sockets; ports 32768-60999 × 1 source address(es) → 28,232 connections per target address: ceiling ~19,936 connections; 50,000 wanted is above it: add --workers',
    );
    expect(describeCeiling(ceiling(limits, 6, 0), 6, 0, 100_000)).toMatch(/100,000 wanted is above it: add --source-ips$/);
    expect(describeCeiling(ceiling({ nofile: null, ports: null }, 1, 0), 1, 0)).toBe('preflight: limits unknown');
  });
});
