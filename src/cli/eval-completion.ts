/**
 * `codeloop eval --through completion`: the completion quality harness's CLI part. Generation goes through the
 * completion engine (src/fim/quality-samples.ts), one request per task; scoring is `codeloop eval`'s own
 * (src/cli/eval.ts calls these helpers around it). Kept apart so eval.ts stays a scoring command with a few hooks.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeloopError, UsageError } from '../core/index.js';
import type { EvalMetrics } from '../eval/index.js';
import {
  completionQualityMetrics,
  createCompletionEngine,
  modelFimFormat,
  POST_PROCESS_RULES,
  generateCompletionSamples,
  readCompletionSamples,
  type CompletionEngineOptions,
  type CompletionMode,
  type CompletionQualityMetrics,
} from '../fim/index.js';
import { getFimFormat, openModel, type ModelBackend } from '../models/index.js';
import type { LoadedDataset } from '../tasks/index.js';
import { numberFlag } from './flags.js';
import { summarizeWarnings } from './generate.js';

/** Flags of the harness, merged into `codeloop eval`'s options. */
export const COMPLETION_EVAL_OPTIONS = {
  through: { type: 'string' },
  raw: { type: 'boolean', default: false },
  'compare-raw': { type: 'boolean', default: false },
  'completion-mode': { type: 'string' },
  'fim-format': { type: 'string' },
  'prompt-tokens': { type: 'string' },
  'soft-deadline-ms': { type: 'string' },
  'hard-deadline-ms': { type: 'string' },
  'disable-rule': { type: 'string' },
} as const;

export const COMPLETION_EVAL_USAGE = `--through completion sends every task of a fill-in-the-middle dataset (humaneval-infilling-single|multi|random-span|
random-span-light, safim-block|control|api) through the whole completion engine that codeloop serve uses (prompt
windows, FIM template, mode decision, stop rules, suffix merge, syntax truncation), one request at a time; the
engine's result, accepted into the document, is the sample. Scored as usual (pass@1 by execution), plus exact match
against the canonical middle (strict and whitespace-normalised) and the engine's latency per request (p50/p95), in
OUT/completion-metrics.json, metrics.json ("completion") and the summary. Samples are journaled in OUT/samples.jsonl
as they come; rerunning with the same --out tops up. Whole-line holes (humaneval-infilling-single|multi) are asked
as an empty line in the document.
  --through completion     generate through the completion engine (needs --model; -n is 1, greedy)
  --raw                    the same requests, but the model's text as generated (no post-processing)
  --compare-raw            both: the pipeline in OUT, raw output in OUT/raw, side by side with the uplift
  --disable-rule NAME[,NAME]
                           switch these post-processing rules off (names as in the engine's rules: repetition,
                           stop-at-dedent, suffix-merge, syntax-rejected, …); one rule's uplift is a run with it
                           minus a run without it
  --completion-mode MODE   auto (default: the engine decides, and may decline), single-line or multi-line (forced)
  --fim-format FAMILY      render prompts in this FIM format (default: the family the backend detected from the
                           model's tokens, else the backend's own infill)
  --max-tokens N           tokens per completion (default: the engine's, 128)
  --prompt-tokens N, --soft-deadline-ms MS, --hard-deadline-ms MS
                           engine settings, as for codeloop serve (defaults 2048, 1000, 3000)`;

type Values = { [key in keyof typeof COMPLETION_EVAL_OPTIONS]?: string | boolean | undefined } & {
  model?: string | undefined;
  limit?: string | undefined;
  'max-tokens'?: string | undefined;
  threads?: string | undefined;
  n?: string | undefined;
  temperature?: string | undefined;
  'top-p'?: string | undefined;
  seed?: string | undefined;
  'prompt-style'?: string | undefined;
};

export interface CompletionPass {
  /** true: the whole pipeline; false: raw model output. */
  postProcess: boolean;
  /** Run folder of this pass (OUT, or OUT/raw for the raw side of --compare-raw). */
  outDir: string;
  samplesPath: string;
}

export interface CompletionEvalPlan {
  model: string;
  threads?: number;
  limit?: number;
  mode: 'auto' | CompletionMode;
  maxTokens?: number;
  engine: Omit<CompletionEngineOptions, 'model'>;
  /** The pass whose samples `codeloop eval` scores into OUT, then (with --compare-raw) the raw pass. */
  passes: CompletionPass[];
}

