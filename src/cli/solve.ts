import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import {
  FEEDBACK_TEMPLATES,
  resolveStrategy,
  STRATEGY_NAMES,
  type SolveBudget,
  type StrategyName,
} from '../loop/index.js';
import type { Command } from './command.js';
import { kListFlag, numberFlag, SUBSET_OPTIONS, taskSelectionFlags } from './flags.js';
import { QUEUE_OPTION, QUEUE_USAGE } from './queue-flag.js';
import { solveDataset } from './solve-dataset.js';
import type { SolveRunOptions } from './solve-setup.js';
import { solveSingle } from './solve-single.js';

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
  --unsafe-no-sandbox      run programs with NO OS isolation (only on a throw-away machine)
${QUEUE_USAGE}`;

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
        ...QUEUE_OPTION,
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

    const runOptions: SolveRunOptions = {
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
      queue: values.queue,
    };
    if (values.dataset !== undefined) {
      if (positionals.length > 0 || values.file !== undefined)
        throw new UsageError('--dataset evaluates a whole task set: give no TASK and no --file.');
      return solveDataset(values.dataset, {
        ...runOptions,
        dataDir: values['data-dir'] === undefined ? undefined : resolve(values['data-dir']),
        selection: taskSelectionFlags(values),
        runs: numberFlag('--runs', values.runs, { integer: true, min: 1, max: 10_000 }) ?? 1,
        ks: kListFlag('--k', values.k, 10_000) ?? [1],
        seed: seed ?? 0,
      });
    }
    return solveSingle(
      {
        positionals,
        file: values.file,
        testCommand: values['test-command'],
        testFiles: values['test-file'],
        dataDir: values['data-dir'] === undefined ? undefined : resolve(values['data-dir']),
      },
      { ...runOptions, seed },
    );
  },
};
