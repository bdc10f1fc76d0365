import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, isAbsolute, join, relative as relativePath, resolve, sep } from 'node:path';
import { UsageError } from '../core/index.js';
import {
  commandSolveTask,
  createAttemptLog,
  loadSolveTaskFile,
  solve,
  solveTaskFromDataset,
  type AttemptRecord,
  type GeneratedTestStats,
  type SolveTask,
} from '../loop/index.js';
import type { Language } from '../sandbox/index.js';
import { DATASET_NAMES, isDatasetName, loadDataset } from '../tasks/index.js';
import { withJournalState } from './queue-flag.js';
import { EXIT, falsePositiveText, openModelAndSandbox, timestamp, type SolveRunOptions } from './solve-setup.js';

/** Which task a single solve is for: TASK (a positional), or --file SRC with --test-command CMD. */
export interface SingleSolveTarget {
  positionals: readonly string[];
  file: string | undefined;
  testCommand: string | undefined;
  testFiles: readonly string[] | undefined;
  dataDir: string | undefined;
}

/** `codeloop solve TASK` / `--file SRC --test-command CMD`: one task solved, its result and program in OUT. */
export async function solveSingle(
  target: SingleSolveTarget,
  options: SolveRunOptions & { seed: number | undefined },
): Promise<number> {
  const { strategy, budget, style, maxTokensPerCall, topP, perTestMs, seed } = options;
  const task = await singleTask(target);
  const opened = await openModelAndSandbox(options.model, options.unsafe, options.queue);
  if (typeof opened === 'number') return opened;
  const { model, executor } = opened;
  const out = resolve(options.out ?? join('codeloop-solve', `${task.id.replace(/[^\w.-]+/g, '_')}-${timestamp()}`));
  mkdirSync(out, { recursive: true });
  const log = createAttemptLog(join(out, 'attempts.jsonl'));
  try {
    const result = await solve(task, {
      model,
      executor,
      strategy,
      ...(options.feedback === undefined ? {} : { feedbackTemplate: options.feedback }),
      ...(style === undefined ? {} : { style }),
      budget,
      ...(maxTokensPerCall === undefined ? {} : { maxTokensPerCall }),
      ...(topP === undefined ? {} : { topP }),
      ...(perTestMs === undefined ? {} : { perTestMs }),
      ...(seed === undefined ? {} : { seed }),
      log,
      onAttempt: options.json
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
      strategy: options.strategyName,
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
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      for (const warning of result.warnings) process.stderr.write(`codeloop solve: warning: ${warning}\n`);
      if (result.generatedTests) process.stdout.write(`${describeGeneratedTests(result.generatedTests)}\n`);
      if (result.modelError)
        process.stderr.write(
          `codeloop solve: the model call after ${result.modelError.afterAttemptId ?? 'the start'} failed ` +
            `(${result.modelError.code}): ${result.modelError.message}\n`,
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
  } catch (error) {
    throw withJournalState(error, {
      path: join(out, 'attempts.jsonl'),
      what: 'attempts',
      resume: 'start the solve again once Redis is back',
    });
  } finally {
    log.close();
    await executor.close();
    await model.close();
  }
}

/** The task named by TASK, or the test-command task --file and --test-command describe. */
async function singleTask(target: SingleSolveTarget): Promise<SolveTask> {
  if (target.file !== undefined || target.testCommand !== undefined) {
    if (target.file === undefined || target.testCommand === undefined)
      throw new UsageError(
        '--file and --test-command go together: give the source file to fix and the command that tests it.',
      );
    if (target.positionals.length > 0)
      throw new UsageError(`with --file, give no TASK (got ${JSON.stringify(target.positionals[0])}).`);
    const source = readText(target.file, '--file');
    // The candidate keeps SRC's path under the current folder (src/calc.py stays src/calc.py, so `import src.calc`
    // and a command naming the file both find it), and SRC itself is never copied in as a test file.
    const sourcePath = relativeInside(target.file, '--file');
    const files: Record<string, string> = {};
    const named = target.testCommand
      .split(/\s+/)
      .filter(
        (word) =>
          /^[\w./-]+$/.test(word) &&
          !word.startsWith('-') &&
          !word.startsWith('/') &&
          existsSync(word) &&
          statSync(word).isFile(),
      );
    for (const path of [...named, ...(target.testFiles ?? [])]) {
      const relative = relativeInside(path, '--test-file');
      if (relative !== sourcePath) files[relative] = readText(path, '--test-file');
    }
    return commandSolveTask({
      source,
      sourcePath,
      language: languageOf(target.file),
      command: target.testCommand,
      files,
    });
  } else {
    if (target.positionals.length !== 1)
      throw new UsageError(
        target.positionals.length === 0
          ? 'give a TASK (examples/ID, DATASET/ID or a task file), or --file with --test-command.'
          : `give one TASK, not ${target.positionals.length}.`,
      );
    return resolveTask(target.positionals[0] as string, target.dataDir);
  }
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

/** `path` relative to the current folder, normalised (`./src//calc.py` is `src/calc.py`); it must be inside it. */
function relativeInside(path: string, flag: string): string {
  const relative = relativePath(process.cwd(), resolve(path));
  if (relative === '' || relative.startsWith('..') || isAbsolute(relative))
    throw new UsageError(
      `${flag} ${path}: give a file inside the current folder (the sandbox gets it at the same relative path); run ` +
        `codeloop from the project's root.`,
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
