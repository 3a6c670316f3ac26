import * as esbuild from 'esbuild';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { UsageError } from './errors';

/** Builds in flight: esbuild's service process stops when the last one ends. */
let building = 0;

/**
 * Bundles a scenario file and everything it imports into one CommonJS module, leaving
 * `loadfarm` to be provided by whoever evaluates it (the worker, or the CLI for `validate`).
 * Problems (missing file, syntax errors, unresolved imports) become one UsageError listing each
 * with file:line:column.
 */
export async function bundleScenario(file: string): Promise<{ code: string; path: string }> {
  const abs = path.resolve(file);
  if (!fs.existsSync(abs)) throw new UsageError(`scenario ${file}: no such file`);
  if (!fs.statSync(abs).isFile()) throw new UsageError(`scenario ${file}: not a file`);
  let result: esbuild.BuildResult & { outputFiles: esbuild.OutputFile[] };
  building++;
  try {
    result = await esbuild.build({
      entryPoints: [abs],
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['loadfarm'],
      write: false,
      logLevel: 'silent',
      sourcemap: 'inline',
      sourcesContent: false,
    });
  } catch (err) {
    const failure = err as esbuild.BuildFailure;
    const lines = (failure.errors ?? []).map((m) => formatMessage(m));
    throw new UsageError(`scenario ${file} does not build: ${lines[0] ?? (err as Error).message}`, lines.slice(1));
  } finally {
    // esbuild's service process would otherwise live as long as this CLI, using CPU while idle
    // (~0.6 ms/s: a run's whole length); the next build starts another.
    if (--building === 0) await esbuild.stop();
  }
  return { code: result.outputFiles[0].text, path: abs };
}

function formatMessage(m: esbuild.Message): string {
  const where = m.location ? `${path.relative(process.cwd(), m.location.file) || m.location.file}:${m.location.line}:${m.location.column + 1}: ` : '';
  return `${where}${m.text}`;
}