/** Checks the harness flags and says where each pass writes. Throws UsageError naming the flag. */
export function completionEvalPlan(values: Values, outDir: string): CompletionEvalPlan {
  if (values.through !== 'completion')
    throw new UsageError(
      `--through ${JSON.stringify(values.through)} is not known: the one pipeline is --through completion.`,
    );
  if (values.model === undefined)
    throw new UsageError('--through completion generates with a model: add --model (embedded, gguf:PATH, …).');
  if (values.raw === true && values['compare-raw'] === true)
    throw new UsageError('--compare-raw already runs the raw output beside the pipeline: drop --raw.');
  for (const flag of ['n', 'temperature', 'top-p', 'seed', 'prompt-style'] as const) {
    if (values[flag] !== undefined)
      throw new UsageError(
        `--${flag} does not apply with --through completion: the engine asks for one greedy completion per request, as an editor does.`,
      );
  }
  const mode = values['completion-mode'] ?? 'auto';
  if (mode !== 'auto' && mode !== 'single-line' && mode !== 'multi-line')
    throw new UsageError(
      `--completion-mode ${JSON.stringify(mode)} is not a mode: use auto, single-line or multi-line.`,
    );
  const integer = (name: keyof Values, min: number): number | undefined =>
    numberFlag(name, values[name] as string | undefined, { integer: true, min, max: 10_000_000 });
  const limit = integer('limit', 1);
  const maxTokens = integer('max-tokens', 1);
  const threads = integer('threads', 1);
  const promptTokens = integer('prompt-tokens', 16);
  const softDeadlineMs = integer('soft-deadline-ms', 0);
  const hardDeadlineMs = integer('hard-deadline-ms', 0);
  const disabledRules = disableRuleFlag(values['disable-rule'] as string | undefined);
  if (disabledRules !== undefined && values.raw === true)
    throw new UsageError('--disable-rule switches rules off in the pipeline, and --raw runs none: drop one of them.');
  const format = values['fim-format'] === undefined ? undefined : getFimFormat(String(values['fim-format']));
  const pipeline: CompletionPass = {
    postProcess: values.raw !== true,
    outDir,
    samplesPath: join(outDir, 'samples.jsonl'),
  };
  const rawDir = join(outDir, 'raw');
  const passes =
    values['compare-raw'] === true
      ? [pipeline, { postProcess: false, outDir: rawDir, samplesPath: join(rawDir, 'samples.jsonl') }]
      : [pipeline];
  return {
    model: values.model,
    ...(threads === undefined ? {} : { threads }),
    ...(limit === undefined ? {} : { limit }),
    mode,
    ...(maxTokens === undefined ? {} : { maxTokens }),
    engine: {
      ...(format === undefined ? {} : { format }),
      ...(promptTokens === undefined ? {} : { promptTokens }),
      ...(softDeadlineMs === undefined ? {} : { softDeadlineMs }),
      ...(hardDeadlineMs === undefined ? {} : { hardDeadlineMs }),
      ...(disabledRules === undefined ? {} : { disabledRules }),
    },
    passes,
  };
}

/** `--disable-rule NAME[,NAME]`: the named post-processing rules, each checked against the engine's list. */
export function disableRuleFlag(text: string | undefined): string[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((part) => part.trim());
  const known: ReadonlySet<string> = new Set(POST_PROCESS_RULES);
  const unknown = names.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new UsageError(
      `--disable-rule ${JSON.stringify(text)}: ${unknown.map((name) => JSON.stringify(name)).join(', ')} is not a ` +
        `post-processing rule. The rules are: ${POST_PROCESS_RULES.join(', ')}.`,
    );
  }
  return [...new Set(names)];
}

/**
 * Runs every pass of `plan` over `dataset` (model opened once, one engine), journaling into each pass's samples file;
 * progress on stderr. Ctrl-C stops with a resumable-run message.
 */
