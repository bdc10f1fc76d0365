import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, isAbsolute, join, relative as relativePath, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { isCodeloopError, UsageError } from '../core/index.js';
import {
  commandSolveTask,
  createAttemptLog,
  evaluateStrategy,
  FEEDBACK_TEMPLATES,
  loadSolveTaskFile,
  resolveStrategy,
  solve,
  solveTaskFromDataset,
  STRATEGY_NAMES,
  type AttemptRecord,
  type GeneratedTestStats,
  type SolveBudget,
  type SolveTask,
  type Strategy,
  type StrategyName,
} from '../loop/index.js';
import { openModel, type ModelBackend } from '../models/index.js';
import { createExecutor, SandboxUnavailableError, type Executor, type Language } from '../sandbox/index.js';
import { DATASET_NAMES, isDatasetName, loadDataset, selectTasks, type TaskSelection } from '../tasks/index.js';
import type { Command } from './main.js';
import { kListFlag, numberFlag, SUBSET_OPTIONS, taskSelectionFlags } from './flags.js';

const usage = `Usage: codeloop solve TASK [options]
       codeloop solve --file SRC --test-command CMD [options]
       codeloop solve --dataset NAME [--limit N] [--runs N] [options]

Generates a program for TASK, runs it against the tests the model may see, feeds failures back and tries again, and
picks the final program; the verdict comes from tests the model never saw. TASK is:
  examples/ID              one of codeloop's own tasks, e.g. examples/py/fizzbuzz
  DATASET/ID               a dataset task, e.g. humaneval/HumanEval/0 or mbpp/Mbpp/2 (with --data-dir)
  FILE.json, FILE.yaml     a task file, JSON or YAML (.yaml, .yml): language, prompt, entryPoint, publicTests,
                           hiddenTests, … (docs/solve.md)
--file SRC --test-command CMD runs CMD in the sandbox with the candidate in place of SRC (and the files named in CMD,
or given with --test-file); CMD's exit code is the verdict and its output is the feedback. The sandbox has the system's
/usr and those files only: no node_modules, no virtualenv, no network. python3 -m unittest works, python3 -m pytest
when pytest is installed for /usr/bin/python3 (python3-pytest); vitest, jest, npx and imports of installed packages
fail (docs/solve.md, "Test-command mode").

--dataset evaluates the strategy over a task set instead: each task is solved --runs times (seeds differ), and pass@k,
the pass rate and the pass rate against tokens spent (pass@tokens, to compare strategies at equal budget) go to
OUT/evaluation.json.

Every attempt is one JSON line in OUT/attempts.jsonl, written as it happens; OUT/result.json holds the summary and
OUT/solution.<ext> the final program.

Exit codes: 0 the final program passes (--dataset: the evaluation finished), 1 it does not, 2 a usage error, 3 the
sandbox broke (on the final verdict; --dataset: on some run's verdict), 4 a model call failed (the model could not be
opened, or a call failed and ended the loop early: stop reason model-error, with the error in result.json and the
select record; --dataset: some run ended that way, the others still ran and evaluation.json counts them).

Options:
  --model NAME             model (gguf:PATH, ollama:MODEL, openai:MODEL@URL, replay:FILE, embedded; default embedded)
  --strategy NAME          ${STRATEGY_NAMES.join(' | ')} (default repair)
  --samples N              first samples (candidates) — overrides the strategy's
  --repair-rounds N        repair rounds per sample — overrides the strategy's
  --select METHOD          none | codet | mbr-exec — overrides the strategy's
  --scoring NAME           CodeT cluster score: codet (|tests| x sqrt|solutions|, default) or paper (|tests| x |solutions|)
  --test-samples N         test-generation calls for selection (default 2)
  --feedback ID            feedback template: ${Object.keys(FEEDBACK_TEMPLATES).join(', ')}
  --style base|chat        prompt style (default chat when the model has a chat template)
  --budget-tokens N        stop after N prompt + completion tokens
  --budget-seconds N       stop after N seconds of generating and testing
  --max-attempts N         stop after N programs (samples + repairs)
  --max-cost-usd X         stop after X US dollars (needs --price)
  --price IN,OUT           USD per million prompt and completion tokens, e.g. 0.15,0.6
  --max-tokens N           tokens per model call (default 768)
  --top-p X                nucleus sampling mass of every call, in (0, 1] (default 1: off)
  --per-test-ms N          time limit of each test (default 2000)
  --seed N                 seed of the first call (default 0)
  --data-dir DIR           folder with the dataset files (default $CODELOOP_DATA_DIR)
  --file SRC               source file to fix (with --test-command)
  --test-command CMD       shell command that tests it, e.g. "python3 -m pytest -q test_x.py"
  --test-file PATH         a file the command needs (repeatable; files named in CMD are added)
  --dataset NAME           evaluate over a dataset (examples, humaneval, mbpp, multipl-e-humaneval-js, …)
  --limit N, --id-range START:END
                           with --dataset: only these tasks (as codeloop eval --help says)
  --runs N                 with --dataset: runs per task (default 1)
  --k LIST                 with --dataset: pass@k values (default 1; a k is reported when runs >= k)
  --out DIR                output folder (default ./codeloop-solve/<task>-<timestamp>)
  --json                   print the result as one JSON object on stdout
  --unsafe-no-sandbox      run programs with NO OS isolation (only on a throw-away machine)`;

