import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMockBackend, type GenerateOptions, type ModelBackend, type StreamPart } from '../models/index.js';
import { getFimFormat } from '../models/fim-formats/fim-formats.js';
import { createCompletionEngine, promptBudgetFor, suffixSafeEnd } from './completion-engine.js';

const document = 'from .shapes import area\n\ndef total_area(shapes):\n    ';
const shapes = { path: 'pkg/shapes.py', text: 'def area(shape):\n    return shape.w * shape.h\n' };

test('renders the family FIM prompt: repository context in file-separator layout, current file last, format stops sent', async () => {
  const model = createMockBackend({
    respond: () => 'return sum(area(shape) for shape in shapes)\n\n\ndef other():\n    pass',
  });
  const engine = createCompletionEngine({ model, format: getFimFormat('qwen2.5-coder') });
  const result = await engine.complete({
    text: document,
    cursor: document.length,
    path: 'pkg/main.py',
    files: [shapes],
  });
  assert.equal(result.text, 'return sum(area(shape) for shape in shapes)');
  assert.equal(result.mode, 'multi-line');
  // The stream was cut at the dedent before its finish part: usage is counted with the token counter.
  assert.ok(result.usage.promptTokens > 0 && result.usage.completionTokens > 0);
  assert.equal(result.cache, 'miss');
  const call = model.calls[0];
  assert.equal(call?.request.kind, 'complete');
  const prompt = call?.request.kind === 'complete' ? call.request.prompt : '';
  assert.equal(
    prompt,
    `<|file_sep|>pkg/shapes.py\ndef area(shape):\n    return shape.w * ` +
      `shape.h\n<|file_sep|>pkg/main.py\n<|fim_prefix|>${document}<|fim_suffix|><|fim_middle|>`,
  );
  assert.ok(call?.options.stop?.includes('<|file_sep|>'));
  assert.equal(call?.options.temperature, 0);
});

test('without a format the backend infills; context goes into the prefix as comments', async () => {
  const model = createMockBackend({ respond: () => 'return 0' });
  const engine = createCompletionEngine({ model });
  await engine.complete({ text: document, cursor: document.length, path: 'pkg/main.py', files: [shapes] });
  const call = model.calls[0];
  assert.equal(call?.request.kind, 'infill');
  const prefix = call?.request.kind === 'infill' ? call.request.prefix : '';
  assert.ok(prefix.startsWith('# Path: pkg/shapes.py\n# def area(shape):\n#     return shape.w * shape.h\n'), prefix);
  assert.ok(prefix.endsWith(document));
});

test('cache: an exact repeat and typed-ahead text are served without the model', async () => {
  const model = createMockBackend({ respond: () => 'return len(shapes)' });
  const engine = createCompletionEngine({ model });
  const first = await engine.complete({ text: document, cursor: document.length });
  assert.equal(first.text, 'return len(shapes)');
  const again = await engine.complete({ text: document, cursor: document.length });
  assert.deepEqual([again.cache, again.text], ['hit', 'return len(shapes)']);
  const typed = `${document}return le`;
  const ahead = await engine.complete({ text: typed, cursor: typed.length });
  assert.deepEqual([ahead.cache, ahead.text, ahead.modelMs], ['typed-ahead', 'n(shapes)', 0]);
  assert.equal(model.calls.length, 1);
  // Typing something else is a miss.
  const other = `${document}x`;
  await engine.complete({ text: other, cursor: other.length });
  assert.equal(model.calls.length, 2);
  assert.deepEqual([engine.stats.cacheHits, engine.stats.typedAheadHits, engine.stats.modelCalls], [1, 1, 2]);
});

