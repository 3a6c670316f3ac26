/**
 * Names of one run's SSM commands: where their output goes and the Comment that says which run
 * and workers each one started. Pure text.
 */
import { layout } from '../../worker/store/layout';
import { MAX_COMMENT_LENGTH } from './limits';

/**
 * Output prefix and comment for the commands of run `runId`. Output lands under
 * `runs/<runId>/workers/<i>/ssm/…`, which the instance role may write (`runs/*\/workers/*`).
 */
export function ssmRunNaming(runId: string): { outputPrefix: (index: number) => string; commentFor: (indexes: readonly number[]) => string } {
  return {
    outputPrefix: (index) => `${layout.workerPrefix(runId, index)}ssm`,
    commentFor: (indexes) => commandComment(runId, indexes),
  };
}

/**
 * `loadfarm <runId> worker 3`, or `loadfarm <runId> workers 0-49,60` for a batch; at most 100
 * characters (SendCommand's limit), cut with `...`.
 */
export function commandComment(runId: string, indexes: readonly number[]): string {
  const text = indexes.length === 1 ? `loadfarm ${runId} worker ${indexes[0]}` : `loadfarm ${runId} workers ${ranges(indexes)}`;
  return text.length <= MAX_COMMENT_LENGTH ? text : `${text.slice(0, MAX_COMMENT_LENGTH - 3)}...`;
}

/** `[0,1,2,5,7,8]` → `0-2,5,7-8`. */
function ranges(indexes: readonly number[]): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
