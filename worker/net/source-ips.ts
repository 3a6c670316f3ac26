import { isIPv4 } from 'node:net';

/**
 * Local addresses to spread outgoing connections over, written as a list, a range or a CIDR
 * block, or any mix separated by commas:
 *   127.0.0.2,127.0.0.3 · 127.0.0.2-127.0.0.20 · 127.0.0.0/28
 * A CIDR block of /30 or wider leaves out its network and broadcast addresses. IPv4 only.
 * At most MAX_SOURCE_IPS addresses.
 */
export const MAX_SOURCE_IPS = 4096;

export function parseSourceIps(text: string): { ips: string[] } | { problem: string } {
  const ips: string[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    let from: number;
    let to: number;
    if (part.includes('/')) {
      const [addr, bitsText] = part.split('/');
      const bits = Number(bitsText);
      if (!isIPv4(addr) || !/^\d+$/.test(bitsText) || bits < 16 || bits > 32) return { problem: `${part}: expected an IPv4 CIDR block from /16 to /32` };
      const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
      const network = (toInt(addr) & mask) >>> 0;
      const broadcast = (network | (~mask >>> 0)) >>> 0;
      [from, to] = bits <= 30 ? [network + 1, broadcast - 1] : [network, broadcast];
    } else if (part.includes('-')) {
      const [a, b] = part.split('-').map((s) => s.trim());
      if (!isIPv4(a) || !isIPv4(b)) return { problem: `${part}: expected a range of IPv4 addresses like 127.0.0.2-127.0.0.20` };
      [from, to] = [toInt(a), toInt(b)];
      if (to < from) return { problem: `${part}: the range ends before it starts` };
    } else {
      if (!isIPv4(part)) return { problem: `${part}: expected an IPv4 address` };
      from = to = toInt(part);
    }
    if (ips.length + (to - from + 1) > MAX_SOURCE_IPS) return { problem: `more than ${MAX_SOURCE_IPS} addresses` };
    for (let n = from; n <= to; n++) ips.push(toText(n));
  }
  if (ips.length === 0) return { problem: 'no address given' };
  return { ips: [...new Set(ips)] };
}

function toInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => ((acc << 8) | Number(octet)) >>> 0, 0);
}

function toText(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}
