/** What an SSM fleet keeps of the commands it sent (or adopted) and of the workers they started. */
import type { CommandInvocation } from '@aws-sdk/client-ssm';
import type { FleetWorkerState } from './fleet';

export interface SentCommand {
  readonly id: string;
  readonly instanceIds: readonly string[];
  /** When SendCommand returned (or, for an adopted command, when it was recorded as sent), epoch ms. */
  readonly sentAt: number;
  /** Latest invocations by instance id. */
  invocations: Map<string, CommandInvocation>;
  fetchedAt?: number;
  /** This command's current interval between refreshes, ms. */
  intervalMs: number;
  refreshing?: Promise<void>;
}

export interface StartedWorker {
  readonly instanceId: string;
  readonly command: SentCommand;
  /** Once known, the state never changes. */
  final?: FleetWorkerState;
  /** When a failed invocation's exit code may be asked for (again), ms. */
  detailsAfter?: number;
  cancelled?: boolean;
}