/** A backend that streams `first`, waits for `gate`, then streams `rest`; counts aborts it sees. */
function gatedBackend(
  first: string,
  rest: string[],
): { model: ModelBackend; open: () => void; aborts: () => number; calls: () => number } {
  const base = createMockBackend({ respond: () => '' });
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let aborts = 0;
  let calls = 0;
  async function* stream(options: GenerateOptions = {}): AsyncIterable<StreamPart> {
    calls += 1;
    options.signal?.addEventListener('abort', () => (aborts += 1), { once: true });
    yield { type: 'start', modelId: 'gated', warnings: [] };
    yield { type: 'text-delta', text: first };
    await Promise.race([
      gate,
      new Promise((_resolve, reject) =>
        options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }),
      ),
    ]);
    for (const text of rest) yield { type: 'text-delta', text };
    yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } };
  }
  const model: ModelBackend = {
    ...base,
    streamInfill: (_prefix, _suffix, options) => stream(options),
    streamComplete: (_prompt, options) => stream(options),
  };
  return { model, open: release, aborts: () => aborts, calls: () => calls };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('in-flight reuse: a keystroke that types the start of a running generation joins it', async () => {
  const gated = gatedBackend('return', [' len(shapes)']);
  const engine = createCompletionEngine({ model: gated.model });
  const controller = new AbortController();
  const first = engine.complete({ text: document, cursor: document.length }, { signal: controller.signal });
  while (gated.calls() === 0) await tick();
  await tick();
  // The editor cancels the first request on the next keystroke, as LSP clients do.
  const reason = new Error('superseded by a keystroke');
  controller.abort(reason);
  await assert.rejects(first, (error) => error === reason);
  const typed = `${document}re`;
  const second = engine.complete({ text: typed, cursor: typed.length });
  await tick();
  gated.open();
  const result = await second;
  assert.deepEqual([result.cache, result.text], ['in-flight', 'turn len(shapes)']);
  assert.equal(gated.calls(), 1);
  assert.equal(engine.stats.inFlightHits, 1);
});

test('a keystroke that cannot reuse the running generation aborts it', async () => {
  const gated = gatedBackend('return', [' 1']);
  const engine = createCompletionEngine({ model: gated.model });
  const controller = new AbortController();
  const first = engine.complete({ text: document, cursor: document.length }, { signal: controller.signal });
  while (gated.calls() === 0) await tick();
  await tick();
  controller.abort(new Error('cancelled'));
  await assert.rejects(first, /cancelled/);
  const other = `${document}x = `;
  const second = engine.complete({ text: other, cursor: other.length });
  await tick();
  assert.equal(gated.aborts(), 1);
  assert.equal(engine.stats.abandoned, 1);
  gated.open();
  const result = await second;
  assert.equal(result.cache, 'miss');
  assert.equal(gated.calls(), 2);
});

/** A backend whose stream sends `pieces` at once and then stalls until aborted (a slow CPU model, deterministically). */
function stallingBackend(pieces: string[]): ModelBackend {
  const base = createMockBackend({ respond: () => '' });
  async function* stream(options: GenerateOptions = {}): AsyncIterable<StreamPart> {
    yield { type: 'start', modelId: 'stalling', warnings: [] };
    for (const text of pieces) yield { type: 'text-delta', text };
    await new Promise((_resolve, reject) =>
      options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }),
    );
  }
  return {
    ...base,
    streamInfill: (_prefix, _suffix, options) => stream(options),
    streamComplete: (_prompt, options) => stream(options),
  };
}

test('soft deadline returns the complete lines ready; hard deadline returns nothing', async () => {
  const slow = stallingBackend(['total = 0\n', '    for shape in shapes:\n', '        total +=']);
  const engine = createCompletionEngine({ model: slow, softDeadlineMs: 30, hardDeadlineMs: 10_000 });
  const result = await engine.complete({ text: document, cursor: document.length });
  assert.equal(result.finishReason, 'soft-deadline');
  assert.equal(result.text, 'total = 0\n    for shape in shapes:');

  const strict = createCompletionEngine({ model: stallingBackend(['']), softDeadlineMs: 10, hardDeadlineMs: 40 });
  const line = 'value = ';
  const timedOut = await strict.complete({ text: line, cursor: line.length });
  assert.deepEqual([timedOut.finishReason, timedOut.text], ['hard-deadline', '']);

  // Before the first token only firstTokenTimeoutMs applies (a model still loading is not cut off by hardDeadlineMs).
  const silent = createCompletionEngine({
    model: stallingBackend([]),
    softDeadlineMs: 5,
    hardDeadlineMs: 5,
    firstTokenTimeoutMs: 60,
  });
  const started = performance.now();
  const gaveUp = await silent.complete({ text: line, cursor: line.length });
  assert.equal(gaveUp.finishReason, 'hard-deadline');
  assert.ok(performance.now() - started >= 55, 'waited for firstTokenTimeoutMs, not hardDeadlineMs');
  assert.match(gaveUp.warnings.join('\n'), /no token within firstTokenTimeoutMs \(60 ms\)/);
});

