/**
 * Polling one command's invocations (ListCommandInvocations), and the interval between polls
 * of that command: doubled while it is throttled or failing, back to the base on a clean
 * refresh (see SsmFleetOptions.pollMs).
 */
import { paginateListCommandInvocations, type CommandInvocation, type SSMClient } from '@aws-sdk/client-ssm';
import { isThrottling } from '../aws/backoff';
import type { Clock } from '../aws/poll';
import { MAX_INSTANCES_PER_COMMAND } from './limits';
import { hasName, NOT_THERE_YET } from './ssm-errors';
import type { SentCommand } from './ssm-state';

/** SsmFleetOptions' polling intervals with their defaults applied. */
export interface PollPolicy {
  readonly clock: Clock;
  /** Interval after a clean refresh, ms. */
  readonly basePollMs: number;
  /** Longest interval, ms (at least `basePollMs`). */
  readonly maxPollMs: number;
  /** SSM's consistency window after SendCommand, ms. */
  readonly windowMs: number;
}

/**
 * Refreshes the invocations of `command` unless done less than its interval ago; concurrent
 * callers share one refresh. Throttling, and invocations not there yet, keep what was known;
 * other errors reject (this time only). See `pollMs` for how the interval moves.
 */
export function refreshInvocations(ssm: SSMClient, command: SentCommand, p: PollPolicy): Promise<void> {
  if (command.refreshing) return command.refreshing;
  if (command.fetchedAt !== undefined && p.clock.now() - command.fetchedAt < command.intervalMs) return Promise.resolve();
  command.refreshing = (async () => {
    const inWindow = p.clock.now() - command.sentAt < p.windowMs;
    try {
      const fresh = new Map<string, CommandInvocation>();
      const pages = paginateListCommandInvocations(
        { client: ssm, pageSize: MAX_INSTANCES_PER_COMMAND },
        { CommandId: command.id, Details: false },
      );
      for await (const page of pages) {
        for (const inv of page.CommandInvocations ?? []) if (inv.InstanceId) fresh.set(inv.InstanceId, inv);
      }
      command.invocations = fresh;
      if (inWindow || command.instanceIds.every((id) => fresh.has(id))) speedUp(command, p);
      else slowDown(command, p);
    } catch (err) {
      if (hasName(err, NOT_THERE_YET) && inWindow) return;
      slowDown(command, p);
      if (!isThrottling(err) && !hasName(err, NOT_THERE_YET)) throw err;
    } finally {
      command.fetchedAt = p.clock.now();
      command.refreshing = undefined;
    }
  })();
  return command.refreshing;
}

/** Doubles `command`'s interval between refreshes, up to `maxPollMs`. */
export function slowDown(command: SentCommand, p: PollPolicy): void {
  command.intervalMs = Math.min(p.maxPollMs, command.intervalMs * 2);
}

/** Puts `command`'s interval back to `basePollMs`. */
function speedUp(command: SentCommand, p: PollPolicy): void {
  command.intervalMs = p.basePollMs;
}
