/**
 * What an SSM command invocation says about its worker: its Status (+ StatusDetails) and, once
 * it failed, its ResponseCode. Every label says what happened and what the person must fix.
 * Pure: no AWS calls.
 */
import { START_SCRIPT_EXIT } from '../../worker/plan/plan';

export type InvocationClass =
  | { readonly kind: 'running' }
  | { readonly kind: 'success' }
  /** Ran and ended non-zero: the exit code comes from GetCommandInvocation's ResponseCode. */
  | { readonly kind: 'failed' }
  /** `cancelled`: the command was cancelled (by someone). */
  | { readonly kind: 'lost'; readonly detail: string; readonly cancelled?: boolean };

/**
 * What an invocation's `Status` (+ `StatusDetails`) means for its worker. Pending, InProgress,
 * Delayed and Cancelling are still running; Failed is the worker's own non-zero exit unless
 * the details say the worker never ran or was killed (Undeliverable, Terminated, Execution
 * Timed Out, …); TimedOut, Cancelled, Undeliverable and Terminated lose the worker. A status
 * this code does not know counts as running (the run's deadline still bounds it).
 */
export function classifyInvocation(inv: { readonly Status?: string; readonly StatusDetails?: string }): InvocationClass {
  const status = squash(inv.Status);
  const details = squash(inv.StatusDetails);
  switch (status) {
    case 'pending':
    case 'inprogress':
    case 'delayed':
    case 'cancelling':
      return { kind: 'running' };
    case 'success':
      return { kind: 'success' };
    case 'failed':
      return LOST_BY_DETAILS.has(details) ? { kind: 'lost', detail: LOST_BY_DETAILS.get(details)! } : { kind: 'failed' };
    case 'timedout':
      return { kind: 'lost', detail: LOST_BY_DETAILS.get(details === 'deliverytimedout' ? details : 'executiontimedout')! };
    case 'cancelled':
      return { kind: 'lost', detail: 'the SSM command was cancelled (by someone else: `aws ssm cancel-command`, or the console)', cancelled: true };
    default:
      return LOST_BY_DETAILS.has(status) ? { kind: 'lost', detail: LOST_BY_DETAILS.get(status)! } : { kind: 'running' };
  }
}

/** Why a worker is lost, by squashed status or status details, with what to do about it. */
const LOST_BY_DETAILS: ReadonlyMap<string, string> = new Map([
  ['undeliverable', 'SSM could not deliver the command (Undeliverable): the instance is gone or its SSM agent is not responding; check `loadfarm envs`, or run with --exclude-lost'],
  ['terminated', 'SSM terminated the invocation before it ran (Terminated): the instance was stopped or replaced; run again'],
  ['deliverytimedout', 'SSM could not deliver the command before its delivery timeout (Delivery Timed Out): the instance is unreachable; check `loadfarm envs`, or run with --exclude-lost'],
  ['executiontimedout', "SSM killed the worker at the command's execution timeout (Execution Timed Out): the worker overran its plan; its last snapshots are missing"],
  ['accessdenied', "SSM refused the command on the instance (Access Denied): the instance role lacks SSM permissions; deploy the environment again"],
  ['invalidplatform', 'the instance cannot run AWS-RunShellScript (Invalid Platform): it is not a Linux loadfarm worker; deploy the environment again'],
]);

/** `"Delivery Timed Out"` → `deliverytimedout`. */
function squash(s: string | undefined): string {
  return (s ?? '').replace(/[\s_-]+/g, '').toLowerCase();
}

/**
 * The line for a worker whose start script (cli/fleet/ssm-script.ts) could not start it, by
 * the script's exit code; undefined for any other code (the worker's own, WORKER_EXIT).
 * `said` is the tail of the invocation's stderr (the script's own line).
 */
export function startScriptProblem(code: number, instanceId: string, said: string | undefined): string | undefined {
  const line = said ? `: ${said}` : '';
  switch (code) {
    case START_SCRIPT_EXIT.noWorker:
      return `not started: SSM ran the start command on ${instanceId}, which has no worker in it (a loadfarm bug: please report it)${line}`;
    case START_SCRIPT_EXIT.notReady:
      return `not started: instance ${instanceId} has not finished its setup${line}; wait a few minutes and run again, or deploy the environment again if it persists`;
    case START_SCRIPT_EXIT.noNode:
      return `not started: instance ${instanceId} has no usable node${line}; deploy the environment again (\`loadfarm up\`)`;
    case START_SCRIPT_EXIT.noBundle:
      return `not started: instance ${instanceId} has no worker bundle${line}; deploy the environment again (\`loadfarm up\`)`;
    case 126:
    case 127:
      return `not started: the shell on ${instanceId} could not run the worker (exit ${code})${line}; deploy the environment again (\`loadfarm up\`)`;
    default:
      return undefined;
  }
}

/** How many lines of a failed worker's stderr go into its detail. */
const STDERR_TAIL_LINES = 3;
const STDERR_TAIL_CHARS = 300;

/** The last few non-empty lines of `text`, joined with ` | `, at most 300 characters. */
export function stderrTail(text: string | undefined): string | undefined {
  const lines = (text ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  if (lines.length === 0) return undefined;
  const tail = lines.slice(-STDERR_TAIL_LINES).join(' | ');
  return tail.length <= STDERR_TAIL_CHARS ? tail : `...${tail.slice(-(STDERR_TAIL_CHARS - 3))}`;
}
