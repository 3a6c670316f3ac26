/** CancelCommand for one worker's invocation, retried when throttled. */
import { CancelCommandCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { retryWithBackoff, type RetryOptions } from '../aws/backoff';
import { hasName } from './ssm-errors';

/** CancelCommand errors meaning there is nothing left to cancel. */
const ALREADY_DONE = new Set(['InvocationDoesNotExist', 'InvalidCommandId', 'InvalidInstanceId']);

/**
 * Cancels the invocation of command `commandId` on `instanceId`, retrying throttling with
 * `retry`. An invocation that ended (or was never created) meanwhile is nothing to cancel and
 * resolves; other errors reject.
 */
export async function cancelInvocation(ssm: SSMClient, commandId: string, instanceId: string, retry: RetryOptions): Promise<void> {
  try {
    await retryWithBackoff(() => ssm.send(new CancelCommandCommand({ CommandId: commandId, InstanceIds: [instanceId] })), retry);
  } catch (err) {
    // The invocation ended (or was never created) meanwhile: nothing is left to cancel.
    if (hasName(err, ALREADY_DONE)) return;
    throw err;
  }
}
