import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CodeloopError, UsageError, readCompleteLines } from '../core/index.js';
import { numberFlag, SUBSET_OPTIONS, SUBSET_USAGE, taskSelectionFlags } from './flags.js';
import { createProgressReporter } from './progress.js';
import { generateSamples, type GenerateSamplesResult } from '../loop/index.js';
import { FIM_FAMILIES, isFimFamily, openModel, type ModelBackend } from '../models/index.js';
import { loadDataset, selectTasks, type PromptStyle, type TaskSelection } from '../tasks/index.js';
import type { Command } from './command.js';

const usage = `Usage: codeloop generate --dataset NAME [--model MODEL] [options]

Generates samples for a dataset's tasks with a model and appends them to a samples JSONL (one line per sample, written
as it arrives) that \`codeloop eval --samples\` scores. Rerunning with the same --out tops up: tasks that already have
n samples there are skipped, the others get the missing ones (sample i of a task uses seed + i, so the result is the
same as one uninterrupted run). Each line records the model, prompt style, temperature, top-p and max tokens, and a
rerun with other values is refused (write to a new --out instead). Progress goes to stderr.

Options:
  --model MODEL            model name (default: embedded). gguf:PATH, hf:OWNER/REPO/FILE.gguf, ollama:MODEL,
                           vllm:MODEL@URL, llama-server:URL, openai:MODEL@URL, replay:SAMPLES.jsonl, embedded
  --dataset NAME           dataset name (humaneval, mbpp, examples, safim-block, …) or a user .jsonl task file
  -n, --n N                samples per task (default 1)
  --temperature T          sampling temperature, 0 = greedy (default 0; use 0.8 for pass@10/100)
  --top-p P                nucleus sampling mass (default 1 = off)
  --seed S                 seed of sample 0 (default 0)
  --max-tokens N           tokens per completion (default 512, or half the model's context when that is less: 128 for
                           the embedded model). A prompt longer than the rest of the context keeps its end: its
                           start is cut, counted per sample (truncated_prompt_tokens) and in the summary
  --prompt-style STYLE     base: continue the prompt (infill for tasks with a suffix); chat: ask for a solution in a
                           code block (score with --sanitize); infill: like base, but every task must have a suffix
                           (default base)
  --fim-format FAMILY      lay infill prompts out in this FIM format: ${FIM_FAMILIES.join(', ')}.
                           GGUF models: instead of the one detected from the tokenizer; servers: send a rendered
                           FIM prompt instead of \`suffix\`, so vLLM and SGLang can run FIM datasets
                           (default: detected for GGUF models, the server's own infill for servers)
  --concurrency N          model calls in flight (default 2; each asks for up to 8 samples, batched by the backend)
  --threads N              CPU threads of the in-process llama backend (default: 1 on ≤ 2 cores)
  --out PATH               samples JSONL to append to (default ./samples-<dataset>.jsonl)
  --data-dir DIR           folder with the dataset files (default: $CODELOOP_DATA_DIR, then the download cache)
${SUBSET_USAGE}`;

export interface GenerationFlags {
  model: string;
  dataset: string;
  n: number;
  temperature: number;
  topP?: number;
  seed: number;
  /** Default: 512, or half the model's context when that is less (see `generateSamples`). */
  maxTokens?: number;
  promptStyle: PromptStyle | 'infill';
  concurrency: number;
  threads?: number;
  /** A FIM family (`FIM_FAMILIES`) for infill prompts; default the model's own. */
  fimFormat?: string;
  outPath: string;
  dataDir?: string;
  /** Only these tasks (--limit, --id-range); default every task. */
  selection?: TaskSelection;
}

export function promptStyleFlag(text: string | undefined): PromptStyle | 'infill' {
  if (text === undefined) return 'base';
  if (text === 'base' || text === 'chat' || text === 'infill') return text;
  throw new UsageError(`--prompt-style ${JSON.stringify(text)} is not a prompt style: use base, chat or infill.`);
}

