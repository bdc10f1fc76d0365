/**
 * The completion quality harness's own figures, from the records `generateCompletionSamples` wrote: exact match (strict
 * and whitespace-normalised), the engine's latency per request (p50/p95), and what the pipeline did (modes, finish
 * reasons, how often each rule changed the text). pass@1 by execution comes from `eval` and is added by the caller.
 */
import { readCompleteLines, UsageError } from '../core/index.js';
import type { CompletionSampleRecord } from './quality-samples.js';

export interface LatencySummary {
  p50: number;
  p95: number;
  mean: number;
  max: number;
}

export interface CompletionQualityMetrics {
  /** `true` for the whole pipeline, `false` for raw model output. */
  postProcess: boolean;
  samples: number;
  /** Samples whose task has a canonical middle (the denominator of the exact-match rates). */
  withExpected: number;
  /** Share of `withExpected` samples equal to the canonical middle. */
  exactMatch: number;
  /** The same after whitespace normalisation. */
  exactMatchNormalized: number;
  /** Engine latency per request (ms from request to result), and the model's share of it, over generated requests. */
  latencyMs: LatencySummary;
  modelMs: LatencySummary;
  /** Samples per engine mode (`single-line`, `multi-line`, `none` = the engine declined to complete). */
  modes: Record<string, number>;
  finishReasons: Record<string, number>;
  /** Samples each post-processing rule changed. */
  rules: Record<string, number>;
  /** Samples whose completion is empty (after the hole's line break, for whole-line holes). */
  empty: number;
}

/** Nearest-rank percentile of sorted values (0 for none). */
function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.max(1, Math.ceil(share * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? 0;
}

export function summarizeLatency(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const round = (value: number): number => Math.round(value * 100) / 100;
  const mean = sorted.length === 0 ? 0 : sorted.reduce((sum, value) => sum + value, 0) / sorted.length;
  return {
    p50: round(percentile(sorted, 0.5)),
    p95: round(percentile(sorted, 0.95)),
    mean: round(mean),
    max: round(sorted.at(-1) ?? 0),
  };
}

const count = (counts: Record<string, number>, key: string): void => {
  counts[key] = (counts[key] ?? 0) + 1;
};

/** The figures over `records` (the last record per task counts, as the scorer reads one sample per task). */
export function completionQualityMetrics(records: readonly CompletionSampleRecord[]): CompletionQualityMetrics {
  const byTask = new Map<string, CompletionSampleRecord>();
  for (const record of records) byTask.set(record.task_id, record);
  const kept = [...byTask.values()];
  const postProcess = kept[0]?.post_process ?? true;
  const withExpected = kept.filter((record) => record.expected !== undefined);
  const modes: Record<string, number> = {};
  const finishReasons: Record<string, number> = {};
  const rules: Record<string, number> = {};
  for (const record of kept) {
    count(modes, record.mode);
    count(finishReasons, record.finish_reason);
    for (const rule of new Set(record.rules)) count(rules, rule);
  }
  // Cache hits cost no model time and say nothing about the model's latency: only generated requests count.
  const generated = kept.filter((record) => record.cache === 'miss' && record.mode !== 'none');
  const share = (matches: number): number => (withExpected.length === 0 ? 0 : matches / withExpected.length);
  return {
    postProcess,
    samples: kept.length,
    withExpected: withExpected.length,
    exactMatch: share(withExpected.filter((record) => record.exact_match).length),
    exactMatchNormalized: share(withExpected.filter((record) => record.exact_match_normalized).length),
    latencyMs: summarizeLatency(generated.map((record) => record.total_ms)),
    modelMs: summarizeLatency(generated.map((record) => record.model_ms)),
    modes,
    finishReasons,
    rules,
    empty: kept.filter((record) => record.engine_text === '').length,
  };
}

/** Reads the records of a harness samples file (a last line cut short by a kill is ignored). */
export function readCompletionSamples(path: string): CompletionSampleRecord[] {
  return readCompleteLines(path)
    .filter((line) => line.trim() !== '')
    .map((line, index) => {
      const record = JSON.parse(line) as CompletionSampleRecord;
      if (typeof record.task_id !== 'string' || typeof record.post_process !== 'boolean') {
        throw new UsageError(
          `${path}:${index + 1}: not a completion-harness record (needs "task_id" and "post_process").`,
        );
      }
      return record;
    });
}