test('mid-line before code gets no completion and no model call; raw mode skips post-processing', async () => {
  const model = createMockBackend({ respond: () => '  return 1\n\n\nprint(2)' });
  const engine = createCompletionEngine({ model });
  const line = 'x = compute() + other';
  const none = await engine.complete({ text: line, cursor: 4 });
  assert.deepEqual([none.mode, none.finishReason, model.calls.length], ['none', 'not-applicable', 0]);
  const raw = await engine.complete({ text: document, cursor: document.length, postProcess: false });
  assert.equal(raw.text, '  return 1\n\n\nprint(2)');
});

test('bad requests and options are usage errors naming the value', async () => {
  const model = createMockBackend({ respond: () => '' });
  const engine = createCompletionEngine({ model });
  await assert.rejects(
    engine.complete({ text: 'abc', cursor: 7 }),
    /request\.cursor=7 must be an integer offset between 0 and the document length \(3\)/,
  );
  assert.throws(
    () => createCompletionEngine({ model, prefixShare: 0.9, suffixShare: 0.2 }),
    /prefixShare \+ suffixShare = 1\.1/,
  );
  assert.throws(
    () =>
      createCompletionEngine({
        model: createMockBackend({ respond: () => '', capabilities: { supportsInfill: false } }),
      }),
    /cannot infill and no FIM format was given; pass format/,
  );
});

test('Tabby #3367 (cancelling completions cancels the model load): the first generation is not aborted before the model answers', async () => {
  const base = createMockBackend({ respond: () => '' });
  let release: () => void = () => {};
  const loaded = new Promise<void>((resolve) => (release = resolve));
  let aborts = 0;
  async function* stream(options: GenerateOptions = {}): AsyncIterable<StreamPart> {
    options.signal?.addEventListener('abort', () => (aborts += 1), { once: true });
    yield { type: 'start', modelId: 'loading', warnings: [] };
    await loaded; // the server is loading the model
    yield { type: 'text-delta', text: 'return 1' };
    yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } };
  }
  const model: ModelBackend = {
    ...base,
    streamInfill: (_prefix, _suffix, options) => stream(options),
    streamComplete: (_prompt, options) => stream(options),
  };
  const engine = createCompletionEngine({ model, abandonGraceMs: 0 });
  const controller = new AbortController();
  const first = engine.complete({ text: document, cursor: document.length }, { signal: controller.signal });
  await tick();
  controller.abort(new Error('keystroke'));
  await assert.rejects(first, /keystroke/);
  const other = `${document}x = `;
  const second = engine.complete({ text: other, cursor: other.length });
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(aborts, 0);
  release();
  assert.equal((await second).text, 'return 1');
  assert.equal(engine.stats.abandoned, 0);
});

test("the prompt budget is capped at the model's context minus maxTokens and a margin, measured with the model's tokenizer", async () => {
  const model = createMockBackend({ respond: () => 'return 0', capabilities: { contextLength: 200 } });
  const engine = createCompletionEngine({ model, format: getFimFormat('qwen2.5-coder') });
  const long = Array.from({ length: 400 }, (_, index) => `x_${index} = compute(${index}, "a b c d")`).join('\n');
  const text = `${long}\ndef f():\n    \n${long}`;
  const result = await engine.complete({ text, cursor: long.length + 14 });
  assert.equal(result.promptTruncated, true);
  assert.equal(
    (await createCompletionEngine({ model }).complete({ text: document, cursor: document.length })).promptTruncated,
    false,
  );
  const call = model.calls[0];
  const prompt = call?.request.kind === 'complete' ? call.request.prompt : '';
  // The mock counts word pieces, far more per character than the engine's 3.5-character estimate: the prompt is
  // measured and cut again until it fits 200 − 100 (half the context for the completion) − 18 (margin) = 82 tokens.
  const measured = (await model.countTokens?.(prompt.replace(/<\|fim_(prefix|suffix|middle)\|>/g, '\n'))) ?? Infinity;
  assert.ok(measured + 3 <= 82, `prompt of ${measured} tokens: ${prompt.slice(0, 200)}`);
  assert.ok(prompt.includes('def f():\n    <|fim_suffix|>'), prompt);
});

