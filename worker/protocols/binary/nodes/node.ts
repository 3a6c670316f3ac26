/**
 * Compiled layout nodes: what a struct definition becomes once, at `struct(...)` time.
 * Encode and decode walk these nodes with one Cursor per call; nothing else is allocated
 * per field but the decoded values themselves.
 *
 * Contracts shared by every node:
 * - `read` consumes exactly the node's bytes from `c.pos` and fails with a StructError
 *   (never another error) when the input is short or malformed. Nothing is allocated with a
 *   size read from the input before that size is checked against the limits and the bytes
 *   left.
 * - `size` is called before `write` for every variable-size node (`fixed < 0`); it
 *   validates the value's type and limits and returns its encoded length in bytes. For
 *   fixed-size nodes `write` validates alone.
 * - `write` writes exactly `size` bytes at `c.pos`; the caller has made room for them.
 */
import type { Cursor } from './cursor';

export type Endian = 'little' | 'big';
export type StrEncoding = 'utf8' | 'ascii' | 'latin1' | 'hex';
export type Parent = Record<string, unknown>;
/** Called by the dump walk for each leaf value and at the start of each array. */
export type TraceFn = (start: number, end: number, value: unknown, node: Node) => void;

export interface Node {
  /** Type as shown in dumps and messages: `u16be`, `str(16)`, `bytes(u16le)`, … */
  readonly label: string;
  /** Encoded size in bytes when it does not depend on the value, else -1. */
  readonly fixed: number;
  /** Reads to the end of the input (a `rest` field, or a struct that ends with one). */
  readonly greedy: boolean;
  /** Holds other nodes (struct, array): dumps show its children, not its bytes. */
  readonly composite: boolean;
  read(c: Cursor, parent: Parent | undefined): unknown;
  size(v: unknown, c: Cursor, parent: Parent | undefined): number;
  write(v: unknown, c: Cursor, parent: Parent | undefined): void;
}

/** A node whose length or count is held by an earlier integer field of the same struct. */
export interface RefNode extends Node {
  readonly refKey: string;
  /** Items (arrays) or bytes (bytes, strings) the value needs; the value is already validated. */
  refLength(v: unknown): number;
  readonly refUnit: string;
}

export function isRefNode(n: Node): n is RefNode {
  return (n as Partial<RefNode>).refKey !== undefined;
}
