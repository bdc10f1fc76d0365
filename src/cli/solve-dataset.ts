import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/index.js';
import { createAttemptLog, evaluateStrategy, solveTaskFromDataset } from '../loop/index.js';
import { loadDataset, selectTasks, type TaskSelection } from '../tasks/index.js';
import { withJournalState } from './queue-flag.js';
import { EXIT, falsePositiveText, openModelAndSandbox, timestamp, type SolveRunOptions } from './solve-setup.js';

/** `--dataset`'s options on top of the shared ones. */
export interface SolveDatasetOptions extends SolveRunOptions {
  dataDir: string | undefined;
  selection: TaskSelection;
  runs: number;
  ks: number[];
  seed: number;
}

/** `--dataset`: evaluateStrategy over a task set; pass@k, pass rate, pass@tokens into OUT/evaluation.json. */
export async function solveDataset(name: string, options: SolveDatasetOptions): Promise<number> {
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
  const opened = await openModelAndSandbox(options.model, options.unsafe, options.queue);
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
            `codeloop solve: [${done}/${tasks.length * options.runs}] ${taskId} run ${run}: ` +
              `${result.passed ? 'PASSED' : 'FAILED'} (${result.usage.promptTokens + result.usage.completionTokens} ` +
              `tokens, ${result.programAttempts} programs${modelError})\n`,
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
  } catch (error) {
    throw withJournalState(error, {
      path: join(out, 'attempts.jsonl'),
      what: 'attempts',
      resume: 'start the evaluation again once Redis is back',
    });
  } finally {
    log.close();
    await executor.close();
    await model.close();
  }
}
