import Module from 'node:module';
import * as path from 'node:path';
import { validateScenario } from './validate';
import type { Scenario } from './types';

/**
 * Evaluates a bundled scenario (CommonJS, `loadfarm` left external) and returns its default
 * export. `require('loadfarm')` inside it resolves to `api`, the running loadfarm, so the
 * scenario and the worker share one copy of the API. Other requires resolve next to `filename`.
 */
export function evaluateScenario(code: string, filename: string, api: unknown): unknown {
  const mod = new Module(filename);
  mod.filename = filename;
  mod.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  const plainRequire = mod.require.bind(mod);
  mod.require = ((id: string) => (id === 'loadfarm' ? api : plainRequire(id))) as NodeJS.Require;
  (mod as unknown as { _compile(code: string, filename: string): void })._compile(code, filename);
  const exports = mod.exports as { default?: unknown; __esModule?: boolean };
  return exports && typeof exports === 'object' && 'default' in exports ? exports.default : exports;
}

/** The scenario, or every problem with it (one line each). */
export function scenarioFrom(value: unknown): { scenario: Scenario } | { problems: string[] } {
  const problems = validateScenario(value);
  if (problems.length > 0) return { problems };
  // A plain object that validates is accepted as well as one from defineScenario().
  return { scenario: value as Scenario };
}
