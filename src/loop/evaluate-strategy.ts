import { passAtK, UsageError } from '../core/index.js';
import type { ModelBackend } from '../models/index.js';
import type { Executor } from '../sandbox/index.js';
import type { PromptStyle } from '../tasks/index.js';
import type { AttemptLog } from './attempt-record.js';
import { combineGeneratedTestStats, type GeneratedTestStats } from './generated-test-stats.js';
import { solve, type SolveBudget, type SolveResult, type StopReason } from './solve.js';
import type { SolveTask } from './solve-task.js';
import type { Strategy, StrategyName } from './strategy.js';

/**
 * Evaluates a solve strategy over a task set: pass@k over independent runs, and pass rate against tokens spent
 * ("pass@t", Olausson et al., arxiv.org/abs/2306.09896), so that repair is compared with plain resampling at equal
 * budget rather than per round. Runs are sequential; every attempt goes to `log` when one is given.
 */

export interface EvaluateStrategyOptions {
  tasks: readonly SolveTask[];
  /** The model for one run of one task (a factory, so that a scripted model can start fresh for every run). */
  model: ModelBackend | ((task: SolveTask, run: number) => ModelBackend);
  executor: Executor;
  strategy: StrategyName | Strategy;
  strategyOverrides?: Partial<Strategy>;
  feedbackTemplate?: string;
  /** Budget of each run. */
  budget?: SolveBudget;
  /** Most tokens one model call may generate (solve's `maxTokensPerCall`). Default 768. */
  maxTokensPerCall?: number;
  /** Per-test time limit (ms). Default: each task's, else 2000. */
  perTestMs?: number;
  /** Prompt style, `chat` or `base`. Default: chat when the model has a chat template. */
  style?: PromptStyle;
  /** Nucleus sampling mass of every call, (0, 1]. Default 1 (off). */
  topP?: number;
  /** Independent runs per task (run r uses seed `seed + 1000 r`). Default 1. */
  runs?: number;
  seed?: number;
  /** k values of pass@k; a k is reported only when runs >= k. Default [1]. */
  ks?: readonly number[];
  /** Token budgets at which pass@t is reported, besides every run's own total. Default none. */
  tokenGrid?: readonly number[];
  log?: AttemptLog;
  signal?: AbortSignal;
  onRunEnd?: (taskId: string, run: number, result: SolveResult) => void;
}

export interface RunSummary {
  run: number;
  passed: boolean;
  /** Prompt + completion tokens the run spent. */
  tokens: number;
  completionTokens: number;
  programAttempts: number;
  stopReason: StopReason;
  infraError: boolean;
  /** The model call that ended the run early, when one failed (`stopReason` is then `model-error`). */
  modelError: { code: string; message: string } | null;
}

export interface PassAtTokensPoint {
  /** A token budget (prompt + completion). */
  tokens: number;
  /** Share of all runs that ended with a passing program having spent at most `tokens`. */
  passRate: number;
}

export interface StrategyEvaluation {
  strategy: string;
  tasks: number;
  runs: number;
  /** Unbiased pass@k over each task's runs (Chen et al. 2021), averaged over tasks. */
  passAtK: Record<string, number>;
  /** Share of all runs whose final program passed. */
  passRate: number;
  /** Mean tokens per run (prompt + completion), and completion tokens only. */
  meanTokens: number;
  meanCompletionTokens: number;
  /** Runs that a failed model call ended early (counted as not passed unless their program passed before it). */
  modelErrors: number;
  /** Runs whose final verdict the sandbox could not give (counted as not passed). */
  infraErrors: number;
  /** Pass rate against tokens spent, ascending by tokens; the last point is `passRate`. */
  passAtTokens: PassAtTokensPoint[];
  /**
   * Generated tests over all runs (strategies that generate them): attempts that passed every generated test, those
   * of them with a hidden verdict, how many of those fail the hidden tests, and that false-positive rate (Reflexion's
   * measure; the same denominator as each solve's, see generated-test-stats.ts); null without generated tests.
   */
  generatedTests: {
    attemptsPassingGenerated: number;
    attemptsJudged: number;
    falsePositives: number;
    falsePositiveRate: number | null;
  } | null;
  perTask: { taskId: string; runs: RunSummary[] }[];
}

