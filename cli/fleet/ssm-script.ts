/**
 * The shell script that SSM Run Command (`AWS-RunShellScript`) runs on a worker machine to
 * start a worker. Pure text building: no AWS, no I/O.
 *
 * One script serves every instance of a SendCommand: the SSM agent sets `AWS_SSM_INSTANCE_ID`
 * (and `AWS_SSM_REGION_NAME`) for Run Command scripts, and a `case` on it picks the worker's
 * own argv. The script is POSIX sh (Amazon Linux runs it with bash, tests with /bin/sh).
 */
import { START_SCRIPT_EXIT } from '../../worker/plan/plan';
import { shellQuote } from './fleet';

export interface WorkerScriptEntry {
  /** EC2 instance (or SSM managed node) id: `i-…` / `mi-…`. */
  readonly instanceId: string;
  /**
   * What that instance runs (`workerCommand(...)`), exec'd in place of the shell. Its program
   * (`argv[0]`, node) must be executable there, else the script exits `START_SCRIPT_EXIT.noNode`.
   */
  readonly argv: readonly string[];
  /**
   * A file the program runs (the worker bundle), checked readable before the exec, else the
   * script exits `START_SCRIPT_EXIT.noBundle`.
   * @default - no check
   */
  readonly bundle?: string;
}

export interface WorkerScriptOptions {
  /** One entry per instance of the command; instance ids are distinct. */
  readonly entries: readonly WorkerScriptEntry[];
  /**
   * A file whose absence means the machine is not set up yet (`WORKER_PATHS.ready`): the
   * script then says so on stderr and exits `START_SCRIPT_EXIT.notReady` instead of starting a
   * worker that cannot run.
   * @default - no check
   */
  readonly readyFile?: string;
}

/** Instance ids are used as `case` patterns: only these characters, so no glob or quote. */
const INSTANCE_ID = /^[A-Za-z0-9-]{1,64}$/;

/**
 * The script: `set -eu`; `AWS_REGION` from `AWS_SSM_REGION_NAME` when unset; the open-files
 * limit raised to its hard limit (best effort); an optional readiness check; then a `case` on
 * `$AWS_SSM_INSTANCE_ID` that checks the instance's node and bundle and `exec`s its argv, so the
 * worker's exit code is the command's (the SSM agent reports it as the invocation's
 * ResponseCode). When the script itself cannot start the worker it writes one line on stderr
 * and exits with a START_SCRIPT_EXIT code (worker/plan/plan.ts), never one a worker uses:
 * no entry for the instance (80), not ready (81), node missing (82), bundle missing (83).
 * @throws Error on no entries, a malformed or repeated instance id, or an empty argv (bugs)
 */
export function workerScript(o: WorkerScriptOptions): string {
  if (o.entries.length === 0) throw new Error('workerScript needs at least one entry');
  const seen = new Set<string>();
  for (const e of o.entries) {
    if (!INSTANCE_ID.test(e.instanceId)) throw new Error(`workerScript: malformed instance id ${JSON.stringify(e.instanceId)}`);
    if (seen.has(e.instanceId)) throw new Error(`workerScript: instance ${e.instanceId} appears twice`);
    if (e.argv.length === 0) throw new Error(`workerScript: empty argv for instance ${e.instanceId}`);
    seen.add(e.instanceId);
  }
  const lines = [
    'set -eu',
    'if [ -z "${AWS_REGION:-}" ] && [ -n "${AWS_SSM_REGION_NAME:-}" ]; then export AWS_REGION="$AWS_SSM_REGION_NAME"; fi',
    // Many sockets per worker; the agent's unit already sets a high limit, this only helps.
    'ulimit -n "$(ulimit -Hn)" 2>/dev/null || true',
    'instance="${AWS_SSM_INSTANCE_ID:-}"',
    // $1: node's path (or a name looked up in PATH); $2: the bundle, or '' for no check.
    'start_worker() {',
    '  if case "$1" in */*) [ ! -x "$1" ] ;; *) ! command -v "$1" >/dev/null 2>&1 ;; esac; then',
    `    echo "loadfarm: instance $instance cannot run node: $1 is missing or not executable (the machine's setup failed)" >&2`,
    `    exit ${START_SCRIPT_EXIT.noNode}`,
    '  fi',
    '  if [ -n "$2" ] && [ ! -r "$2" ]; then',
    `    echo "loadfarm: instance $instance has no worker bundle: $2 is missing or unreadable (the machine's setup failed)" >&2`,
    `    exit ${START_SCRIPT_EXIT.noBundle}`,
    '  fi',
    '}',
  ];
  if (o.readyFile !== undefined) {
    const ready = shellQuote([o.readyFile]);
    lines.push(
      `if [ ! -e ${ready} ]; then`,
      `  echo "loadfarm: instance $instance is not ready: "${ready}" is missing (its setup has not finished, or failed)" >&2`,
      `  exit ${START_SCRIPT_EXIT.notReady}`,
      'fi',
    );
  }
  lines.push('case "$instance" in');
  for (const e of o.entries) {
    lines.push(`  ${e.instanceId}) start_worker ${shellQuote([e.argv[0], e.bundle ?? ''])}; exec ${shellQuote([...e.argv])} ;;`);
  }
  lines.push(
    `  *) echo "loadfarm: instance '$instance' has no worker in this command (AWS_SSM_INSTANCE_ID)" >&2; exit ${START_SCRIPT_EXIT.noWorker} ;;`,
    'esac',
  );
  return lines.join('\n') + '\n';
}
