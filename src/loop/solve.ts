import { UsageError } from '../core/index.js';
import type { ChatMessage, GenerateResult, ModelBackend } from '../models/index.js';
import {
  type Executor,
  DEFAULT_PER_TEST_MS,
  type TestResult,
  type TestRunResult,
  type TestSource,
} from '../sandbox/index.js';
import { checkBudget, createBudgetMeter, type BudgetStopReason, type SolveBudget } from './budget-meter.js';
import { solutionFromAnswer, type PromptStyle } from '../tasks/index.js';
import type { AttemptLog, AttemptRecord, ReproMetadata } from './attempt-record.js';
import { DEFAULT_FEEDBACK_TEMPLATE, feedbackTemplateFor, renderFeedback } from './feedback.js';
import {
  parseTestLines,
  repairMessages,
  repairPrompt,
  solutionMessages,
  testMessages,
  testPrompt,
  vetTests,
} from './prompts.js';
import { chooseCandidate, type Candidate } from './choose-candidate.js';
import { commandFeedback } from './command-run.js';
import { callModel, type ModelCallOutcome } from './call-model.js';
import { evaluateCandidate } from './evaluate-candidate.js';
import { generatedTestStats, type GeneratedTestStats } from './generated-test-stats.js';
import { modelDigest, processReproMetadata, taskHash } from './repro-metadata.js';
import { checkedPublicTests, judgeSolution, type Judgement, type SolveTask } from './solve-task.js';
import { resolveStrategy, sampleTemperature, type Strategy, type StrategyName } from './strategy.js';

/**
 * The solve loop: generate → test → observe the failure → fix, with selection by generated tests. One function,
 * `solve`, runs any strategy (see strategy.ts) on one task under a budget and returns the final program with its
 * verdict from tests the model never saw; every attempt is one record, written as it happens.
 */

export type { Pricing, SolveBudget } from './budget-meter.js';
export type { GeneratedTestStats } from './generated-test-stats.js';

export type StopReason =
  'visible-pass' | 'no-visible-tests' | 'strategy-done' | BudgetStopReason | 'context-overflow' | 'model-error';

/** A model call that failed (other than a context overflow or an abort): the loop stops and records it. */
export interface SolveModelError {
  /** The error's stable `code` (`api-call-failed`, `prompt-not-recorded`, …). */
  code: string;
  message: string;
  /** The last attempt recorded before the call failed (the one a repair would have fixed); null before any. */
  afterAttemptId: string | null;
}

export interface SolveOptions {
  model: ModelBackend;
  executor: Executor;
  /** A named strategy (default `repair`) or a resolved one. */
  strategy?: StrategyName | Strategy;
  /** Overrides of the named strategy's knobs. */
  strategyOverrides?: Partial<Strategy>;
  /** Feedback template id (feedback.ts). Default `self-debug-unit-test@1`; `command-output@1` for test-command tasks. */
  feedbackTemplate?: string;
  /** `chat` (default when the model has a chat template) or `base` (continue the task's code). */
  style?: PromptStyle;
  budget?: SolveBudget;
  /**
   * Most tokens one model call may generate. Default 768, or half the model's context when that is less (the
   * embedded model's 256 tokens give 128). Base-style prompts longer than the rest of the context keep their end
   * (`promptOverflow: 'keep-end'`); chat prompts that do not fit are dropped with a warning.
   */
  maxTokensPerCall?: number;
  /** Nucleus sampling mass of every call, (0, 1]; sent with each call and recorded as `top_p`. Default 1 (off). */
  topP?: number;
  /** Seed of the first call; call i uses seed + i. Default 0. */
  seed?: number;
  /** Per-test time limit (ms). Default: the task's, else 2000. */
  perTestMs?: number;
  /** Where every attempt is appended as it happens. */
  log?: AttemptLog;
  onAttempt?: (record: AttemptRecord) => void;
  signal?: AbortSignal;
}

