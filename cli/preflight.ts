import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { groupThousands } from './report/thousands';

/** What this machine allows a farm of local workers to hold open at once. */
export interface Ceiling {
  /** Open files per process (`ulimit -n`), or null when unknown. */
  nofile: number | null;
  /** Ephemeral ports (`net.ipv4.ip_local_port_range`), or null when unknown. */
  ports: { low: number; high: number } | null;
  /** Sockets the workers can hold: workers × (nofile − reserve). */
  bySockets: number | null;
  /** Connections to one target address: max(1, source addresses) × ports. */
  byPorts: number | null;
  /** The lower of the two. */
  connections: number | null;
}

/** File descriptors a worker needs for itself (stdio, store, timers, node internals). */
export const FD_RESERVE = 64;

export function readLimits(): { nofile: number | null; ports: { low: number; high: number } | null } {
  let nofile: number | null = null;
  try {
    const text = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    nofile = text === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(text) || null;
  } catch {
    nofile = null;
  }
  let ports: { low: number; high: number } | null = null;
  try {
    const [low, high] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    if (low > 0 && high >= low) ports = { low, high };
  } catch {
    ports = null;
  }
  return { nofile, ports };
}

/** The ceiling the limits imply. Pure. */
export function ceiling(limits: { nofile: number | null; ports: { low: number; high: number } | null }, workers: number, sourceIps: number): Ceiling {
  const bySockets = limits.nofile === null ? null : workers * Math.max(0, limits.nofile - FD_RESERVE);
  const byPorts = limits.ports === null ? null : Math.max(1, sourceIps) * (limits.ports.high - limits.ports.low + 1);
  const known = [bySockets, byPorts].filter((n): n is number => n !== null);
  return { ...limits, bySockets, byPorts, connections: known.length > 0 ? Math.min(...known) : null };
}

/** One plain line: what the limits imply, and what to change when `wanted` is above it. */
export function describeCeiling(c: Ceiling, workers: number, sourceIps: number, wanted?: number): string {
  const parts: string[] = [];
  if (c.bySockets !== null) parts.push(`ulimit -n ${c.nofile} × ${workers} worker(s) → ${fmt(c.bySockets)} sockets`);
  if (c.byPorts !== null && c.ports) parts.push(`ports ${c.ports.low}-${c.ports.high} × ${Math.max(1, sourceIps)} source address(es) → ${fmt(c.byPorts)} connections per target address`);
  let line = `preflight: ${parts.join('; ') || 'limits unknown'}${c.connections !== null ? `: ceiling ~${fmt(c.connections)} connections` : ''}`;
  if (wanted !== undefined && c.connections !== null && wanted > c.connections) {
    const fix = c.bySockets !== null && c.bySockets <= (c.byPorts ?? Infinity) ? 'add --workers' : 'add --source-ips';
    line += `; ${fmt(wanted)} wanted is above it: ${fix}`;
  }
  return line;
}

function fmt(n: number): string {
  return n >= Number.MAX_SAFE_INTEGER / 2 ? 'unlimited' : groupThousands(n);
}
