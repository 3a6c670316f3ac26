/** The final state of a worker whose invocation Failed, from one GetCommandInvocation. */
import { GetCommandInvocationCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { isThrottling } from '../aws/backoff';
import { describeError } from '../aws/error-kind';
import type { FleetWorkerState } from './fleet';
import { startScriptProblem, stderrTail } from './invocation';
import { hasName, NOT_THERE_YET } from './ssm-errors';
import { slowDown, type PollPolicy } from './ssm-poll';
import type { StartedWorker } from './ssm-state';

/**
 * The final state of a worker whose invocation Failed, or undefined to ask again later
 * (throttled, or the invocation not visible to GetCommandInvocation yet); `unknown` when SSM
 * says it does not exist past the consistency window.
 */
export async function failedWorkerState(ssm: SSMClient, w: StartedWorker, p: PollPolicy): Promise<FleetWorkerState | undefined> {
  if (w.detailsAfter !== undefined && p.clock.now() < w.detailsAfter) return undefined;
  // Concurrent callers meanwhile see the worker running, rather than asking twice.
  w.detailsAfter = p.clock.now() + w.command.intervalMs;
  let out;
  try {
    out = await ssm.send(new GetCommandInvocationCommand({ CommandId: w.command.id, InstanceId: w.instanceId }));
  } catch (err) {
    if (hasName(err, NOT_THERE_YET)) {
      const waited = p.clock.now() - w.command.sentAt;
      if (waited < p.windowMs) return undefined;
      return { state: 'unknown', detail: `SSM says the invocation of command ${w.command.id} on ${w.instanceId} does not exist (${describeError(err)})` };
    }
    slowDown(w.command, p);
    w.detailsAfter = p.clock.now() + w.command.intervalMs;
    if (isThrottling(err)) return undefined;
    throw err;
  }
  const code = out.ResponseCode;
  const said = stderrTail(out.StandardErrorContent);
  if (code === undefined || code < 0) {
    const why = out.StatusDetails ? `SSM: ${out.StatusDetails}` : 'SSM: Failed';
    return (w.final = { state: 'lost', detail: `${why}, with no exit code (${code ?? 'none'})${said ? `: ${said}` : ''}` });
  }
  const scriptProblem = startScriptProblem(code, w.instanceId, said);
  if (scriptProblem) return (w.final = { state: 'lost', detail: scriptProblem });
  return (w.final = { state: 'exited', exitCode: code, detail: said ?? (out.StatusDetails ? `SSM: ${out.StatusDetails}` : undefined) });
}
