/** SSM errors the fleet acts on, by the error's name (the service's error code, as the SDK sets it). */

/** Errors of a command or invocation SSM does not show (yet, or any more). */
export const NOT_THERE_YET = new Set(['InvocationDoesNotExist', 'InvalidCommandId']);

/** Whether `err` is an error whose `name` is one of `names`. */
export function hasName(err: unknown, names: ReadonlySet<string>): boolean {
  return typeof err === 'object' && err !== null && names.has(String((err as { name?: unknown }).name));
}
