import { SCENARIO_BRAND, type Scenario, type ScenarioConfig } from './types';

/**
 * Marks a scenario module's default export. Validation happens where the scenario is used
 * (`loadfarm validate`, `loadfarm run`, the worker), so that all problems are reported at once.
 */
export function defineScenario(config: ScenarioConfig): Scenario {
  return Object.assign({}, config, { [SCENARIO_BRAND]: true as const });
}

export function isScenario(value: unknown): value is Scenario {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[SCENARIO_BRAND] === true;
}
