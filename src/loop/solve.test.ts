import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { UsageError } from '../core/index.js';
import { createMockBackend, ModelError, type MockRequest } from '../models/index.js';
import { createExecutor, probeIsolation, type Executor } from '../sandbox/index.js';
import { loadExamples, type Task } from '../tasks/index.js';
import { createAttemptLog } from './attempt-record.js';
import { withoutTimings } from './command-run.js';
import { solve } from './solve.js';
import { commandSolveTask, parseSolveTaskFile, solveTaskFromDataset } from './solve-task.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

const fence = (language: string, code: string): string => `Here is the program:\n\`\`\`${language}\n${code}\`\`\`\n`;
const lastUser = (request: MockRequest): string =>
  request.kind === 'chat' ? (request.messages.at(-1)?.content ?? '') : '';
/** Everything the model was ever shown, to check that no hidden test leaked into it. */
const shown = (requests: readonly MockRequest[]): string =>
  requests
    .map((request) =>
      request.kind === 'chat'
        ? request.messages.map((message) => message.content).join('\n')
        : request.kind === 'complete'
          ? request.prompt
          : `${request.prefix}${request.suffix}`,
    )
    .join('\n');

async function example(id: string): Promise<Task> {
  const task = (await loadExamples()).tasks.find((candidate) => candidate.id === id);
  assert.ok(task, id);
  return task;
}