/** Pass rate against tokens: at each budget, the runs that passed within it, over all runs. */
export function passAtTokens(
  runs: readonly { passed: boolean; tokens: number }[],
  grid: readonly number[] = [],
): PassAtTokensPoint[] {
  const budgets = [...new Set([...grid, ...runs.map((run) => run.tokens)])].sort((a, b) => a - b);
  return budgets.map((tokens) => ({
    tokens,
    passRate: runs.length === 0 ? 0 : runs.filter((run) => run.passed && run.tokens <= tokens).length / runs.length,
  }));
}

export async function evaluateStrategy(options: EvaluateStrategyOptions): Promise<StrategyEvaluation> {
  const {
    tasks,
    executor,
    strategy,
    strategyOverrides,
    feedbackTemplate,
    budget,
    maxTokensPerCall,
    perTestMs,
    style,
    topP,
    runs = 1,
    seed = 0,
    ks = [1],
    tokenGrid = [],
    log,
    signal,
    onRunEnd,
  } = options;
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError(`runs=${runs} must be a positive whole number.`);
  if (tasks.length === 0) throw new UsageError('evaluateStrategy needs at least one task.');
  const perTask: { taskId: string; runs: RunSummary[] }[] = [];
  const generated: GeneratedTestStats[] = [];
  for (const task of tasks) {
    const summaries: RunSummary[] = [];
    for (let run = 0; run < runs; run++) {
      signal?.throwIfAborted();
      const model = typeof options.model === 'function' ? options.model(task, run) : options.model;
      const result = await solve(task, {
        model,
        executor,
        strategy,
        ...(strategyOverrides ? { strategyOverrides } : {}),
        ...(feedbackTemplate ? { feedbackTemplate } : {}),
        ...(budget ? { budget } : {}),
        ...(maxTokensPerCall === undefined ? {} : { maxTokensPerCall }),
        ...(perTestMs === undefined ? {} : { perTestMs }),
        ...(style === undefined ? {} : { style }),
        ...(topP === undefined ? {} : { topP }),
        seed: seed + 1000 * run,
        ...(log ? { log } : {}),
        ...(signal ? { signal } : {}),
      });
      onRunEnd?.(task.id, run, result);
      if (result.generatedTests) generated.push(result.generatedTests);
      summaries.push({
        run,
        passed: result.passed,
        tokens: result.usage.promptTokens + result.usage.completionTokens,
        completionTokens: result.usage.completionTokens,
        programAttempts: result.programAttempts,
        stopReason: result.stopReason,
        infraError: result.judgement.infraError,
        modelError:
          result.modelError === null ? null : { code: result.modelError.code, message: result.modelError.message },
      });
    }
    perTask.push({ taskId: task.id, runs: summaries });
  }
  const allRuns = perTask.flatMap((task) => task.runs);
  return {
    strategy: typeof strategy === 'string' ? strategy : 'custom',
    tasks: tasks.length,
    runs,
    passAtK: passAtK(
      perTask.map((task) => ({ n: runs, c: task.runs.filter((run) => run.passed).length })),
      ks,
    ),
    passRate: allRuns.filter((run) => run.passed).length / allRuns.length,
    meanTokens: allRuns.reduce((sum, run) => sum + run.tokens, 0) / allRuns.length,
    meanCompletionTokens: allRuns.reduce((sum, run) => sum + run.completionTokens, 0) / allRuns.length,
    modelErrors: allRuns.filter((run) => run.modelError !== null).length,
    infraErrors: allRuns.filter((run) => run.infraError).length,
    passAtTokens: passAtTokens(allRuns, tokenGrid),
    generatedTests: combineGeneratedTestStats(generated),
    perTask,
  };
}