/** The exit codes `solve --help` documents. */
const EXIT = { passed: 0, failed: 1, infraError: 3, modelError: 4 } as const;

/** Opens --model; a name that does not parse is a usage error, a model that cannot be opened is exit code 4. */
async function openSolveModel(name: string): Promise<ModelBackend | number> {
  try {
    return await openModel(name);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'invalid-model-name')
      throw new UsageError(`--model: ${(error as Error).message}`, { cause: error });
    // A usage mistake (a missing API key, an unknown FIM format) is exit 2 like any other; a bug is not a model error.
    if (error instanceof UsageError || !isCodeloopError(error)) throw error;
    process.stderr.write(`codeloop solve: cannot open --model ${name}: ${error.message}\n`);
    return EXIT.modelError;
  }
}

/** The sandbox; when this machine has none, exit code 3 with the reason. */
async function openSolveExecutor(unsafe: boolean): Promise<Executor | number> {
  try {
    return await createExecutor({
      concurrency: 2,
      isolation: unsafe ? 'unsafe-none' : 'auto',
      onWarning: (message) => process.stderr.write(`codeloop solve: ${message}\n`),
    });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError)) throw error;
    process.stderr.write(`codeloop solve: ${error.message}\n`);
    return EXIT.infraError;
  }
}

/** The model and the sandbox a solve needs (warning first when there is no sandbox), or the exit code of the one that failed. */
async function openModelAndSandbox(
  modelName: string,
  unsafe: boolean,
): Promise<{ model: ModelBackend; executor: Executor } | number> {
  if (unsafe)
    process.stderr.write(
      'codeloop solve: WARNING: --unsafe-no-sandbox: programs run with NO isolation, as your user, with your files and network.\n',
    );
  const model = await openSolveModel(modelName);
  if (typeof model === 'number') return model;
  const executor = await openSolveExecutor(unsafe);
  if (typeof executor === 'number') {
    await model.close();
    return executor;
  }
  return { model, executor };
}

function languageOf(path: string): Language {
  const extension = extname(path);
  const language = (
    { '.py': 'python', '.js': 'javascript', '.cjs': 'javascript', '.mjs': 'javascript', '.ts': 'typescript' } as Record<
      string,
      Language
    >
  )[extension];
  if (language === undefined)
    throw new UsageError(`--file ${path}: cannot tell the language from "${extension}"; use a .py, .js or .ts file.`);
  return language;
}