test('onTextDelta: whole lines arrive while the model is still generating; they concatenate to the start of the result', async () => {
  const body = 'total = 0\n    for shape in shapes:\n        total += area(shape)\n    ';
  const gated = gatedBackend(body, ['return total\n\n\ndef other():\n    pass']);
  const engine = createCompletionEngine({ model: gated.model });
  const deltas: string[] = [];
  const pending = engine.complete(
    { text: document, cursor: document.length, language: 'python' },
    { onTextDelta: (text) => deltas.push(text) },
  );
  for (let waited = 0; deltas.length === 0 && waited < 200; waited += 1) await tick();
  // Before the gate opens: the three complete lines, not the open last line.
  assert.deepEqual(deltas, ['total = 0\n    for shape in shapes:\n        total += area(shape)']);
  gated.open();
  const result = await pending;
  assert.equal(result.text, 'total = 0\n    for shape in shapes:\n        total += area(shape)\n    return total');
  assert.ok(result.text.startsWith(deltas.join('')));
  // Streaming changes nothing in the result: it equals a run nobody streams from, and no sent text was kept over it.
  const plain = gatedBackend(body, ['return total\n\n\ndef other():\n    pass']);
  const unstreamed = createCompletionEngine({ model: plain.model }).complete({
    text: document,
    cursor: document.length,
    language: 'python',
  });
  plain.open();
  assert.deepEqual([(await unstreamed).text, (await unstreamed).rules], [result.text, result.rules]);
  assert.ok(!result.rules.includes('keep-streamed'), result.rules.join());
  // A second caller that joins the same generation gets the same text from the cache.
  assert.equal(
    (await engine.complete({ text: document, cursor: document.length, language: 'python' })).text,
    result.text,
  );
});

test('streaming work is for streaming callers: nothing streamed, the hard deadline returns nothing; a late joiner still gets the lines', async () => {
  const body = 'total = 0\n    for shape in shapes:\n        total += area(shape)\n    ';
  const request = { text: document, cursor: document.length, language: 'python' };
  // Without onTextDelta the complete lines were committed anyway and returned as the hard deadline's partial text.
  const silent = gatedBackend(body, ['return total']);
  const unstreamed = await createCompletionEngine({ model: silent.model, hardDeadlineMs: 30 }).complete(request);
  assert.deepEqual([unstreamed.finishReason, unstreamed.text], ['hard-deadline', '']);
  // With a listener, what was sent is what comes back.
  const streamed = gatedBackend(body, ['return total']);
  const deltas: string[] = [];
  const sent = await createCompletionEngine({ model: streamed.model, hardDeadlineMs: 30 }).complete(request, {
    onTextDelta: (text) => deltas.push(text),
  });
  assert.deepEqual(
    [sent.finishReason, sent.text, deltas.join('')],
    ['hard-deadline', 'total = 0\n    for shape in shapes:\n        total += area(shape)', sent.text],
  );
  // A caller that joins a run nobody streamed from is sent the lines generated before it came.
  const joined = gatedBackend(body, ['return total\n\n\ndef other():\n    pass']);
  const engine = createCompletionEngine({ model: joined.model });
  const first = engine.complete(request);
  for (let waited = 0; joined.calls() === 0 && waited < 200; waited += 1) await tick();
  for (let waited = 0; waited < 20; waited += 1) await tick();
  const late: string[] = [];
  const second = engine.complete(request, { onTextDelta: (text) => late.push(text) });
  for (let waited = 0; late.length === 0 && waited < 200; waited += 1) await tick();
  assert.deepEqual(late, ['total = 0\n    for shape in shapes:\n        total += area(shape)']);
  joined.open();
  assert.equal((await second).cache, 'in-flight');
  assert.equal((await second).text, (await first).text);
  assert.equal(late.join('') + '\n    return total', (await first).text);
});

test('onTextDelta holds back what a later rule may cut: a repeated line, the re-typed suffix, code that does not parse yet', async () => {
  const run = async (
    completion: string,
    suffix: string,
  ): Promise<{ deltas: string[]; text: string; rules: string[] }> => {
    const gated = gatedBackend(completion, ['']);
    const engine = createCompletionEngine({ model: gated.model });
    const deltas: string[] = [];
    const text = `def f(items):\n    ${suffix}`;
    const pending = engine.complete(
      { text, cursor: text.length - suffix.length, language: 'python' },
      { onTextDelta: (delta) => deltas.push(delta) },
    );
    for (let waited = 0; gated.calls() === 0 && waited < 200; waited += 1) await tick();
    for (let waited = 0; waited < 20; waited += 1) await tick();
    const before = [...deltas];
    gated.open();
    const result = await pending;
    assert.ok(result.text.startsWith(before.join('')), `${JSON.stringify(before)} vs ${JSON.stringify(result.text)}`);
    return { deltas: before, text: result.text, rules: result.rules };
  };
  // The second `x += 1` may become a third: the guard would cut back to the first, so only the first is sent.
  assert.deepEqual((await run('x = 0\n    x += 1\n    x += 1\n    ', '')).deltas, ['x = 0\n    x += 1']);
  // A tail that could be the start of the re-typed suffix is held: the merge would leave it out of insert-only text.
  assert.equal(suffixSafeEnd('x = f(a,\n      b)', ')\n'), 'x = f(a,\n      b)'.length - 1);
  assert.equal(suffixSafeEnd('y = 1\n    return y', '\n    return y\n'), 5);
  assert.equal(suffixSafeEnd('y = 1', '  y = 2'), 5);
  // An open bracket does not parse until it is closed; then the lines go together.
  assert.deepEqual((await run('values = [\n', '\n    return items\n')).deltas, []);
  assert.deepEqual((await run('values = [\n        1,\n    ]\n', '\n    return items\n')).deltas, [
    'values = [\n        1,\n    ]',
  ]);
});

