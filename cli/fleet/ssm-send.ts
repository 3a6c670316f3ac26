/** The SendCommand that starts workers on their instances (one AWS-RunShellScript for up to 50), retried when throttled. */
import { SendCommandCommand, type SendCommandCommandInput } from '@aws-sdk/client-ssm';
import { WORKER_PATHS } from '../../infra/names';
import { retryWithBackoff, type RetryOptions } from '../aws/backoff';
import { MAX_COMMENT_LENGTH } from './limits';
import type { SsmFleetOptions } from './ssm-options';
import { workerScript } from './ssm-script';

/**
 * Sends one command starting workers `indexes` (at most 50, each on its `o.instances[index]`,
 * running `command(index)`), retrying throttling with `retry`. Resolves with the command id and
 * the instance ids in `indexes` order; rejects with the SDK's error, or when SSM answers
 * without a command id.
 */
export async function sendStartCommand(
  o: SsmFleetOptions,
  retry: RetryOptions,
  indexes: readonly number[],
  command: (index: number) => string[],
): Promise<{ readonly id: string; readonly instanceIds: readonly string[] }> {
  const bundleOf = o.bundleOf ?? ((argv: readonly string[]) => argv[1]);
  const entries = indexes.map((index) => {
    const argv = command(index);
    return { instanceId: o.instances[index], argv, bundle: bundleOf(argv) };
  });
  const readyFile = o.readyFile === undefined ? WORKER_PATHS.ready : o.readyFile ?? undefined;
  const input: SendCommandCommandInput = {
    DocumentName: 'AWS-RunShellScript',
    InstanceIds: entries.map((e) => e.instanceId),
    Parameters: {
      commands: [workerScript({ entries, readyFile })],
      executionTimeout: [String(o.executionTimeoutSeconds)],
    },
    TimeoutSeconds: o.deliveryTimeoutSeconds ?? 120,
    Comment: cut(o.commentFor(indexes), MAX_COMMENT_LENGTH),
    OutputS3BucketName: o.bucket,
    OutputS3KeyPrefix: o.outputPrefix(indexes[0]),
    // Every instance at once, and one worker failing never stops SSM sending to the others
    // (the default MaxErrors of 0 would).
    MaxConcurrency: '100%',
    MaxErrors: '100%',
  };
  const out = await retryWithBackoff(() => o.ssm.send(new SendCommandCommand(input)), retry);
  const id = out.Command?.CommandId;
  if (!id) throw new Error('SSM SendCommand answered without a command id');
  return { id, instanceIds: input.InstanceIds! };
}

function cut(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