/** A dataset task (`DATASET/ID`, `examples/ID`) or a task file. */
async function resolveTask(spec: string, dataDir: string | undefined): Promise<SolveTask> {
  const slash = spec.indexOf('/');
  const datasetName = slash > 0 ? spec.slice(0, slash) : spec;
  if (isDatasetName(datasetName) && !existsSync(spec)) {
    const dataset = await loadDataset(datasetName, dataDir === undefined ? {} : { dataDir });
    const rest = spec.slice(slash + 1);
    const task = dataset.tasks.find((candidate) => candidate.id === spec || candidate.id === rest);
    if (task === undefined) {
      const sample = dataset.tasks
        .slice(0, 3)
        .map((candidate) => candidate.id)
        .join(', ');
      throw new UsageError(`${datasetName} has no task ${JSON.stringify(rest)}; its ids look like ${sample}.`);
    }
    return solveTaskFromDataset(task);
  }
  if (/\.(json|ya?ml)$/i.test(spec) || existsSync(spec)) return loadSolveTaskFile(spec);
  throw new UsageError(
    `TASK ${JSON.stringify(spec)} is neither DATASET/ID (datasets: ${DATASET_NAMES.join(', ')}) nor a task file.`,
  );
}

function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** "false-positive rate 25.0% (1 of 4 attempts that passed every generated test fail the hidden ones)". */
function falsePositiveText(falsePositives: number, judged: number): string {
  if (judged === 0) return 'false-positive rate n/a (no attempt with a hidden verdict passed every generated test)';
  return `false-positive rate ${((falsePositives / judged) * 100).toFixed(1)}% (${falsePositives} of ${judged} attempts that passed every generated test fail the hidden ones)`;
}

function describeGeneratedTests(stats: GeneratedTestStats): string {
  const reference =
    stats.passedByReference === null ? '' : `, ${stats.passedByReference} passed by the reference solution`;
  return `generated tests: ${stats.kept} kept, ${stats.rejected} rejected${reference}; ${falsePositiveText(stats.falsePositives, stats.attemptsJudged)}`;
}

function describeAttempt(record: AttemptRecord): string {
  if (record.kind === 'tests')
    return `${record.attempt_id} tests: ${record.code === '' ? 0 : record.code.split('\n').length} kept, ${record.rejected_tests?.length ?? 0} rejected`;
  if (record.kind === 'select')
    return `${record.attempt_id} select (${record.selection?.method}): ${record.parent_id ?? 'nothing'} → ${record.verdict?.passed ? 'PASSED' : 'FAILED'} (${record.verdict?.reason})`;
  const visible =
    record.visible_pass_rate === null ? 'no visible tests' : `visible ${(record.visible_pass_rate * 100).toFixed(0)}%`;
  return `${record.attempt_id} ${record.kind}${record.parent_id ? ` of ${record.parent_id}` : ''} (t=${record.model?.temperature}): ${record.infra_error ? 'sandbox error' : visible}, ${record.usage.prompt_tokens}+${record.usage.completion_tokens} tokens`;
}