export interface SolveResult {
  taskId: string;
  /** The final program passed the tests the model never saw (the task's reference harness, hidden tests or command). */
  passed: boolean;
  judgement: Judgement;
  /** The final program ('' when the budget allowed no attempt). */
  code: string;
  finalAttemptId: string | null;
  attempts: AttemptRecord[];
  stopReason: StopReason;
  usage: { promptTokens: number; completionTokens: number; usd: number };
  /** Programs generated (samples + repairs). */
  programAttempts: number;
  wallMs: number;
  generatedTests: GeneratedTestStats | null;
  /** Why the loop stopped early when a model call failed (`stopReason` is then `model-error`). */
  modelError: SolveModelError | null;
  warnings: string[];
}

export async function solve(task: SolveTask, options: SolveOptions): Promise<SolveResult> {
  const contextLength = options.model.capabilities.contextLength;
  const {
    model,
    executor,
    budget = {},
    maxTokensPerCall = contextLength === undefined ? 768 : Math.max(1, Math.min(768, Math.floor(contextLength / 2))),
    topP = 1,
    seed = 0,
    log,
    onAttempt,
    signal,
  } = options;
  const strategy =
    typeof options.strategy === 'object'
      ? options.strategy
      : resolveStrategy(options.strategy ?? 'repair', options.strategyOverrides);
  const strategyName =
    typeof options.strategy === 'string'
      ? options.strategy
      : typeof options.strategy === 'object'
        ? 'custom'
        : 'repair';
  const templateId =
    options.feedbackTemplate ?? (task.judge.kind === 'command' ? 'command-output@1' : DEFAULT_FEEDBACK_TEMPLATE);
  feedbackTemplateFor(templateId, task.judge.kind === 'command' ? 'command' : 'tests');
  const style: PromptStyle = options.style ?? (model.capabilities.supportsChat ? 'chat' : 'base');
  if (style === 'chat' && !model.capabilities.supportsChat)
    throw new UsageError(`${model.modelId} has no chat template or chat endpoint: use style "base" (--style base).`);
  if (style === 'base' && task.starter === '' && task.judge.kind === 'command')
    throw new UsageError(
      'a test-command task needs a chat model (the source file is shown in a conversation); use a chat model.',
    );
  checkBudget(budget);
  if (!Number.isInteger(maxTokensPerCall) || maxTokensPerCall < 1)
    throw new UsageError(`maxTokensPerCall=${maxTokensPerCall} must be a positive whole number.`);
  if (!(topP > 0 && topP <= 1)) throw new UsageError(`topP=${topP} must be in (0, 1]; 1 turns nucleus sampling off.`);
  signal?.throwIfAborted();

  const perTestMs = options.perTestMs ?? task.perTestMs ?? DEFAULT_PER_TEST_MS;
  const started = Date.now();
  const meter = createBudgetMeter(budget);
  const { deadline, spent, cost } = meter;
  const callSignal = signal && deadline ? AbortSignal.any([signal, deadline]) : (signal ?? deadline);
  const warnings = new Set<string>();
  const attempts: AttemptRecord[] = [];
  let stopReason: StopReason = 'strategy-done';
  // Set inside `generate` (a closure), so typed by a cast: a plain `= null` would narrow it to null for good.
  let modelError = null as SolveModelError | null;
  const repro: ReproMetadata = {
    ...processReproMetadata(),
    model_digest: modelDigest(model),
    task_hash: taskHash(task),
    platform: `${process.platform}-${process.arch}`,
    sandbox_isolation: executor.isolation,
    per_test_ms: perTestMs,
    feedback_template: templateId,
    strategy: `${strategyName} ${JSON.stringify(strategy)}`,
    seed,
    type_check: task.judge.kind === 'reference' && task.judge.task.typeCheck === true,
  };

  const write = (record: AttemptRecord): void => {
    attempts.push(record);
    log?.write(record);
    onAttempt?.(record);
  };
  const generate = (
    request: { prompt?: string; messages?: ChatMessage[] },
    temperature: number,
    callSeed: number,
    stop: string[],
  ): Promise<ModelCallOutcome> =>
    callModel(
      {
        model,
        meter,
        maxTokensPerCall,
        topP,
        callSignal,
        signal,
        deadline,
        warnings,
        onModelError: (error) => {
          modelError = {
            code: error.code,
            message: error.message,
            afterAttemptId: attempts.at(-1)?.attempt_id ?? null,
          };
          stopReason = 'model-error';
        },
      },
      request,
      temperature,
      callSeed,
      stop,
    );

  // MultiPL-E TypeScript counts any type error as a failure, so the loop type-checks too and shows the errors.
  const typeCheck = repro.type_check;

  const evaluate = (code: string, visible: TestSource[], hidden: TestSource[]): Promise<TestRunResult | null> =>
    evaluateCandidate({ executor, task, perTestMs, typeCheck, callSignal, signal, deadline }, code, visible, hidden);

  const modelSettings = (
    temperature: number,
    callSeed: number,
    maxTokens: number,
    stop: readonly string[] = [],
  ): AttemptRecord['model'] => ({
    id: model.modelId,
    provider: model.provider,
    style,
    temperature,
    top_p: topP,
    seed: callSeed,
    max_tokens: maxTokens,
    ...(stop.length > 0 ? { stop: [...stop] } : {}),
  });
  const nextId = (): string => `a${attempts.length}`;

  try {
    task = { ...task, publicTests: await checkedPublicTests(executor, task, perTestMs, callSignal, warnings) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    // The wall-clock budget ran out during the check: the public tests stay unchecked and the loop stops below.
    if (!deadline?.aborted) throw error;
  }

  // 1. Generated tests (CodeT), vetted: they must parse as one assertion and call the entry point.
  const testSamples: string[][] = [];
  const rejectedTotal: { test: string; reason: string }[] = [];
  if (
    (strategy.select !== 'none' || strategy.generateTests) &&
    strategy.testSamples > 0 &&
    task.judge.kind !== 'command'
  ) {
    if (!task.entryPoint) warnings.add('no entry point is known for this task, so no tests were generated');
    for (let index = 0; index < strategy.testSamples && task.entryPoint; index++) {
      const reason = meter.exhausted(false);
      if (reason) {
        stopReason = reason;
        break;
      }
      const id = nextId();
      const callSeed = seed + attempts.length;
      const request =
        style === 'chat'
          ? { messages: testMessages(task, strategy.testsPerSample) }
          : { prompt: testPrompt(task).prompt };
      const callStarted = Date.now();
      const generated = await generate(request, strategy.testTemperature, callSeed, []);
      if (generated === null) {
        stopReason = 'budget-wall';
        break;
      }
      if (generated === 'overflow' || generated === 'model-error') break;
      const text = generated.result.choices[0]?.text ?? '';
      const lines = parseTestLines(style === 'chat' ? text : testPrompt(task).tail + text, task.language);
      const vetted = vetTests(lines, task.language, task.entryPoint);
      rejectedTotal.push(...vetted.rejected);
      const kept = vetted.kept.slice(0, strategy.testsPerSample);
      testSamples.push(kept);
      write({
        ...baseRecord(task, id, null, 0, 'tests', repro),
        model: modelSettings(strategy.testTemperature, callSeed, generated.maxTokens),
        ...request,
        completion: text,
        code: kept.join('\n'),
        rejected_tests: vetted.rejected,
        usage: usageRecord(generated.result, cost),
        finish_reason: generated.result.choices[0]?.finishReason ?? 'stop',
        wall_ms: Date.now() - callStarted,
      });
    }
  }
  const generatedIds = new Map<string, string>();
  for (const test of testSamples.flat())
    if (!generatedIds.has(test)) generatedIds.set(test, `generated/${generatedIds.size}`);
  const generatedSources: TestSource[] = [...generatedIds].map(([code, id]) => ({
    origin: 'generated',
    form: 'single',
    idPrefix: id,
    code,
  }));
  const visibleSources = [...task.publicTests, ...generatedSources];
  if (task.judge.kind !== 'command' && task.publicTests.length === 0 && generatedSources.length === 0) {
    warnings.add(
      'the task has no public or generated tests, so the loop has no test signal to steer by (it cannot tell a failing attempt)',
    );
  }

  // 2. Candidates: samples, each followed by repairs while it fails its visible tests.
  const produce = async (
    kind: 'sample' | 'repair',
    index: number,
    parent: Candidate | null,
  ): Promise<Candidate | null> => {
    const reason = meter.exhausted(true);
    if (reason) {
      stopReason = reason;
      return null;
    }
    const id = nextId();
    const callSeed = seed + attempts.length;
    const temperature = kind === 'sample' ? sampleTemperature(strategy, index) : strategy.repairTemperature;
    let request: { prompt?: string; messages?: ChatMessage[] };
    let feedback: { templateId: string; text: string } | null = null;
    if (parent === null) {
      request =
        style === 'chat'
          ? { messages: solutionMessages(task) }
          : { prompt: task.starter !== '' ? task.starter : `${commentPrompt(task)}\n` };
    } else {
      // parent.run.execution is the visible tests' execution (evaluate keeps the hidden run's apart), so its stderr is safe to show.
      const visibleRun = {
        ...parent.run,
        tests: parent.run.tests.filter((test) => test.origin !== 'hidden'),
        stderrTail: parent.run.execution.stderrTail,
      };
      feedback = renderFeedback(templateId, {
        run: visibleRun,
        ...(task.judge.kind === 'command' ? { command: commandFeedback(task, parent.run) } : {}),
      });
      const history =
        strategy.repairContext === 'full' ? (parent.messages ?? solutionMessages(task)) : solutionMessages(task);
      request =
        style === 'chat'
          ? { messages: repairMessages(history, parent.record.completion, feedback.text) }
          : { prompt: repairPrompt(task, parent.record.code, feedback.text) };
    }
    const callStarted = Date.now();
    const stop = style === 'base' ? task.stopSequences : [];
    const generated = await generate(request, temperature, callSeed, stop);
    if (generated === null) {
      stopReason = 'budget-wall';
      return null;
    }
    if (generated === 'model-error') return null;
    if (generated === 'overflow') {
      // A first sample that does not fit ends the loop (every sample has that prompt); a repair ends its chain only.
      if (parent === null) stopReason = 'context-overflow';
      return null;
    }
    meter.recordProgram();
    const text = generated.result.choices[0]?.text ?? '';
    const { code, extracted } = solutionFromAnswer(text, {
      style,
      starter: task.starter,
      language: task.language,
      ...(task.entryPoint ? { entryPoint: task.entryPoint } : {}),
    });
    const run = await evaluate(code, visibleSources, task.hiddenTests);
    if (run === null) {
      stopReason = 'budget-wall';
      return null;
    }
    const record: AttemptRecord = {
      ...baseRecord(task, id, parent?.record.attempt_id ?? null, parent ? parent.record.turn + 1 : 0, kind, repro),
      model: modelSettings(temperature, callSeed, generated.maxTokens, stop),
      ...request,
      completion: text,
      extracted_code: extracted,
      code,
      feedback_in: feedback ? { template_id: feedback.templateId, text: feedback.text } : null,
      ...rates(run, task.judge.kind === 'command'),
      usage: usageRecord(generated.result, cost),
      finish_reason: generated.result.choices[0]?.finishReason ?? 'stop',
      wall_ms: Date.now() - callStarted,
    };
    write(record);
    return { record, run, ...(request.messages ? { messages: request.messages } : {}) };
  };

  /**
   * The program loaded and there is no visible test to run it against: nothing tells whether it is right, so there is
   * no feedback to repair from (the templates would say "passes every test it was given").
   */
  const unjudged = (candidate: Candidate): boolean =>
    !candidate.record.infra_error &&
    candidate.run.solution.status === 'passed' &&
    candidate.run.tests.every((test) => test.origin === 'hidden');

  const candidates: Candidate[] = [];
  for (let index = 0; index < strategy.samples && stopReason === 'strategy-done'; index++) {
    let candidate = await produce('sample', index, null);
    if (candidate === null) break;
    for (
      let round = 0;
      round < strategy.repairRounds &&
      !candidate.record.visible_all_pass &&
      !candidate.record.infra_error &&
      !unjudged(candidate);
      round++
    ) {
      const repaired = await produce('repair', index, candidate);
      if (repaired === null) break;
      candidate = repaired;
    }
    candidates.push(candidate);
    if (
      strategy.select === 'none' &&
      strategy.stopOnVisiblePass &&
      candidate.record.visible_all_pass &&
      !candidate.record.infra_error &&
      stopReason === 'strategy-done'
    ) {
      stopReason = 'visible-pass';
    }
    // Without selection, more samples could not be told apart either: stop, and say why.
    if (strategy.select === 'none' && unjudged(candidate) && stopReason === 'strategy-done')
      stopReason = 'no-visible-tests';
  }

  // 3. The final program.
  const chosen = chooseCandidate(candidates, strategy, testSamples, generatedIds);
  let judgement: Judgement;
  if (chosen.candidate === null) {
    judgement = {
      passed: false,
      infraError: false,
      by: task.judge.kind,
      verdict: 'failed',
      reason: 'no program was generated within the budget',
    };
  } else {
    // A task file's verdict is its hidden tests, which the chosen attempt has already run (unless the sandbox broke).
    const hiddenRun =
      task.judge.kind === 'hidden-tests' && !chosen.candidate.run.infraError ? { hiddenRun: chosen.candidate.run } : {};
    judgement = await judgeSolution(executor, task, chosen.candidate.record.code, {
      ...(signal === undefined ? {} : { signal }),
      ...hiddenRun,
    });
    if (judgement.infraError)
      judgement = await judgeSolution(
        executor,
        task,
        chosen.candidate.record.code,
        signal === undefined ? {} : { signal },
      );
  }
  // Before the select record, so that it carries them (the log is complete without result.json).
  const generatedTests =
    generatedSources.length === 0 && rejectedTotal.length === 0
      ? null
      : await generatedTestStats(executor, task, attempts, generatedSources, rejectedTotal.length, perTestMs, signal);
  const finalRecord: AttemptRecord = {
    ...baseRecord(
      task,
      nextId(),
      chosen.candidate?.record.attempt_id ?? null,
      chosen.candidate?.record.turn ?? 0,
      'select',
      repro,
    ),
    completion: '',
    code: chosen.candidate?.record.code ?? '',
    tests: chosen.candidate?.record.tests ?? [],
    pass_rate: chosen.candidate?.record.pass_rate ?? null,
    all_pass: judgement.passed,
    visible_pass_rate: chosen.candidate?.record.visible_pass_rate ?? null,
    visible_all_pass: chosen.candidate?.record.visible_all_pass ?? false,
    infra_error: judgement.infraError,
    selection: {
      method: chosen.method,
      ...(strategy.select === 'codet' ? { scoring: strategy.scoring } : {}),
      ...(chosen.clusters ? { clusters: chosen.clusters } : {}),
      candidates: candidates.map((candidate) => candidate.record.attempt_id),
    },
    verdict: {
      passed: judgement.passed,
      by: judgement.by,
      verdict: judgement.verdict,
      reason: judgement.reason,
      infra_error: judgement.infraError,
    },
    stop_reason: stopReason,
    ...(generatedTests === null
      ? {}
      : {
          generated_tests: {
            kept: generatedTests.kept,
            rejected: generatedTests.rejected,
            attempts_passing_generated: generatedTests.attemptsPassingGenerated,
            attempts_judged: generatedTests.attemptsJudged,
            false_positives: generatedTests.falsePositives,
            false_positive_rate: generatedTests.falsePositiveRate,
            passed_by_reference: generatedTests.passedByReference,
          },
        }),
    ...(modelError === null
      ? {}
      : {
          model_error: {
            code: modelError.code,
            message: modelError.message,
            after_attempt_id: modelError.afterAttemptId,
          },
        }),
    wall_ms: 0,
    repro: { ...repro, ...(warnings.size > 0 ? { warnings: [...warnings] } : {}) },
  };
  write(finalRecord);

  return {
    taskId: task.id,
    passed: judgement.passed,
    judgement,
    code: chosen.candidate?.record.code ?? '',
    finalAttemptId: chosen.candidate?.record.attempt_id ?? null,
    attempts,
    stopReason,
    usage: { promptTokens: spent.promptTokens, completionTokens: spent.completionTokens, usd: spent.usd },
    programAttempts: spent.programs,
    wallMs: Date.now() - started,
    generatedTests,
    modelError,
    warnings: [...warnings],
  };
}

function baseRecord(
  task: SolveTask,
  id: string,
  parent: string | null,
  turn: number,
  kind: AttemptRecord['kind'],
  repro: ReproMetadata,
): AttemptRecord {
  return {
    task_id: task.id,
    attempt_id: id,
    parent_id: parent,
    turn,
    kind,
    model: null,
    completion: '',
    code: '',
    language: task.language,
    feedback_in: null,
    tests: [],
    pass_rate: null,
    all_pass: false,
    visible_pass_rate: null,
    visible_all_pass: false,
    infra_error: false,
    usage: { prompt_tokens: 0, completion_tokens: 0 },
    wall_ms: 0,
    repro,
    time: new Date().toISOString(),
  };
}

function usageRecord(
  result: GenerateResult,
  cost: (usage: { promptTokens: number; completionTokens: number }) => number,
): AttemptRecord['usage'] {
  const usd = cost(result.usage);
  return {
    prompt_tokens: result.usage.promptTokens,
    completion_tokens: result.usage.completionTokens,
    ...(usd > 0 ? { usd } : {}),
  };
}

/** Pass rates of an attempt: hidden (the ground truth, never shown) and visible (public + generated). */
function rates(
  run: TestRunResult,
  commandJudged: boolean,
): Pick<
  AttemptRecord,
  'tests' | 'stderr_tail' | 'pass_rate' | 'all_pass' | 'visible_pass_rate' | 'visible_all_pass' | 'infra_error'
> {
  const rate = (tests: TestResult[]): number | null =>
    tests.length === 0 || run.infraError
      ? null
      : tests.filter((test) => test.status === 'passed').length / tests.length;
  const hidden = run.tests.filter((test) => test.origin === 'hidden');
  const visible = run.tests.filter((test) => test.origin !== 'hidden');
  // No visible test is no evidence: false, not a vacuous "all of none passed" (the loop stops with no-visible-tests).
  const visibleAllPass =
    !run.infraError &&
    run.solution.status === 'passed' &&
    visible.length > 0 &&
    visible.every((test) => test.status === 'passed');
  return {
    tests: run.tests,
    stderr_tail: run.execution.stderrTail,
    pass_rate: rate(hidden),
    // A test command is the task's judge: its pass is the verdict.
    all_pass: commandJudged
      ? visibleAllPass
      : !run.infraError && hidden.length > 0 && hidden.every((test) => test.status === 'passed'),
    visible_pass_rate: rate(visible),
    visible_all_pass: visibleAllPass,
    infra_error: run.infraError,
  };
}

function commentPrompt(task: SolveTask): string {
  const marker = task.language === 'python' ? '# ' : '// ';
  return task.prompt
    .trim()
    .split('\n')
    .map((line) => `${marker}${line}`.trimEnd())
    .join('\n');
}