test('cache and in-flight reuse respect the request: mode, maxTokens and n_indent are part of the key; soft-deadline results are not cached', async () => {
  const model = createMockBackend({ respond: () => 'return len(shapes)' });
  const engine = createCompletionEngine({ model });
  const request = { text: document, cursor: document.length };
  await engine.complete(request);
  assert.equal((await engine.complete(request)).cache, 'hit');
  for (const other of [{ maxTokens: 4 }, { mode: 'single-line' as const }, { minIndent: 4 }]) {
    assert.equal((await engine.complete({ ...request, ...other })).cache, 'miss', JSON.stringify(other));
  }
  assert.equal(model.calls.length, 4);

  // What a soft deadline cut is asked for again.
  let calls = 0;
  const stalling = stallingBackend(['total = 0\n', '    for shape in shapes:\n', '        total +=']);
  const counted: ModelBackend = {
    ...stalling,
    streamInfill: (prefix, suffix, options) => (calls++, stalling.streamInfill(prefix, suffix, options)),
  };
  const soft = createCompletionEngine({ model: counted, softDeadlineMs: 20 });
  assert.equal((await soft.complete(request)).finishReason, 'soft-deadline');
  assert.equal((await soft.complete(request)).cache, 'miss');
  assert.equal(calls, 2);

  // A running multi-line generation is not joined by a single-line request at the same place.
  const gated = gatedBackend('return', [' len(shapes)']);
  const joined = createCompletionEngine({ model: gated.model });
  const first = joined.complete(request);
  while (gated.calls() === 0) await tick();
  await tick();
  const single = joined.complete({ ...request, mode: 'single-line' });
  await tick();
  gated.open();
  await first;
  assert.notEqual((await single).cache, 'in-flight');
  assert.equal(gated.calls(), 2);
});

test('a line on its way to more than the next suffix line does not end generation: `return r` grows into `return r2`', async () => {
  const text = 'def f(r, r2):\n    \n    return r\n';
  const cursor = 'def f(r, r2):\n    '.length;
  for (const mode of ['single-line', 'multi-line'] as const) {
    const model = createMockBackend({ respond: () => ({ pieces: ['return', ' r', '2', '\n'] }) });
    const engine = createCompletionEngine({ model });
    const result = await engine.complete({ text, cursor, mode });
    assert.equal(result.text, 'return r2', mode);
    assert.ok(!result.rules.includes('stop-at-suffix-line'), mode);
  }
  // The same line, complete, is the re-typed suffix line: nothing is shown.
  const retyped = createCompletionEngine({
    model: createMockBackend({ respond: () => ({ pieces: ['return', ' r', '\n'] }) }),
  });
  const result = await retyped.complete({ text, cursor, mode: 'multi-line' });
  assert.deepEqual([result.text, result.rules.includes('stop-at-suffix-line')], ['', true]);
});

test('sentinel strings in the user text are broken before rendering, so they cannot tokenize as control tokens', async () => {
  const model = createMockBackend({ respond: () => 'return 0' });
  const engine = createCompletionEngine({ model, format: getFimFormat('qwen2.5-coder') });
  const text = 'TOKENS = ["<|fim_prefix|>", "<|fim_middle|>"]\nEND = "<|endoftext|>"\ndef f():\n    ';
  const context = { path: 'pkg/<|repo_name|>.py', text: 'SEP = "<|file_sep|>"\n' };
  await engine.complete({ text, cursor: text.length, path: 'pkg/main.py', extraContext: [context] });
  const call = model.calls[0];
  const prompt = call?.request.kind === 'complete' ? call.request.prompt : '';
  const z = '\u200b';
  assert.equal(
    prompt,
    `<|file_sep|>pkg/<${z}|repo_name|>.py\nSEP = "<${z}|file_sep|>"\n\n<|file_sep|>pkg/main.py\n<|fim_prefix|>TOKENS ` +
      `= ["<${z}|fim_prefix|>", "<${z}|fim_middle|>"]\nEND = "<${z}|endoftext|>"\ndef f():\n    ` +
      `<|fim_suffix|><|fim_middle|>`,
  );
});