/** Generation flags shared by `codeloop generate` and `codeloop eval --model`. */
export const GENERATION_OPTIONS = {
  model: { type: 'string' },
  n: { type: 'string', short: 'n' },
  temperature: { type: 'string' },
  'top-p': { type: 'string' },
  seed: { type: 'string' },
  'max-tokens': { type: 'string' },
  'prompt-style': { type: 'string' },
  threads: { type: 'string' },
  'fim-format': { type: 'string' },
} as const;

/** Reads the shared generation flags (values as `parseArgs` returns them for GENERATION_OPTIONS). */
export function generationFlags(
  values: Partial<Record<keyof typeof GENERATION_OPTIONS, string | undefined>>,
): Omit<GenerationFlags, 'dataset' | 'outPath' | 'concurrency' | 'dataDir'> {
  const topP = numberFlag('top-p', values['top-p'], { min: 0, max: 1 });
  const threads = numberFlag('threads', values.threads, { integer: true, min: 1, max: 256 });
  if (topP === 0) throw new UsageError('--top-p 0 keeps no token: use a value in (0, 1], e.g. 0.95.');
  const maxTokens = numberFlag('max-tokens', values['max-tokens'], { integer: true, min: 1, max: 1_000_000 });
  const fimFormat = values['fim-format'];
  if (fimFormat !== undefined && !isFimFamily(fimFormat)) {
    throw new UsageError(
      `--fim-format ${JSON.stringify(fimFormat)} is not a FIM format: use one of ${FIM_FAMILIES.join(', ')}.`,
    );
  }
  return {
    model: values.model ?? 'embedded',
    n: numberFlag('-n', values.n, { integer: true, min: 1, max: 100_000 }) ?? 1,
    temperature: numberFlag('temperature', values.temperature, { min: 0, max: 2 }) ?? 0,
    ...(topP === undefined ? {} : { topP }),
    seed: numberFlag('seed', values.seed, { integer: true, min: 0, max: 2 ** 31 - 1 }) ?? 0,
    ...(maxTokens === undefined ? {} : { maxTokens }),
    promptStyle: promptStyleFlag(values['prompt-style']),
    ...(threads === undefined ? {} : { threads }),
    ...(fimFormat === undefined ? {} : { fimFormat }),
  };
}

/**
 * Generates samples per `flags` into `flags.outPath` (appending, topping up). Opens and closes the model; Ctrl-C stops
 * it with a resumable-run message. Used by `codeloop generate` and `codeloop eval --model`.
 */