export const solveCommand: Command = {
  name: 'solve',
  summary: 'generate, test and repair a program for one task (resample, repair, CodeT select)',
  usage,
  async run(args) {
    const { values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        model: { type: 'string' },
        strategy: { type: 'string' },
        samples: { type: 'string' },
        'repair-rounds': { type: 'string' },
        select: { type: 'string' },
        scoring: { type: 'string' },
        'test-samples': { type: 'string' },
        feedback: { type: 'string' },
        style: { type: 'string' },
        'budget-tokens': { type: 'string' },
        'budget-seconds': { type: 'string' },
        'max-attempts': { type: 'string' },
        'max-cost-usd': { type: 'string' },
        price: { type: 'string' },
        'max-tokens': { type: 'string' },
        'top-p': { type: 'string' },
        'per-test-ms': { type: 'string' },
        seed: { type: 'string' },
        'data-dir': { type: 'string' },
        file: { type: 'string' },
        'test-command': { type: 'string' },
        'test-file': { type: 'string', multiple: true },
        out: { type: 'string' },
        dataset: { type: 'string' },
        ...SUBSET_OPTIONS,
        runs: { type: 'string' },
        k: { type: 'string' },
        json: { type: 'boolean', default: false },
        'unsafe-no-sandbox': { type: 'boolean', default: false },
      },
    });
    const strategyName = (values.strategy ?? 'repair') as StrategyName;
    if (!STRATEGY_NAMES.includes(strategyName))
      throw new UsageError(`--strategy ${JSON.stringify(values.strategy)}: use one of ${STRATEGY_NAMES.join(', ')}.`);
    if (values.style !== undefined && values.style !== 'base' && values.style !== 'chat')
      throw new UsageError(`--style ${JSON.stringify(values.style)}: use base or chat.`);
    if (values.select !== undefined && !['none', 'codet', 'mbr-exec'].includes(values.select))
      throw new UsageError(`--select ${JSON.stringify(values.select)}: use none, codet or mbr-exec.`);
    if (values.scoring !== undefined && !['codet', 'paper'].includes(values.scoring))
      throw new UsageError(`--scoring ${JSON.stringify(values.scoring)}: use codet or paper.`);
    if (values.feedback !== undefined && FEEDBACK_TEMPLATES[values.feedback] === undefined)
      throw new UsageError(
        `--feedback ${JSON.stringify(values.feedback)}: use one of ${Object.keys(FEEDBACK_TEMPLATES).join(', ')}.`,
      );
    const samples = numberFlag('--samples', values.samples, { integer: true, min: 1, max: 1000 });
    const repairRounds = numberFlag('--repair-rounds', values['repair-rounds'], { integer: true, min: 0, max: 1000 });
    const testSamples = numberFlag('--test-samples', values['test-samples'], { integer: true, min: 0, max: 1000 });
    const strategy = resolveStrategy(strategyName, {
      ...(samples === undefined ? {} : { samples }),
      ...(repairRounds === undefined ? {} : { repairRounds }),
      ...(testSamples === undefined ? {} : { testSamples }),
      ...(values.select === undefined ? {} : { select: values.select as 'none' | 'codet' | 'mbr-exec' }),
      ...(values.scoring === undefined ? {} : { scoring: values.scoring as 'codet' | 'paper' }),
    });
    let pricing: SolveBudget['pricing'];
    if (values.price !== undefined) {
      const parts = values.price.split(',').map((part) => Number(part.trim()));
      if (parts.length !== 2 || parts.some((part) => !Number.isFinite(part) || part < 0))
        throw new UsageError(
          `--price ${JSON.stringify(values.price)} must be two numbers, USD per million prompt and completion tokens, e.g. 0.15,0.6.`,
        );
      pricing = { promptUsdPerMillion: parts[0] ?? 0, completionUsdPerMillion: parts[1] ?? 0 };
    }
    const budgetSeconds = numberFlag('--budget-seconds', values['budget-seconds'], { positive: true });
    const budget: SolveBudget = {
      ...(values['budget-tokens'] === undefined
        ? {}
        : { maxTokens: numberFlag('--budget-tokens', values['budget-tokens'], { integer: true, min: 1 }) as number }),
      ...(budgetSeconds === undefined ? {} : { maxWallMs: budgetSeconds * 1000 }),
      ...(values['max-attempts'] === undefined
        ? {}
        : { maxAttempts: numberFlag('--max-attempts', values['max-attempts'], { integer: true, min: 1 }) as number }),
      ...(values['max-cost-usd'] === undefined
        ? {}
        : { maxCostUsd: numberFlag('--max-cost-usd', values['max-cost-usd'], { positive: true }) as number }),
      ...(pricing ? { pricing } : {}),
    };
    if (budget.maxCostUsd !== undefined && pricing === undefined)
      throw new UsageError('--max-cost-usd needs --price IN,OUT (USD per million prompt and completion tokens).');

    const perTestMs = numberFlag('--per-test-ms', values['per-test-ms'], { integer: true, min: 1, max: 600_000 });
    const maxTokensPerCall = numberFlag('--max-tokens', values['max-tokens'], {
      integer: true,
      min: 1,
      max: 1_000_000,
    });
    const seed = numberFlag('--seed', values.seed, { integer: true, min: 0, max: 2 ** 31 });
    const style = values.style as 'base' | 'chat' | undefined;
    const topP = numberFlag('--top-p', values['top-p'], { positive: true, max: 1 });

    let task: SolveTask;
    if (values.dataset !== undefined) {
      if (positionals.length > 0 || values.file !== undefined)
        throw new UsageError('--dataset evaluates a whole task set: give no TASK and no --file.');
      return evaluateDataset(values.dataset, {
        dataDir: values['data-dir'] === undefined ? undefined : resolve(values['data-dir']),
        selection: taskSelectionFlags(values),
        runs: numberFlag('--runs', values.runs, { integer: true, min: 1, max: 10_000 }) ?? 1,
        ks: kListFlag('--k', values.k, 10_000) ?? [1],
        strategyName,
        strategy,
        budget,
        feedback: values.feedback,
        maxTokensPerCall,
        perTestMs,
        style,
        topP,
        model: values.model ?? 'embedded',
        out: values.out,
        json: values.json,
        unsafe: values['unsafe-no-sandbox'],
        seed: seed ?? 0,
      });
    }
    if (values.file !== undefined || values['test-command'] !== undefined) {
      if (values.file === undefined || values['test-command'] === undefined)
        throw new UsageError(
          '--file and --test-command go together: give the source file to fix and the command that tests it.',
        );
      if (positionals.length > 0)
        throw new UsageError(`with --file, give no TASK (got ${JSON.stringify(positionals[0])}).`);
      const source = readText(values.file, '--file');
      // The candidate keeps SRC's path under the current folder (src/calc.py stays src/calc.py, so `import src.calc`
      // and a command naming the file both find it), and SRC itself is never copied in as a test file.
      const sourcePath = relativeInside(values.file, '--file');
      const files: Record<string, string> = {};
      const named = values['test-command']
        .split(/\s+/)
        .filter(
          (word) =>
            /^[\w./-]+$/.test(word) &&
            !word.startsWith('-') &&
            !word.startsWith('/') &&
            existsSync(word) &&
            statSync(word).isFile(),
        );
      for (const path of [...named, ...(values['test-file'] ?? [])]) {
        const relative = relativeInside(path, '--test-file');
        if (relative !== sourcePath) files[relative] = readText(path, '--test-file');
      }
      task = commandSolveTask({
        source,
        sourcePath,
        language: languageOf(values.file),
        command: values['test-command'],
        files,
      });
    } else {
      if (positionals.length !== 1)
        throw new UsageError(
          positionals.length === 0
            ? 'give a TASK (examples/ID, DATASET/ID or a task file), or --file with --test-command.'
            : `give one TASK, not ${positionals.length}.`,
        );
      task = await resolveTask(
        positionals[0] as string,
        values['data-dir'] === undefined ? undefined : resolve(values['data-dir']),
      );
    }
    const opened = await openModelAndSandbox(values.model ?? 'embedded', values['unsafe-no-sandbox']);
    if (typeof opened === 'number') return opened;
    const { model, executor } = opened;
    const out = resolve(values.out ?? join('codeloop-solve', `${task.id.replace(/[^\w.-]+/g, '_')}-${timestamp()}`));
    mkdirSync(out, { recursive: true });
    const log = createAttemptLog(join(out, 'attempts.jsonl'));
    try {
      const result = await solve(task, {
        model,
        executor,
        strategy,
        ...(values.feedback === undefined ? {} : { feedbackTemplate: values.feedback }),
        ...(style === undefined ? {} : { style }),
        budget,
        ...(maxTokensPerCall === undefined ? {} : { maxTokensPerCall }),
        ...(topP === undefined ? {} : { topP }),
        ...(perTestMs === undefined ? {} : { perTestMs }),
        ...(seed === undefined ? {} : { seed }),
        log,
        onAttempt: values.json
          ? undefined
          : (record) => process.stderr.write(`codeloop solve: ${describeAttempt(record)}\n`),
      });
      const extension = { python: 'py', javascript: 'js', typescript: 'ts' }[task.language];
      const summary = {
        task_id: result.taskId,
        passed: result.passed,
        verdict: result.judgement,
        final_attempt_id: result.finalAttemptId,
        stop_reason: result.stopReason,
        strategy: strategyName,
        program_attempts: result.programAttempts,
        usage: {
          prompt_tokens: result.usage.promptTokens,
          completion_tokens: result.usage.completionTokens,
          usd: result.usage.usd,
        },
        wall_ms: result.wallMs,
        generated_tests: result.generatedTests,
        model_error: result.modelError,
        warnings: result.warnings,
        out,
      };
      writeFileSync(join(out, `solution.${extension}`), result.code);
      writeFileSync(join(out, 'result.json'), `${JSON.stringify(summary, null, 2)}\n`);
      if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
      else {
        for (const warning of result.warnings) process.stderr.write(`codeloop solve: warning: ${warning}\n`);
        if (result.generatedTests) process.stdout.write(`${describeGeneratedTests(result.generatedTests)}\n`);
        if (result.modelError)
          process.stderr.write(
            `codeloop solve: the model call after ${result.modelError.afterAttemptId ?? 'the start'} failed (${result.modelError.code}): ${result.modelError.message}\n`,
          );
        process.stdout.write(
          `${result.taskId}: ${result.passed ? 'PASSED' : 'FAILED'} (${result.judgement.reason}) after ${result.programAttempts} program(s), ` +
            `${result.usage.promptTokens + result.usage.completionTokens} tokens, ${(result.wallMs / 1000).toFixed(1)} s; stop: ${result.stopReason}\n` +
            `attempts: ${join(out, 'attempts.jsonl')}\nsolution: ${join(out, `solution.${extension}`)}\n`,
        );
      }
      if (result.judgement.infraError) return EXIT.infraError;
      if (result.passed) return EXIT.passed;
      return result.modelError ? EXIT.modelError : EXIT.failed;
    } finally {
      log.close();
      await executor.close();
      await model.close();
    }
  },
};

