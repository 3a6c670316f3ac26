import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FileStore } from '../../worker/store/file';
import { openWorkerData } from '../../worker/data/open';
import type { DataSet } from '../../worker/data/set';
import type { Scenario } from '../../worker/scenario/types';
import { UsageError } from '../errors';
import { plannedData, prepareData, uploadData } from './prepare';

/** Run id of the throwaway store a dry run's data goes through. */
const DRY_RUN_ID = 'validate';

/**
 * A scenario's data sets as one worker of one would open them (`loadfarm validate`): checked
 * like `run` checks them (a UsageError per bad file), cut into parts in a temporary store and
 * opened through the worker's own path, so a dry run draws what a run would. `close()` removes
 * the temporary store. No data declared: no sets, nothing made.
 */
export async function openLocalData(scenario: Scenario, scenarioPath: string): Promise<{ sets: ReadonlyMap<string, DataSet>; warnings: string[]; close(): void }> {
  if (!scenario.data || Object.keys(scenario.data).length === 0) return { sets: new Map(), warnings: [], close: () => undefined };
  const prepared = prepareData(scenario, scenarioPath, 1);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loadfarm-validate-'));
  const close = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    const store = new FileStore(dir);
    await uploadData(store, DRY_RUN_ID, prepared);
    const opened = await openWorkerData({ store, runId: DRY_RUN_ID, index: 0, data: plannedData(prepared, DRY_RUN_ID) ?? {}, stop: () => undefined, tmpDir: dir });
    if ('exit' in opened) throw new UsageError(`data: ${opened.message}`);
    return {
      sets: opened.data.sets,
      warnings: prepared.warnings,
      close: () => {
        opened.data.close();
        close();
      },
    };
  } catch (err) {
    close();
    throw err;
  }
}
