/**
 * Typed errors of the binary layer. Callers branch on `code`, never on the message.
 *
 * StructError codes:
 * - LF_STRUCT_TRUNCATED  decode: the input ends inside a field.
 * - LF_STRUCT_TRAILING   decode: bytes are left after the message (strict `decode` only).
 * - LF_STRUCT_CONST      decode or encode: a constant/magic field holds another value.
 * - LF_STRUCT_LIMIT      decode or encode: a length or count is above `maxBytes` / `maxCount`
 *                        (checked before anything is allocated for it).
 * - LF_STRUCT_RANGE      encode: a value does not fit its field (integer range, fixed size,
 *                        a count field that disagrees with its array, a target buffer too small).
 * - LF_STRUCT_TYPE       encode: a value of the wrong JavaScript type (a string for a u8, …).
 * - LF_STRUCT_DEFINITION the layout itself is invalid; the message lists every problem.
 *
 * FrameError codes:
 * - LF_FRAME_TOO_LARGE   a frame (or a payload to encode) is above `maxFrameBytes` or does not
 *                        fit the length field; raised before allocating the frame.
 * - LF_FRAME_MALFORMED   a header that cannot be right (a length smaller than the header it
 *                        includes), or a payload that contains its own delimiter.
 * - LF_FRAME_OPTIONS     invalid framing options; the message lists every problem.
 */
export type StructErrorCode =
  | 'LF_STRUCT_TRUNCATED'
  | 'LF_STRUCT_TRAILING'
  | 'LF_STRUCT_CONST'
  | 'LF_STRUCT_LIMIT'
  | 'LF_STRUCT_RANGE'
  | 'LF_STRUCT_TYPE'
  | 'LF_STRUCT_DEFINITION';

export type FrameErrorCode = 'LF_FRAME_TOO_LARGE' | 'LF_FRAME_MALFORMED' | 'LF_FRAME_OPTIONS';

export class StructError extends Error {
  override readonly name = 'StructError';
  /**
   * @param path   where it happened, e.g. `Telemetry.readings[3]` (the struct name alone for
   *               whole-message problems)
   * @param offset byte offset in the buffer being read or written, when there is one
   */
  constructor(
    readonly code: StructErrorCode,
    readonly path: string,
    readonly detail: string,
    readonly offset?: number,
  ) {
    super(`${path}: ${detail}`);
  }
}

export class FrameError extends Error {
  override readonly name = 'FrameError';
  constructor(
    readonly code: FrameErrorCode,
    message: string,
  ) {
    super(message);
  }
}
