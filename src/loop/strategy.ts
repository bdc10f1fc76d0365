import { UsageError } from '../core/index.js';
import type { ClusterScoring } from './codet.js';

/**
 * A solve strategy as data. The named strategies are presets of these knobs, and every knob can be overridden, so
 * "repair+select with 8 samples and 2 rounds" is `resolveStrategy('repair+select', { samples: 8, repairRounds: 2 })`.
 */
export interface Strategy {
  /** Independent first samples (resample: attempts at rising temperature; select: the candidates). */
  samples: number;
  /** Repair rounds after each sample that fails its visible tests: feedback in, a fixed program out. 0 = no repair. */
  repairRounds: number;
  /** Choose among the candidates with model-generated tests (`codet`, `mbr-exec`), or take the first/best (`none`). */
  select: 'none' | 'codet' | 'mbr-exec';
  /** CodeT cluster score: `codet` = |tests| × sqrt(|solutions|) (CodeT's code), `paper` = |tests| × |solutions|. */
  scoring: ClusterScoring;
  /** Model calls asking for tests (each gives several), when selecting or when `generateTests`. */
  testSamples: number;
  /** Tests asked for per call; CodeT keeps the first 5 of each. */
  testsPerSample: number;
  /** Generate tests even without selection, so repair sees them as feedback. */
  generateTests: boolean;
  /** Temperature of the first sample. */
  temperature: number;
  /** Each further sample's temperature rises by this much ("warming"), up to `maxTemperature`. */
  temperatureStep: number;
  maxTemperature: number;
  /** Temperature of repair calls. */
  repairTemperature: number;
  /** Temperature of test-generation calls (CodeT: 0.8). */
  testTemperature: number;
  /** Without selection, stop at the first candidate that passes its visible tests. */
  stopOnVisiblePass: boolean;
  /**
   * What a chat repair call sees: `last` = the task, the previous answer and its feedback (Olausson et al.'s repair;
   * the prompt stays the same size round after round), `full` = the whole conversation so far (Self-Debugging's
   * multi-turn form; grows every round).
   */
  repairContext: 'last' | 'full';
}

export type StrategyName = 'resample' | 'repair' | 'select' | 'repair+select';
export const STRATEGY_NAMES: readonly StrategyName[] = ['resample', 'repair', 'select', 'repair+select'];

const BASE: Strategy = {
  samples: 1,
  repairRounds: 0,
  select: 'none',
  scoring: 'codet',
  testSamples: 2,
  testsPerSample: 5,
  generateTests: false,
  temperature: 0,
  temperatureStep: 0.2,
  maxTemperature: 1,
  repairTemperature: 0,
  testTemperature: 0.8,
  stopOnVisiblePass: true,
  repairContext: 'last',
};

const PRESETS: Record<StrategyName, Partial<Strategy>> = {
  // Warming: greedy first, then hotter samples; Kapoor et al. find this a strong baseline.
  resample: { samples: 4, temperature: 0, temperatureStep: 0.2 },
  // One sample, then up to 3 repairs (Self-Debugging: most of the gain comes in the first round).
  repair: { samples: 1, repairRounds: 3 },
  // CodeT: sampled candidates (CodeT samples at 0.8), ranked by agreement with generated tests.
  select: {
    samples: 4,
    temperature: 0.8,
    temperatureStep: 0,
    maxTemperature: 0.8,
    select: 'codet',
    stopOnVisiblePass: false,
  },
  // Candidates are repaired against public and generated tests, then the final ones are ranked by agreement.
  'repair+select': {
    samples: 3,
    repairRounds: 2,
    temperature: 0.8,
    temperatureStep: 0,
    maxTemperature: 0.8,
    select: 'codet',
    stopOnVisiblePass: false,
  },
};

export function resolveStrategy(name: StrategyName, overrides: Partial<Strategy> = {}): Strategy {
  const preset = PRESETS[name];
  if (preset === undefined)
    throw new UsageError(`Unknown strategy ${JSON.stringify(name)}: use one of ${STRATEGY_NAMES.join(', ')}.`);
  const strategy: Strategy = {
    ...BASE,
    ...preset,
    ...Object.fromEntries(Object.entries(overrides).filter(([, value]) => value !== undefined)),
  };
  const whole = (key: 'samples' | 'repairRounds' | 'testSamples' | 'testsPerSample', min: number): void => {
    if (!Number.isInteger(strategy[key]) || strategy[key] < min || strategy[key] > 1000)
      throw new UsageError(`strategy ${key}=${strategy[key]} must be a whole number from ${min} to 1000.`);
  };
  whole('samples', 1);
  whole('repairRounds', 0);
  whole('testSamples', 0);
  whole('testsPerSample', 1);
  for (const key of [
    'temperature',
    'temperatureStep',
    'maxTemperature',
    'repairTemperature',
    'testTemperature',
  ] as const) {
    if (!Number.isFinite(strategy[key]) || strategy[key] < 0 || strategy[key] > 2)
      throw new UsageError(`strategy ${key}=${strategy[key]} must be a number from 0 to 2.`);
  }
  if (!['none', 'codet', 'mbr-exec'].includes(strategy.select))
    throw new UsageError(`strategy select=${JSON.stringify(strategy.select)} must be none, codet or mbr-exec.`);
  if (!['last', 'full'].includes(strategy.repairContext))
    throw new UsageError(`strategy repairContext=${JSON.stringify(strategy.repairContext)} must be last or full.`);
  if (!['codet', 'paper'].includes(strategy.scoring))
    throw new UsageError(`strategy scoring=${JSON.stringify(strategy.scoring)} must be codet or paper.`);
  return strategy;
}

/**
 * Temperature of the i-th first sample (0-based), rounded to 6 decimals: 0.2 + 2 × 0.2 is 0.6000000000000001 in
 * binary floating point, which logs and progress lines would otherwise show.
 */
export function sampleTemperature(strategy: Strategy, index: number): number {
  const temperature = Math.min(strategy.maxTemperature, strategy.temperature + index * strategy.temperatureStep);
  return Math.round(temperature * 1e6) / 1e6;
}