export async function runGeneration(
  flags: GenerationFlags,
  prefix = 'codeloop generate',
): Promise<GenerateSamplesResult> {
  const { dataset, description } = selectTasks(
    await loadDataset(flags.dataset, flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    flags.selection,
  );
  if (flags.promptStyle === 'infill') {
    const withoutSuffix = dataset.tasks.filter((task) => task.suffix === undefined);
    if (withoutSuffix.length > 0) {
      throw new UsageError(
        `--prompt-style infill needs fill-in-the-middle tasks, but ${withoutSuffix.length} of ` +
          `${dataset.tasks.length} tasks of ${dataset.name} have no suffix (e.g. ${withoutSuffix[0]!.id}). Use ` +
          `--prompt-style base, or a FIM dataset such as safim-block.`,
      );
    }
  }
  mkdirSync(dirname(flags.outPath), { recursive: true });
  const controller = new AbortController();
  const interrupt = (): void =>
    controller.abort(
      new CodeloopError(
        'interrupted',
        `Interrupted; the samples so far are in ${flags.outPath}: rerun the same command to top up.`,
      ),
    );
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  let model: ModelBackend | undefined;
  try {
    model = await openModel(flags.model, {
      signal: controller.signal,
      ...(flags.threads === undefined ? {} : { llama: { threads: flags.threads } }),
      ...(flags.fimFormat === undefined ? {} : { fimFormat: flags.fimFormat }),
    });
    if (
      flags.promptStyle !== 'chat' &&
      dataset.tasks.some((task) => task.suffix !== undefined) &&
      !model.capabilities.supportsInfill
    ) {
      throw new UsageError(
        `${model.modelId} cannot infill (no FIM tokens, or a server without server-side infill), but ${dataset.name} has fill-in-the-middle tasks: ` +
          `add --fim-format FAMILY (${FIM_FAMILIES.join(', ')}) to send prompts rendered in the model's FIM format, ` +
          `or use a model with FIM tokens.`,
      );
    }
    // Lines already in the file count towards n (generateSamples tops up); this is only for the progress total.
    const existing = readCompleteLines(flags.outPath).filter((line) => line.trim() !== '').length;
    process.stderr.write(
      `${prefix}: ${dataset.name} (${dataset.tasks.length} tasks${description === undefined ? '' : `, a subset: ${description}`}) × n=${flags.n} with ${model.modelId} (${model.provider}) → ${flags.outPath}\n`,
    );
    // A live bar on a terminal (samples, rate, ETA, tokens), a line every 5 s elsewhere.
    const progress = createProgressReporter(process.stderr, { prefix, counts: 'tokens' });
    progress.onRunStart({ label: dataset.name, total: Math.max(0, dataset.tasks.length * flags.n - existing) });
    const result = await generateSamples(dataset.tasks, model, {
      n: flags.n,
      temperature: flags.temperature,
      ...(flags.topP === undefined ? {} : { topP: flags.topP }),
      seed: flags.seed,
      ...(flags.maxTokens === undefined ? {} : { maxTokens: flags.maxTokens }),
      style: flags.promptStyle === 'chat' ? 'chat' : 'base',
      concurrency: flags.concurrency,
      outPath: flags.outPath,
      signal: controller.signal,
      onSample: (_sample, decodedTokens) => progress.onSampleResult({ tokens: decodedTokens }),
    }).finally(() => progress.onRunEnd());
    process.stderr.write(
      `${prefix}: ${result.written} new sample(s), ${result.existing} already in ${flags.outPath}; ` +
        `${result.usage.promptTokens} prompt + ${result.usage.completionTokens} completion tokens\n`,
    );
    if (result.truncatedPrompts > 0)
      process.stderr.write(
        `${prefix}: ${result.truncatedPrompts} of ${result.written} new sample(s) had their prompt's start cut to ` +
          `fit ${model.modelId}'s ${model.capabilities.contextLength ?? '?'}-token context (truncated_prompt_tokens ` +
          `in each line)\n`,
      );
    const rest = result.warnings.filter((warning) => !warning.startsWith('the prompt was '));
    for (const warning of summarizeWarnings(rest)) process.stderr.write(`${prefix}: warning: ${warning}\n`);
    return result;
  } finally {
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
    await model?.close();
  }
}

/**
 * One line per kind of warning: samples warn in the same words with other numbers (the tokens left after each
 * prompt), and 12 × n copies of one sentence bury the summary. The first of a kind is shown, with how many more.
 */
export function summarizeWarnings(warnings: readonly string[]): string[] {
  const kinds = new Map<string, { first: string; count: number }>();
  for (const warning of warnings) {
    const key = warning.replace(/\d+/g, '#');
    const kind = kinds.get(key);
    if (kind === undefined) kinds.set(key, { first: warning, count: 1 });
    else kind.count++;
  }
  return [...kinds.values()].map(({ first, count }) =>
    count === 1 ? first : `${first} (and ${count - 1} more like it)`,
  );
}

export const generateCommand: Command = {
  name: 'generate',
  summary: 'generate samples for a dataset with a model (samples JSONL for codeloop eval)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        ...GENERATION_OPTIONS,
        dataset: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
        concurrency: { type: 'string' },
        ...SUBSET_OPTIONS,
      },
    });
    if (values.dataset === undefined)
      throw new UsageError('--dataset is missing: name the tasks to generate for, e.g. --dataset humaneval.');
    const flags: GenerationFlags = {
      ...generationFlags(values),
      dataset: values.dataset,
      outPath: resolve(values.out ?? `samples-${values.dataset.replace(/[^\w.+-]/g, '_')}.jsonl`),
      concurrency: numberFlag('concurrency', values.concurrency, { integer: true, min: 1, max: 1024 }) ?? 2,
      selection: taskSelectionFlags(values),
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
    };
    await runGeneration(flags);
    process.stdout.write(`${flags.outPath}\n`);
    return 0;
  },
};