describe('solve', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('repair: a wrong first program, feedback from the public test, then the fix; hidden tests decide and never reach the model', async () => {
    const task = await example('examples/py/fizzbuzz');
    const solveTask = solveTaskFromDataset(task);
    const wrong = task.prompt + (task.canonicalSolution ?? '').replace('range(1, n + 1)', 'range(1, n)');
    const right = task.prompt + (task.canonicalSolution ?? '');
    const model = createMockBackend({
      respond: (request) => (lastUser(request).includes('Feedback:') ? fence('python', right) : fence('python', wrong)),
    });
    const logPath = join(mkdtempSync(join(tmpdir(), 'codeloop-solve-')), 'attempts.jsonl');
    const log = createAttemptLog(logPath);
    const result = await solve(solveTask, { model, executor, strategy: 'repair', log });
    log.close();
    assert.equal(result.passed, true, result.judgement.reason);
    assert.equal(result.judgement.by, 'reference');
    assert.equal(result.stopReason, 'visible-pass');
    assert.deepEqual(
      result.attempts.map((record) => [record.attempt_id, record.kind, record.parent_id, record.turn]),
      [
        ['a0', 'sample', null, 0],
        ['a1', 'repair', 'a0', 1],
        ['a2', 'select', 'a1', 1],
      ],
    );
    const [first, repair] = result.attempts;
    assert.equal(first?.visible_all_pass, false);
    assert.equal(first?.all_pass, false);
    assert.ok(
      first?.pass_rate !== null && first!.pass_rate! < 1 && first!.pass_rate! > 0,
      `a0 passes some hidden tests: ${first?.pass_rate}`,
    );
    // The record keeps the code taken out of the answer, the sampling settings as sent, and what it takes to rerun.
    assert.equal(first?.extracted_code, wrong);
    assert.equal(first?.model?.top_p, 1);
    assert.equal(model.calls[0]?.options.topP, 1);
    assert.equal(first?.model?.stop, undefined, 'chat calls have no stop sequences');
    assert.match(first?.repro.codeloop_commit ?? '', /^[0-9a-f]{40}$/);
    assert.match(first?.repro.python ?? '', /^Python 3/);
    assert.equal(first?.repro.model_digest, null, 'the mock has no model file');
    assert.match(first?.repro.task_hash ?? '', /^[0-9a-f]{64}$/);
    assert.equal(repair?.feedback_in?.template_id, 'self-debug-unit-test@1');
    assert.match(repair?.feedback_in?.text ?? '', /assert fizzbuzz\(5\) == \['1', '2', 'Fizz', '4', 'Buzz'\]/);
    assert.match(repair?.feedback_in?.text ?? '', /it returned \['1', '2', 'Fizz', '4'\]/);
    assert.equal(repair?.all_pass, true);
    assert.equal(repair?.pass_rate, 1);
    assert.deepEqual(new Set(repair?.tests.map((test) => test.origin)), new Set(['public', 'hidden']));
    // The model saw the public example but none of the hidden asserts.
    const everything = shown(model.calls.map((call) => call.request));
    assert.ok(everything.includes('fizzbuzz(5)'));
    assert.ok(
      !everything.includes("count('FizzBuzz') == 2") && !everything.includes('candidate(16)'),
      'a hidden test reached the model',
    );
    // The log is the same records, one JSON line each, written as they happened.
    const lines = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { attempt_id: string; usage: { completion_tokens: number } });
    assert.deepEqual(
      lines.map((line) => line.attempt_id),
      ['a0', 'a1', 'a2'],
    );
    assert.ok((lines[0]?.usage.completion_tokens ?? 0) > 0);
    assert.equal(
      result.usage.completionTokens,
      result.attempts.reduce((sum, record) => sum + record.usage.completion_tokens, 0),
    );
  });

  test('resample: rising temperature, stops at the first program that passes the public tests', async () => {
    const task = await example('examples/js/sum-range');
    const wrong = task.prompt + (task.canonicalSolution ?? '').replace('i <= b', 'i < b');
    const right = task.prompt + (task.canonicalSolution ?? '');
    const model = createMockBackend({
      respond: [
        fence('javascript', wrong),
        fence('javascript', wrong),
        fence('javascript', right),
        fence('javascript', wrong),
      ],
    });
    const result = await solve(solveTaskFromDataset(task), { model, executor, strategy: 'resample' });
    assert.equal(result.passed, true);
    assert.deepEqual(
      result.attempts.map((record) => [record.kind, record.model?.temperature]),
      [
        ['sample', 0],
        ['sample', 0.2],
        ['sample', 0.4],
        ['select', undefined],
      ],
    );
    assert.deepEqual(
      model.calls.map((call) => call.options.seed),
      [0, 1, 2],
    );
    assert.equal(result.programAttempts, 3);
  });

  test('budgets: attempts and tokens stop the loop before the next model call', async () => {
    const task = await example('examples/py/fizzbuzz');
    const wrong = fence(
      'python',
      task.prompt + (task.canonicalSolution ?? '').replace('range(1, n + 1)', 'range(1, n)'),
    );
    const byAttempts = await solve(solveTaskFromDataset(task), {
      model: createMockBackend({ respond: () => wrong }),
      executor,
      strategy: 'repair',
      budget: { maxAttempts: 2 },
    });
    assert.equal(byAttempts.stopReason, 'budget-attempts');
    assert.equal(byAttempts.programAttempts, 2);
    assert.equal(byAttempts.passed, false);
    const byTokens = await solve(solveTaskFromDataset(task), {
      model: createMockBackend({ respond: () => wrong }),
      executor,
      strategy: 'repair',
      budget: { maxTokens: 10 },
    });
    assert.equal(byTokens.stopReason, 'budget-tokens');
    assert.equal(byTokens.programAttempts, 1);
    const priced = await solve(solveTaskFromDataset(task), {
      model: createMockBackend({ respond: () => wrong }),
      executor,
      strategy: 'repair',
      budget: { maxCostUsd: 1e-9, pricing: { promptUsdPerMillion: 1, completionUsdPerMillion: 2 } },
    });
    // $1e-9 does not pay for one completion token at $2 per million: no call is made.
    assert.deepEqual([priced.stopReason, priced.usage.usd, priced.programAttempts], ['budget-cost', 0, 0]);
    // A call asks for no more completion tokens than the money left pays for: $0.0001 at $1 per million is 100 tokens,
    // then what the first call left.
    const capped = createMockBackend({ respond: () => wrong });
    const cheap = await solve(solveTaskFromDataset(task), {
      model: capped,
      executor,
      strategy: 'repair',
      budget: { maxCostUsd: 1e-4, pricing: { promptUsdPerMillion: 0, completionUsdPerMillion: 1 } },
    });
    const [firstCall, secondCall] = capped.calls.map((call) => call.options.maxTokens ?? 0);
    assert.equal(firstCall, 100);
    const firstCompletion = cheap.attempts[0]?.usage.completion_tokens ?? 0;
    assert.equal(secondCall, 100 - firstCompletion);
    assert.equal(cheap.stopReason, 'budget-cost');
    assert.ok(cheap.usage.usd > 0 && cheap.usage.usd <= 1e-4 + 1e-12, `spent ${cheap.usage.usd}`);
    await assert.rejects(
      solve(solveTaskFromDataset(task), {
        model: createMockBackend({ respond: () => wrong }),
        executor,
        budget: { maxCostUsd: 1 },
      }),
      /maxCostUsd=1 needs prices/,
    );
  });

  test('select (CodeT): generated tests rank the candidates; two identical wrong programs lose to one that agrees with more tests', async () => {
    const task = await example('examples/js/is-palindrome');
    const right = task.prompt + (task.canonicalSolution ?? '');
    const wrong =
      task.prompt + (task.canonicalSolution ?? '').replace('let j = chars.length - 1', 'let j = chars.length - 2');
    const tests = [
      '```javascript',
      'assert.deepStrictEqual(isPalindrome(""), true);',
      'assert.deepStrictEqual(isPalindrome("aba"), true);',
      'assert.deepStrictEqual(isPalindrome("ab"), false);',
      'assert.deepStrictEqual(isPalindrome("racecar"), true);',
      'assert.deepStrictEqual(somethingElse(3), 1);',
      'assert.deepStrictEqual(isPalindrome("x"), true',
      '```',
    ].join('\n');
    const answers = [wrong, right, wrong];
    let sample = 0;
    const model = createMockBackend({
      respond: (request) =>
        lastUser(request).includes('different tests')
          ? tests
          : fence('javascript', answers[sample++ % answers.length] ?? ''),
    });
    const result = await solve(solveTaskFromDataset(task), {
      model,
      executor,
      strategy: 'select',
      strategyOverrides: { samples: 3, testSamples: 1 },
    });
    assert.equal(result.passed, true, JSON.stringify(result.attempts.at(-1)?.selection));
    const testsRecord = result.attempts[0];
    assert.equal(testsRecord?.kind, 'tests');
    assert.deepEqual(
      testsRecord?.rejected_tests?.map((item) => item.reason),
      ['does not call isPalindrome', 'does not parse as one assertion'],
    );
    const select = result.attempts.at(-1);
    assert.equal(select?.selection?.method, 'codet');
    assert.equal(select?.parent_id, 'a2', 'the one right candidate (a2) is chosen');
    // The off-by-one programs (a1, a3, the same text) pass only isPalindrome(""): 1 test × sqrt(2) < 4 tests × sqrt(1).
    assert.deepEqual(select?.selection?.clusters, [
      { attempt_ids: ['a2'], tests: 4, score: 4 },
      { attempt_ids: ['a1', 'a3'], tests: 1, score: Math.SQRT2 },
    ]);
    assert.equal(result.generatedTests?.kept, 4);
    assert.equal(result.generatedTests?.passedByReference, 4);
    assert.equal(result.generatedTests?.attemptsPassingGenerated, 1);
    assert.equal(result.generatedTests?.falsePositiveRate, 0);
    // The select record carries the same figures, so the log is complete without result.json.
    assert.deepEqual(select?.generated_tests, {
      kept: 4,
      rejected: 2,
      attempts_passing_generated: 1,
      attempts_judged: 1,
      false_positives: 0,
      false_positive_rate: 0,
      passed_by_reference: 4,
    });
    // MBR-exec picks by output agreement instead: the two identical wrong programs agree with each other.
    sample = 0;
    const mbr = await solve(solveTaskFromDataset(task), {
      model,
      executor,
      strategy: 'select',
      strategyOverrides: { samples: 3, testSamples: 1, select: 'mbr-exec' },
    });
    assert.equal(mbr.attempts.at(-1)?.selection?.method, 'mbr-exec');
    assert.equal(mbr.attempts.at(-1)?.parent_id, 'a1');
    assert.equal(mbr.passed, false);
  });

  test('base style: a completion model continues the prompt; its repair prompt carries the program and feedback as comments', async () => {
    const task = await example('examples/py/fizzbuzz');
    const canonical = task.canonicalSolution ?? '';
    const wrongBody = canonical.replace('range(1, n + 1)', 'range(1, n)');
    const model = createMockBackend({
      capabilities: { supportsChat: false },
      respond: (request) =>
        request.kind === 'complete' && request.prompt.startsWith('# A previous attempt') ? canonical : wrongBody,
    });
    const result = await solve(solveTaskFromDataset(task), { model, executor });
    assert.equal(result.passed, true, result.judgement.reason);
    const [first, repair] = result.attempts;
    assert.equal(first?.model?.style, 'base');
    assert.equal(first?.prompt, task.prompt);
    assert.equal(first?.code, task.prompt + wrongBody);
    assert.match(repair?.prompt ?? '', /^# A previous attempt at the function below:\n#\n# def fizzbuzz/);
    assert.ok(repair?.prompt?.endsWith(`# A corrected version:\n${task.prompt}`));
    assert.deepEqual(model.calls[0]?.options.stop, task.stopSequences, 'the task stop sequences end a completion');
    assert.deepEqual(first?.model?.stop, task.stopSequences, 'and the record says so');
    assert.equal(first?.extracted_code, wrongBody, 'base style: the completion is the extracted code');
  });

  test('the wall-clock budget ends a slow model call and the loop reports it', async () => {
    const task = await example('examples/py/fizzbuzz');
    const wrong = fence(
      'python',
      task.prompt + (task.canonicalSolution ?? '').replace('range(1, n + 1)', 'range(1, n)'),
    );
    const model = createMockBackend({
      respond: () => ({ text: wrong, pieces: wrong.split(/(?<=\n)/) }),
      pieceDelayMs: 150,
    });
    const result = await solve(solveTaskFromDataset(task), { model, executor, budget: { maxWallMs: 700 } });
    assert.equal(result.stopReason, 'budget-wall');
    assert.equal(result.passed, false);
    const controller = new AbortController();
    const aborted = solve(solveTaskFromDataset(task), { model, executor, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stop now')), 100);
    await assert.rejects(aborted, /stop now/, "the caller's abort is rethrown unchanged");
  });

  test('repair+select: candidates are repaired against public and generated tests, then ranked by agreement', async () => {
    const task = await example('examples/js/is-palindrome');
    const right = task.prompt + (task.canonicalSolution ?? '');
    const wrong =
      task.prompt + (task.canonicalSolution ?? '').replace('let j = chars.length - 1', 'let j = chars.length - 2');
    const tests =
      '```javascript\nassert.deepStrictEqual(isPalindrome(""), true);\nassert.deepStrictEqual(isPalindrome("aba"), true);\nassert.deepStrictEqual(isPalindrome("ab"), false);\n```';
    const model = createMockBackend({
      respond: (request) =>
        lastUser(request).includes('different tests')
          ? tests
          : fence('javascript', lastUser(request).includes('Feedback:') ? right : wrong),
    });
    const result = await solve(solveTaskFromDataset(task), {
      model,
      executor,
      strategy: 'repair+select',
      strategyOverrides: { samples: 2, repairRounds: 1, testSamples: 1 },
    });
    assert.equal(result.passed, true);
    assert.deepEqual(
      result.attempts.map((record) => [record.attempt_id, record.kind, record.parent_id]),
      [
        ['a0', 'tests', null],
        ['a1', 'sample', null],
        ['a2', 'repair', 'a1'],
        ['a3', 'sample', null],
        ['a4', 'repair', 'a3'],
        ['a5', 'select', 'a2'],
      ],
    );
    assert.match(
      result.attempts[2]?.feedback_in?.text ?? '',
      /isPalindrome\("aba"\)/,
      'a generated test is part of the feedback',
    );
    assert.deepEqual(result.attempts[5]?.selection?.clusters, [
      { attempt_ids: ['a2', 'a4'], tests: 3, score: 3 * Math.SQRT2 },
    ]);
    assert.deepEqual(result.attempts[5]?.selection?.candidates, ['a2', 'a4']);
    assert.equal(result.generatedTests?.attemptsPassingGenerated, 2);
    assert.equal(result.generatedTests?.falsePositives, 0);
  });

  test('repair context: the last answer only (default) or the whole conversation; a prompt too long for the model ends its chain, not the solve', async () => {
    const task = await example('examples/py/fizzbuzz');
    const wrong = fence(
      'python',
      task.prompt + (task.canonicalSolution ?? '').replace('range(1, n + 1)', 'range(1, n)'),
    );
    for (const [repairContext, sizes] of [
      ['last', [1, 3, 3]],
      ['full', [1, 3, 5]],
    ] as const) {
      const model = createMockBackend({ respond: () => wrong });
      await solve(solveTaskFromDataset(task), {
        model,
        executor,
        strategyOverrides: { repairRounds: 2, repairContext },
      });
      assert.deepEqual(
        model.calls.map((call) => (call.request.kind === 'chat' ? call.request.messages.length : 0)),
        sizes,
        repairContext,
      );
    }
    const overflowing = createMockBackend({
      respond: (request) =>
        request.kind === 'chat' && request.messages.length > 1
          ? { error: new ModelError('context-overflow', 'the prompt is 2250 tokens but the context holds 1024') }
          : wrong,
    });
    const result = await solve(solveTaskFromDataset(task), {
      model: overflowing,
      executor,
      strategy: 'repair',
      strategyOverrides: { samples: 2 },
    });
    assert.equal(result.passed, false);
    assert.equal(result.programAttempts, 2, 'both samples ran; each repair was dropped');
    assert.equal(result.stopReason, 'strategy-done');
    assert.match(
      result.warnings.join('\n'),
      /a prompt did not fit the model's context and was dropped \(the prompt is 2250 tokens/,
    );
  });

  test(
    'a short context: calls ask for half of it, and raw prompts keep their end instead of being dropped',
    { skip },
    async () => {
      const task = await example('examples/py/fizzbuzz');
      const model = createMockBackend({
        respond: () => '    return []\n',
        capabilities: { supportsChat: false, contextLength: 256 },
      });
      await solve(solveTaskFromDataset(task), { model, executor, strategy: 'repair', style: 'base' });
      assert.ok(model.calls.length >= 2);
      for (const call of model.calls) {
        assert.equal(call.request.kind, 'complete');
        assert.equal(call.options.maxTokens, 128);
        assert.equal(call.options.promptOverflow, 'keep-end');
      }
    },
  );

  test('a failed model call ends the solve with stop reason model-error: the log and the result say why, and the verdict is on what it had', async () => {
    const task = await example('examples/py/fizzbuzz');
    const wrong = fence(
      'python',
      task.prompt + (task.canonicalSolution ?? '').replace('range(1, n + 1)', 'range(1, n)'),
    );
    const model = createMockBackend({
      respond: (request) =>
        lastUser(request).includes('Feedback:')
          ? { error: new ModelError('api-call-failed', 'HTTP 503 from http://127.0.0.1:9/v1/chat/completions') }
          : wrong,
    });
    const logPath = join(mkdtempSync(join(tmpdir(), 'codeloop-solve-')), 'attempts.jsonl');
    const log = createAttemptLog(logPath);
    const result = await solve(solveTaskFromDataset(task), { model, executor, strategy: 'repair', log });
    log.close();
    assert.equal(result.stopReason, 'model-error');
    assert.deepEqual(result.modelError, {
      code: 'api-call-failed',
      message: 'HTTP 503 from http://127.0.0.1:9/v1/chat/completions',
      afterAttemptId: 'a0',
    });
    assert.equal(result.passed, false);
    assert.equal(result.programAttempts, 1);
    const lines = readFileSync(logPath, 'utf8')
      .trim()
      .split('\n')
      .map(
        (line) =>
          JSON.parse(line) as { kind: string; parent_id: string | null; stop_reason?: string; model_error?: unknown },
      );
    assert.deepEqual(
      lines.map((line) => [line.kind, line.parent_id]),
      [
        ['sample', null],
        ['select', 'a0'],
      ],
    );
    assert.equal(lines[1]?.stop_reason, 'model-error');
    assert.deepEqual(lines[1]?.model_error, {
      code: 'api-call-failed',
      message: 'HTTP 503 from http://127.0.0.1:9/v1/chat/completions',
      after_attempt_id: 'a0',
    });
    // Before any program: no candidate, a failed verdict, still a select record.
    const broken = await solve(solveTaskFromDataset(task), {
      model: createMockBackend({
        respond: () => ({ error: new ModelError('model-load-failed', 'the backend crashed') }),
      }),
      executor,
    });
    assert.deepEqual(
      [
        broken.stopReason,
        broken.modelError?.code,
        broken.modelError?.message,
        broken.modelError?.afterAttemptId,
        broken.attempts.map((record) => record.kind),
      ],
      ['model-error', 'model-load-failed', 'the backend crashed', null, ['select']],
    );
    // Not a model failure: a usage error (a setting the backend refuses) or a bug reaches the caller.
    await assert.rejects(
      solve(solveTaskFromDataset(task), {
        model: createMockBackend({ respond: () => ({ error: new UsageError('topP=0 must be in (0, 1]') }) }),
        executor,
      }),
      { name: 'UsageError' },
    );
    await assert.rejects(
      solve(solveTaskFromDataset(task), {
        model: createMockBackend({ respond: () => ({ error: new TypeError('x is undefined') }) }),
        executor,
      }),
      { name: 'TypeError' },
    );
  });

  test('TypeScript: a type error fails the attempt as the reference harness would, and the tsc errors are the feedback', async () => {
    const task = await example('examples/ts/pascal-row');
    const right = task.prompt + (task.canonicalSolution ?? '');
    const typeError = `${task.prompt}  const unused: string = 1;\n${task.canonicalSolution ?? ''}`;
    const model = createMockBackend({
      respond: (request) => fence('typescript', lastUser(request).includes('does not compile') ? right : typeError),
    });
    const result = await solve(solveTaskFromDataset(task), { model, executor });
    assert.equal(result.passed, true, result.judgement.reason);
    const [first, repair] = result.attempts;
    assert.equal(first?.visible_all_pass, false);
    assert.deepEqual(new Set(first?.tests.map((test) => test.status)), new Set(['compile-error']));
    assert.match(
      repair?.feedback_in?.text ?? '',
      /^The program does not compile \(TypeScriptError: main\.ts\(\d+,\d+\): error TS2322: Type 'number' is not assignable to type 'string'\.\)/,
    );
  });

  test("select with a completion model: CodeT's test prompt, then agreement", async () => {
    const task = parseSolveTaskFile(
      JSON.stringify({
        language: 'python',
        prompt: 'def add(a, b):\n    """Return a + b."""\n',
        starter: 'def add(a, b):\n    """Return a + b."""\n',
        entryPoint: 'add',
        hiddenTests: ['assert add(5, 5) == 10'],
      }),
      'add.json',
    );
    const bodies = ['    return a - b\n', '    return a + b\n', '    return a * b\n'];
    let sample = 0;
    const model = createMockBackend({
      capabilities: { supportsChat: false },
      respond: (request) =>
        request.kind === 'complete' && request.prompt.endsWith('assert add(')
          ? '1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 7) == 7\n'
          : (bodies[sample++] ?? ''),
    });
    const result = await solve(task, {
      model,
      executor,
      strategy: 'select',
      strategyOverrides: { samples: 3, testSamples: 1 },
    });
    assert.equal(result.attempts[0]?.code, 'assert add(1, 2) == 3\nassert add(2, 2) == 4\nassert add(0, 7) == 7');
    // a + b passes all three; a * b passes add(2, 2) only; a - b none.
    assert.deepEqual(result.attempts.at(-1)?.selection?.clusters, [
      { attempt_ids: ['a2'], tests: 3, score: 3 },
      { attempt_ids: ['a3'], tests: 1, score: 1 },
    ]);
    assert.equal(result.passed, true);
  });

  test('a candidate that reads the test runner cannot smuggle hidden tests into its feedback', async () => {
    const task = parseSolveTaskFile(
      JSON.stringify({
        language: 'python',
        prompt: 'Write f(x) = 2x.',
        entryPoint: 'f',
        publicTests: ['assert f(1) == 2'],
        hiddenTests: ['assert f(21) == 42  # SECRET_MARKER'],
      }),
      'leak.json',
    );
    // The runner keeps the suite in a global (_SUITE); this program walks up its call stack to the runner's globals and
    // raises the hidden tests it finds there.
    const thief = [
      'import sys',
      'def f(x):',
      '    frame = sys._getframe()',
      "    while frame is not None and '_SUITE' not in frame.f_globals:",
      '        frame = frame.f_back',
      "    suite = frame.f_globals['_SUITE']",
      "    raise ValueError('hidden: ' + repr([s['code'] for s in suite['sources'] if s['origin'] == 'hidden']))",
      '',
    ].join('\n');
    const model = createMockBackend({ respond: () => fence('python', thief) });
    const result = await solve(task, { model, executor, strategyOverrides: { repairRounds: 1 } });
    const feedback = result.attempts[1]?.feedback_in?.text ?? '';
    assert.match(
      feedback,
      /ValueError: hidden: \[\]/,
      'the program ran, and found no hidden test next to the visible ones',
    );
    assert.ok(!shown(model.calls.map((call) => call.request)).includes('SECRET_MARKER'));
    assert.equal(
      result.attempts[0]?.tests.find((test) => test.origin === 'hidden')?.status,
      'error',
      'the hidden test still ran, in its own execution',
    );
  });

  test("stderr: the visible run's tail is recorded and can be shown (alphacodium-io@2); the hidden run's never", async () => {
    const task = parseSolveTaskFile(
      JSON.stringify({
        language: 'python',
        prompt: 'Write f(x) = 2x.',
        entryPoint: 'f',
        publicTests: ['assert f(1) == 2'],
        hiddenTests: ['assert f(21) == 42'],
      }),
      'stderr.json',
    );
    const noisy = 'import sys\ndef f(x):\n    print("f called with", x, file=sys.stderr)\n    return x + 3\n';
    const model = createMockBackend({ respond: () => fence('python', noisy) });
    const result = await solve(task, {
      model,
      executor,
      feedbackTemplate: 'alphacodium-io@2',
      strategyOverrides: { repairRounds: 1 },
    });
    const [first, repair] = result.attempts;
    assert.match(first?.stderr_tail ?? '', /f called with 1\n/);
    assert.ok(
      !(first?.stderr_tail ?? '').includes('called with 21'),
      `the hidden run's stderr was kept: ${first?.stderr_tail}`,
    );
    assert.match(
      repair?.feedback_in?.text ?? '',
      /The program wrote this to stderr \(the end of it\):\nf called with 1$/,
    );
    assert.ok(!shown(model.calls.map((call) => call.request)).includes('called with 21'));
  });

  test('a feedback template that does not fit the task is refused before any model call', async () => {
    const model = createMockBackend({ respond: () => '' });
    const command = commandSolveTask({
      source: 'x = 1\n',
      sourcePath: 'x.py',
      language: 'python',
      command: 'true',
      files: {},
    });
    await assert.rejects(
      solve(command, { model, executor, feedbackTemplate: 'reflexion@1' }),
      /Feedback template "reflexion@1" does not fit a test-command task \(--file with --test-command\): use one of plain@1, command-output@1/,
    );
    await assert.rejects(
      solve(solveTaskFromDataset(await example('examples/py/fizzbuzz')), {
        model,
        executor,
        feedbackTemplate: 'command-output@1',
      }),
      /Feedback template "command-output@1" does not fit a task with per-test results/,
    );
    assert.equal(model.calls.length, 0);
  });

  test('no visible tests: no vacuous visible pass, no repair from empty feedback; stop reason no-visible-tests', async () => {
    const task = parseSolveTaskFile(
      JSON.stringify({
        language: 'python',
        prompt: 'Write f(x) = 2x.',
        entryPoint: 'f',
        hiddenTests: ['assert f(21) == 42'],
      }),
      'blind.json',
    );
    const wrong = fence('python', 'def f(x):\n    return x + 2\n');
    const model = createMockBackend({ respond: () => wrong });
    const result = await solve(task, { model, executor, strategy: 'repair' });
    assert.equal(result.stopReason, 'no-visible-tests');
    assert.deepEqual(
      result.attempts.map((record) => [record.kind, record.visible_all_pass, record.visible_pass_rate]),
      [
        ['sample', false, null],
        ['select', false, null],
      ],
    );
    assert.equal(result.passed, false);
    assert.equal(model.calls.length, 1);
    assert.match(result.warnings.join('\n'), /no public or generated tests/);
    // A program that does not even load still gets its error as feedback.
    let call = 0;
    const broken = createMockBackend({
      respond: () => (call++ === 0 ? fence('python', 'def f(x:\n') : fence('python', 'def f(x):\n    return 2 * x\n')),
    });
    const repaired = await solve(task, { model: broken, executor, strategy: 'repair' });
    assert.deepEqual(
      repaired.attempts.map((record) => record.kind),
      ['sample', 'repair', 'select'],
    );
    assert.match(repaired.attempts[1]?.feedback_in?.text ?? '', /^The program does not compile/);
    assert.deepEqual([repaired.passed, repaired.stopReason], [true, 'no-visible-tests']);
  });

  test('a user task file: hidden tests judge, public ones steer', async () => {
    const task = parseSolveTaskFile(
      JSON.stringify({
        id: 'clamp',
        language: 'python',
        prompt: 'Write clamp(x, lo, hi): x limited to the range [lo, hi].',
        entryPoint: 'clamp',
        publicTests: ['assert clamp(5, 0, 3) == 3'],
        hiddenTests: ['assert clamp(-1, 0, 3) == 0', 'assert clamp(9, 0, 3) == 3'],
      }),
      'clamp.json',
    );
    const model = createMockBackend({
      respond: (request) =>
        lastUser(request).includes('Feedback:')
          ? fence('python', 'def clamp(x, lo, hi):\n    return max(lo, min(x, hi))\n')
          : fence('python', 'def clamp(x, lo, hi):\n    return max(lo, x)\n'),
    });
    const result = await solve(task, { model, executor });
    assert.equal(result.passed, true);
    assert.equal(result.judgement.by, 'hidden-tests');
    assert.equal(result.judgement.reason, '2/2 hidden tests passed');
    assert.equal(result.attempts[0]?.pass_rate, 0.5);
  });
});

test('withoutTimings: runner timing figures become <time>, other numbers stay', () => {
  assert.equal(
    withoutTimings(
      'Ran 1 test in 0.001s\n1 failed in 0.12s\n Duration  1.23s\nok 1 (3ms)\n# duration_ms 12.5\n1 not found in 2 places\n',
    ),
    'Ran 1 test in <time>\n1 failed in <time>\n Duration  <time>\nok 1 (<time>)\n# duration_ms <time>\n1 not found in 2 places\n',
  );
});