interface EvaluateDatasetOptions {
  dataDir: string | undefined;
  selection: TaskSelection;
  runs: number;
  ks: number[];
  strategyName: StrategyName;
  strategy: Strategy;
  budget: SolveBudget;
  feedback: string | undefined;
  maxTokensPerCall: number | undefined;
  perTestMs: number | undefined;
  style: 'base' | 'chat' | undefined;
  topP: number | undefined;
  model: string;
  out: string | undefined;
  json: boolean;
  unsafe: boolean;
  seed: number;
}

/** `--dataset`: evaluateStrategy over a task set; pass@k, pass rate, pass@tokens into OUT/evaluation.json. */
async function evaluateDataset(name: string, options: EvaluateDatasetOptions): Promise<number> {
  if (options.ks.some((k) => k < 1)) throw new UsageError('--k values must be positive whole numbers, e.g. 1,5.');
  if (options.runs < 1) throw new UsageError('--runs must be at least 1.');
  const { dataset } = selectTasks(
    await loadDataset(name, options.dataDir === undefined ? {} : { dataDir: options.dataDir }),
    options.selection,
  );
  const usable = dataset.tasks.filter((task) =>
    ['human-eval', 'prompt-completion-tests', 'completion-tests'].includes(task.layout),
  );
  if (usable.length === 0)
    throw new UsageError(
      `${name}: none of its tasks has tests that follow the code, so the solve loop cannot run them (SAFIM is scored differently).`,
    );
  const tasks = usable.map(solveTaskFromDataset);
  const opened = await openModelAndSandbox(options.model, options.unsafe);
  if (typeof opened === 'number') return opened;
  const { model, executor } = opened;
  const out = resolve(
    options.out ?? join('codeloop-solve', `${name.replace(/[^\w.-]+/g, '_')}-${options.strategyName}-${timestamp()}`),
  );
  mkdirSync(out, { recursive: true });
  const log = createAttemptLog(join(out, 'attempts.jsonl'));
  try {
    let done = 0;
    const evaluation = await evaluateStrategy({
      tasks,
      model,
      executor,
      strategy: options.strategy,
      ...(options.feedback === undefined ? {} : { feedbackTemplate: options.feedback }),
      budget: options.budget,
      ...(options.maxTokensPerCall === undefined ? {} : { maxTokensPerCall: options.maxTokensPerCall }),
      ...(options.perTestMs === undefined ? {} : { perTestMs: options.perTestMs }),
      ...(options.style === undefined ? {} : { style: options.style }),
      ...(options.topP === undefined ? {} : { topP: options.topP }),
      runs: options.runs,
      seed: options.seed,
      ks: options.ks,
      log,
      onRunEnd: (taskId, run, result) => {
        done++;
        const modelError = result.modelError
          ? `; model error (${result.modelError.code}): ${result.modelError.message}`
          : '';
        if (!options.json)
          process.stderr.write(
            `codeloop solve: [${done}/${tasks.length * options.runs}] ${taskId} run ${run}: ${result.passed ? 'PASSED' : 'FAILED'} (${result.usage.promptTokens + result.usage.completionTokens} tokens, ${result.programAttempts} programs${modelError})\n`,
          );
      },
    });
    const { strategy: _custom, ...figures } = evaluation;
    const summary = {
      dataset: name,
      strategy: options.strategyName,
      resolved_strategy: options.strategy,
      model: model.modelId,
      ...figures,
    };
    writeFileSync(join(out, 'evaluation.json'), `${JSON.stringify(summary, null, 2)}\n`);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      const passAtK = Object.entries(evaluation.passAtK)
        .map(([key, value]) => `${key} ${(value * 100).toFixed(1)}%`)
        .join(', ');
      const curve = evaluation.passAtTokens.filter(
        (_, index, points) => index === points.length - 1 || index % Math.max(1, Math.floor(points.length / 8)) === 0,
      );
      process.stdout.write(
        `${name} (${tasks.length} tasks x ${options.runs} runs), strategy ${options.strategyName}: ${passAtK}; pass rate ${(evaluation.passRate * 100).toFixed(1)}%, ` +
          `${evaluation.meanTokens.toFixed(0)} tokens per run` +
          `${evaluation.modelErrors > 0 ? `; ${evaluation.modelErrors} run(s) ended by a model error` : ''}${evaluation.infraErrors > 0 ? `; ${evaluation.infraErrors} run(s) without a verdict (sandbox error)` : ''}\npass rate against tokens spent:\n${curve.map((point) => `  <= ${point.tokens} tokens: ${(point.passRate * 100).toFixed(1)}%`).join('\n')}\n` +
          `${evaluation.generatedTests ? `generated tests: ${falsePositiveText(evaluation.generatedTests.falsePositives, evaluation.generatedTests.attemptsJudged)} over all runs\n` : ''}` +
          `evaluation: ${join(out, 'evaluation.json')}\nattempts: ${join(out, 'attempts.jsonl')}\n`,
      );
    }
    if (evaluation.infraErrors > 0) return EXIT.infraError;
    return evaluation.modelErrors > 0 ? EXIT.modelError : EXIT.passed;
  } finally {
    log.close();
    await executor.close();
    await model.close();
  }
}

/** `path` relative to the current folder, normalised (`./src//calc.py` is `src/calc.py`); it must be inside it. */
function relativeInside(path: string, flag: string): string {
  const relative = relativePath(process.cwd(), resolve(path));
  if (relative === '' || relative.startsWith('..') || isAbsolute(relative))
    throw new UsageError(
      `${flag} ${path}: give a file inside the current folder (the sandbox gets it at the same relative path); run codeloop from the project's root.`,
    );
  return relative.split(sep).join('/');
}

function readText(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${flag} ${path}: cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}).`,
      { cause: error },
    );
  }
}