test('without a tokenizer the prompt budget keeps a 25% margin: the 3.5 characters/token estimate is all there is', async () => {
  // 200 − 100 (half the context for the completion) − margin: 18 (5%) when the prompt is measured, 58 (25%) when not.
  assert.deepEqual([promptBudgetFor(2048, 128, 200), promptBudgetFor(2048, 128, 200, false)], [82, 42]);
  const base = createMockBackend({ respond: () => 'return 0', capabilities: { contextLength: 200 } });
  const { countTokens: _unused, ...uncounted } = base;
  const model = uncounted as ModelBackend;
  const engine = createCompletionEngine({
    model,
    format: getFimFormat('qwen2.5-coder'),
    prefixShare: 0.5,
    suffixShare: 0.5,
  });
  const long = Array.from({ length: 400 }, (_, index) => `x_${index} = ${index}`).join('\n');
  await engine.complete({ text: `${long}\n`, cursor: long.length + 1 });
  const call = base.calls[0];
  const prompt = call?.request.kind === 'complete' ? call.request.prompt : '';
  // 42 tokens at 3.5 characters each, less the three sentinels: a budget of 82 would keep about twice as much.
  assert.ok(prompt.replace(/<\|fim_(prefix|suffix|middle)\|>/g, '').length <= 42 * 3.5, `${prompt.length}: ${prompt}`);
});

test('disabledRules: a switched-off rule neither fires nor changes the text; unknown names are refused with the list', async () => {
  const respond = (): string => 'return sum(area(shape) for shape in shapes)\n\ndef other():\n    pass';
  const full = createCompletionEngine({ model: createMockBackend({ respond }) });
  const withRule = await full.complete({ text: document, cursor: document.length });
  assert.equal(withRule.text, 'return sum(area(shape) for shape in shapes)');
  assert.ok(withRule.rules.includes('stop-at-dedent'), withRule.rules.join(','));
  const off = createCompletionEngine({ model: createMockBackend({ respond }), disabledRules: ['stop-at-dedent'] });
  const withoutRule = await off.complete({ text: document, cursor: document.length });
  assert.ok(!withoutRule.rules.includes('stop-at-dedent'), withoutRule.rules.join(','));
  assert.equal(withoutRule.text, 'return sum(area(shape) for shape in shapes)\n\ndef other():\n    pass');
  assert.throws(
    () =>
      createCompletionEngine({
        model: createMockBackend({ respond }),
        disabledRules: ['stop-at-dedent', 'no-such-rule'],
      }),
    (error: Error) =>
      error.message.startsWith('disabledRules: "no-such-rule" is not a rule; the rules are strip-think, ') &&
      error.message.includes('repetition') &&
      error.message.includes('syntax-rejected'),
  );
});

test('recentEdits: the text around a recent edit reaches the prompt after the other context; one the prompt already shows is dropped', async () => {
  const model = createMockBackend({ respond: () => 'return 0' });
  const engine = createCompletionEngine({ model, format: getFimFormat('qwen2.5-coder') });
  await engine.complete({
    text: document,
    cursor: document.length,
    path: 'pkg/main.py',
    files: [shapes],
    recentEdits: [
      { path: 'pkg/main.py', text: 'from .shapes import area\n\ndef total_area(shapes):', startLine: 0 },
      { path: 'pkg/report.py', text: 'def report(shapes):\n    print(total_area(shapes))', startLine: 7 },
    ],
  });
  const call = model.calls[0];
  const prompt = call?.request.kind === 'complete' ? call.request.prompt : '';
  assert.equal(
    prompt,
    `<|file_sep|>pkg/shapes.py\ndef area(shape):\n    return shape.w * shape.h\n<|file_sep|>pkg/report.py\ndef ` +
      `report(shapes):\n    ` +
      `print(total_area(shapes))\n<|file_sep|>pkg/main.py\n<|fim_prefix|>${document}<|fim_suffix|><|fim_middle|>`,
  );
});
