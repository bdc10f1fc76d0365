import { UsageError } from '../core/index.js';
import type { ExecutionLimits, Language } from './types.js';

const COMMON = {
  cpuSeconds: 10,
  processes: 64,
  openFiles: 256,
  fileSizeMiB: 16,
  scratchMiB: 64,
  outputBytes: 64 * 1024,
  compileMs: 15_000,
} as const;

/**
 * Defaults per language. Python: 3 s wall like human-eval, 1 GiB. JavaScript/TypeScript: 5 s wall like MultiPL-E's
 * JS runner, 1 GiB through cgroup memory and V8's heap cap (Node cannot start under ~768 MiB of RLIMIT_AS, so address
 * space is not how Node is limited), and MultiPL-E's 15 s for a `tsc` type-check step.
 */
export const DEFAULT_LIMITS: Readonly<Record<Language, ExecutionLimits>> = {
  python: { ...COMMON, wallMs: 3_000, memoryMiB: 1024 },
  javascript: { ...COMMON, wallMs: 5_000, memoryMiB: 1024 },
  typescript: { ...COMMON, wallMs: 5_000, memoryMiB: 1024 },
};

const RANGES: Record<keyof ExecutionLimits, [min: number, max: number]> = {
  wallMs: [10, 3_600_000],
  cpuSeconds: [1, 3_600],
  memoryMiB: [16, 65_536],
  processes: [1, 4_096],
  openFiles: [16, 65_536],
  fileSizeMiB: [1, 4_096],
  scratchMiB: [1, 4_096],
  outputBytes: [1_024, 64 * 1024 * 1024],
  compileMs: [100, 600_000],
};

/** Fills in defaults and checks ranges; a bad value is a UsageError that names the field, the value and the range. */
export function resolveLimits(language: Language, limits: Partial<ExecutionLimits> = {}): ExecutionLimits {
  const resolved: ExecutionLimits = { ...DEFAULT_LIMITS[language] };
  for (const [key, value] of Object.entries(limits) as [keyof ExecutionLimits, number | undefined][]) {
    if (value === undefined) continue;
    const range = RANGES[key];
    if (range === undefined)
      throw new UsageError(`Unknown limit "${key}". Known limits: ${Object.keys(RANGES).join(', ')}.`);
    if (!Number.isFinite(value) || value < range[0] || value > range[1]) {
      throw new UsageError(`Limit ${key}=${value} is out of range: use a number from ${range[0]} to ${range[1]}.`);
    }
    resolved[key] = Math.round(value);
  }
  // The CPU backstop must never fire before the wall clock on a single-threaded program.
  resolved.cpuSeconds = Math.max(resolved.cpuSeconds, Math.ceil(resolved.wallMs / 1000) + 1);
  return resolved;
}