export async function runCompletionGeneration(
  plan: CompletionEvalPlan,
  dataset: LoadedDataset,
  prefix = 'codeloop eval',
): Promise<void> {
  const controller = new AbortController();
  const interrupt = (): void =>
    controller.abort(
      new CodeloopError(
        'interrupted',
        `Interrupted; the samples so far are in ${plan.passes.map((pass) => pass.samplesPath).join(' and ')}: rerun ` +
          `the same command with the same --out to top up.`,
      ),
    );
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let model: ModelBackend | undefined;
  try {
    model = await openModel(plan.model, {
      signal: controller.signal,
      ...(plan.threads === undefined ? {} : { llama: { threads: plan.threads } }),
    });
    // The model's own family by default (as codeloop serve does), unless --fim-format named one.
    const detected =
      plan.engine.format === undefined
        ? modelFimFormat(model)
        : { format: plan.engine.format, reason: 'from --fim-format' };
    const engine = createCompletionEngine({
      model,
      ...plan.engine,
      ...(detected.format === undefined ? {} : { format: detected.format }),
    });
    process.stderr.write(
      `${prefix}: FIM format ${detected.format?.family ?? "the backend's own"}: ${detected.reason}\n`,
    );
    try {
      for (const pass of plan.passes) {
        mkdirSync(pass.outDir, { recursive: true });
        const label = pass.postProcess ? 'completion pipeline' : 'raw model output';
        process.stderr.write(
          `${prefix}: ${dataset.name} (${dataset.tasks.length} tasks) through the ${label} of ${model.modelId} ` +
            `(${model.provider}), mode ${plan.mode} → ${pass.samplesPath}\n`,
        );
        const started = Date.now();
        let last = started;
        let done = 0;
        const warnings: string[] = [];
        const result = await generateCompletionSamples(dataset.tasks, engine, {
          outPath: pass.samplesPath,
          postProcess: pass.postProcess,
          mode: plan.mode,
          ...(plan.maxTokens === undefined ? {} : { maxTokens: plan.maxTokens }),
          signal: controller.signal,
          onSample: (record) => {
            done += 1;
            warnings.push(...(record.warnings ?? []));
            if (Date.now() - last >= 5_000) {
              last = Date.now();
              process.stderr.write(
                `${prefix}: ${label}: ${done} request(s), ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
              );
            }
          },
        });
        process.stderr.write(
          `${prefix}: ${label}: ${result.written} new sample(s), ${result.existing} already in ${pass.samplesPath} ` +
            `(${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
        );
        for (const warning of summarizeWarnings(warnings))
          process.stderr.write(`${prefix}: ${label}: warning: ${warning}\n`);
      }
    } catch (error) {
      // The engine counts prompt tokens approximately and does not know the model's context: say which flag sets it.
      if (!controller.signal.aborted && /context/i.test((error as Error).message ?? '')) {
        process.stderr.write(
          `${prefix}: hint: the engine's prompt budget is ${plan.engine.promptTokens ?? 2048} approximate tokens ` +
            `(3.5 characters each) plus --max-tokens; for a model with a smaller context lower it with ` +
            `--prompt-tokens N (and --max-tokens N).\n`,
        );
      }
      throw error;
    } finally {
      engine.close();
    }
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await model?.close();
  }
}

export interface CompletionSide extends CompletionQualityMetrics {
  /** pass@1 by execution (SAFIM: SAFIM's own pass@1, missing tasks failed). */
  passAt1: number;
  samplesFile: string;
}

/** `metrics.json`'s `completion` block and OUT/completion-metrics.json. */
export interface CompletionEvalMetrics {
  through: 'completion';
  model: string;
  mode: 'auto' | CompletionMode;
  limit?: number;
  /** Post-processing rules switched off with --disable-rule (the pipeline side ran without them). */
  disabledRules?: string[];
  pipeline?: CompletionSide;
  raw?: CompletionSide;
  /** pipeline − raw, in shares (0.05 = 5 points), when both ran. */
  uplift?: { passAt1: number; exactMatch: number; exactMatchNormalized: number };
}

/** One side's figures: the harness's records plus pass@1 from the scorer's metrics. */
export function completionSide(pass: CompletionPass, metrics: EvalMetrics): CompletionSide {
  const quality = completionQualityMetrics(readCompletionSamples(pass.samplesPath));
  return {
    ...quality,
    passAt1: metrics.safim?.passAt1 ?? metrics.passAtK['pass@1'] ?? 0,
    samplesFile: pass.samplesPath,
  };
}

export function completionEvalMetrics(
  plan: CompletionEvalPlan,
  sides: readonly CompletionSide[],
): CompletionEvalMetrics {
  const pipeline = sides.find((side) => side.postProcess);
  const raw = sides.find((side) => !side.postProcess);
  const round = (value: number): number => Math.round(value * 1e6) / 1e6;
  return {
    through: 'completion',
    model: plan.model,
    mode: plan.mode,
    ...(plan.limit === undefined ? {} : { limit: plan.limit }),
    ...(plan.engine.disabledRules === undefined ? {} : { disabledRules: [...plan.engine.disabledRules] }),
    ...(pipeline === undefined ? {} : { pipeline }),
    ...(raw === undefined ? {} : { raw }),
    ...(pipeline !== undefined && raw !== undefined
      ? {
          uplift: {
            passAt1: round(pipeline.passAt1 - raw.passAt1),
            exactMatch: round(pipeline.exactMatch - raw.exactMatch),
            exactMatchNormalized: round(pipeline.exactMatchNormalized - raw.exactMatchNormalized),
          },
        }
      : {}),
  };
}

export function writeCompletionMetrics(outDir: string, metrics: CompletionEvalMetrics): string {
  const path = join(outDir, 'completion-metrics.json');
  writeFileSync(path, `${JSON.stringify(metrics, null, 2)}\n`);
  return path;
}

const percent = (share: number): string => `${(share * 100).toFixed(2)}%`;
const points = (share: number): string => `${share >= 0 ? '+' : ''}${(share * 100).toFixed(2)}`;
const counts = (record: Record<string, number>): string =>
  Object.entries(record)
    .sort((a, b) => b[1] - a[1])
    .map(([key, value]) => `${key} ${value}`)
    .join(', ') || 'none';

/** The summary lines: a table with one column per side (and the uplift), then what the pipeline did. */
export function completionLines(metrics: CompletionEvalMetrics): string[] {
  const sides = [metrics.pipeline, metrics.raw].filter((side): side is CompletionSide => side !== undefined);
  const header = sides.map((side) => (side.postProcess ? 'pipeline' : 'raw'));
  const row = (label: string, cells: string[], uplift?: string): string =>
    `  ${label.padEnd(22)}${cells.map((cell) => cell.padEnd(20)).join('')}${uplift ?? ''}`;
  const lines = [
    `  through the completion engine (model ${metrics.model}, mode ${metrics.mode}${metrics.limit === undefined ? '' : `, first ${metrics.limit} tasks`}):`,
    row('', header, metrics.uplift === undefined ? undefined : 'uplift (points)'),
    row(
      'pass@1 (execution)',
      sides.map((side) => percent(side.passAt1)),
      metrics.uplift && points(metrics.uplift.passAt1),
    ),
    row(
      'exact match',
      sides.map((side) => percent(side.exactMatch)),
      metrics.uplift && points(metrics.uplift.exactMatch),
    ),
    row(
      'exact (whitespace)',
      sides.map((side) => percent(side.exactMatchNormalized)),
      metrics.uplift && points(metrics.uplift.exactMatchNormalized),
    ),
    row(
      'latency p50/p95 ms',
      sides.map((side) => `${side.latencyMs.p50.toFixed(0)}/${side.latencyMs.p95.toFixed(0)}`),
    ),
    row(
      'model p50/p95 ms',
      sides.map((side) => `${side.modelMs.p50.toFixed(0)}/${side.modelMs.p95.toFixed(0)}`),
    ),
  ];
  for (const side of sides) {
    const name = side.postProcess ? 'pipeline' : 'raw';
    lines.push(`  ${name}: modes ${counts(side.modes)}; finish ${counts(side.finishReasons)}; ${side.empty} empty`);
    if (side.postProcess) lines.push(`  ${name}: rules (samples changed) ${counts(side.rules)}`);
  }
  const declined = Math.max(...sides.map((side) => side.modes['none'] ?? 0));
  if (declined > 0 && metrics.mode === 'auto') {
    lines.push(
      `  ${declined} task(s) declined by the mode rules (the hole is mid-line before code, where an editor gets no ` +
        `completion); --completion-mode single-line or multi-line forces one`,
    );
  }
  return lines;
}
