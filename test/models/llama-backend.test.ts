/**
 * The llama backend on tiny random-weight GGUFs (test/models/tiny-gguf.ts): the shared conformance suite, and what is
 * particular to running llama.cpp in-process (seeds, batched choices, FIM tokens, token counts, greedy decoding that
 * follows a plain-TS reference forward pass of the same weights, f16/q8_0 files, context limits).
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { CONFORMANCE_PROMPTS, testBackendConformance } from '../../src/models/conformance.js';
import { createLlamaBackend, type LlamaBackend } from '../../src/models/llama/index.js';
import {
  detectFimFormat,
  FIM_FAMILIES,
  ModelError,
  UnsupportedCapabilityError,
  openModel,
} from '../../src/models/index.js';
import { UsageError } from '../../src/core/index.js';
import { trainBpeTokenizer } from '../../src/train/bpe-tokenizer.js';
import { referenceForward } from '../../src/train/reference-forward.js';
import { buildTinyGguf, repoSourceText, tinyTokenizer } from './tiny-gguf.js';

/** ChatML as a Jinja template, so that chat() has something to render. */
const CHAT_TEMPLATE =
  "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";

// Seed 2's greedy completion of the conformance prompt runs 24 tokens without an end token (checked in 'complete').
const chatModel = await buildTinyGguf({
  seed: 2,
  metadata: { 'tokenizer.chat_template': CHAT_TEMPLATE },
  fileName: 'chat.gguf',
});
const plainModel = await buildTinyGguf({
  seed: 2,
  dir: chatModel.dir,
  fileName: 'plain.gguf',
  tokenizer: chatModel.tokenizer,
});
// Seed-Coder's special tokens (an SPM family) and no GGUF fim_* keys; the file is named after another family, to show
// that detection reads the tokens, not the name.
const SEED_CODER_TOKENS = [
  '<[end▁of▁sentence]>',
  '<[fim-prefix]>',
  '<[fim-suffix]>',
  '<[fim-middle]>',
  '<[begin▁of▁sentence]>',
];
const seedCoderModel = await buildTinyGguf({
  seed: 2,
  dir: chatModel.dir,
  fileName: 'qwen2.5-coder-7b.gguf',
  tokenizer: trainBpeTokenizer(await repoSourceText(), { vocabSize: 512, specialTokens: SEED_CODER_TOKENS }),
});
after(() => chatModel.cleanup());

testBackendConformance({
  name: 'llama (tiny random GGUF with a chat template)',
  createBackend: () => createLlamaBackend({ modelPath: chatModel.path, sequences: 4 }),
  callOptions: { maxTokens: 24 },
  skip: {
    'unsupported-capability': 'this model has FIM tokens and a chat template; the no-template case is tested below',
  },
});

describe('llama backend', () => {
  const backends: LlamaBackend[] = [];
  const open = async (
    modelPath: string,
    options: Partial<Parameters<typeof createLlamaBackend>[0]> = {},
  ): Promise<LlamaBackend> => {
    const backend = await createLlamaBackend({ modelPath, ...options });
    backends.push(backend);
    return backend;
  };
  after(async () => {
    for (const backend of backends) await backend.close();
  });

  test('the same seed gives the same text; n = 3 at temperature 1 gives 3 distinct samples', async () => {
    const backend = await open(plainModel.path, { sequences: 3 });
    const options = { maxTokens: 16, temperature: 1, seed: 11 };
    const first = await backend.complete('export function ', options);
    const again = await backend.complete('export function ', options);
    assert.equal(again.choices[0]!.text, first.choices[0]!.text);
    const other = await backend.complete('export function ', { ...options, seed: 12 });
    assert.notEqual(other.choices[0]!.text, first.choices[0]!.text);
    const three = await backend.complete('export function ', { ...options, n: 3 });
    assert.equal(three.choices.length, 3);
    assert.equal(new Set(three.choices.map((choice) => choice.text)).size, 3, JSON.stringify(three.choices));
    // Choice i uses seed + i: choice 0 is the single call's sample with the same seed.
    assert.equal(three.choices[0]!.text, first.choices[0]!.text);
    assert.equal(
      three.usage.completionTokens,
      three.choices.reduce((sum, choice) => sum + choice.completionTokens, 0),
    );
  });

  test("greedy n > 1 decodes once and copies: n choices, one decode's tokens in usage", async () => {
    const backend = await open(plainModel.path, { sequences: 1 });
    const single = await backend.complete('const x = ', { maxTokens: 12, logprobs: true });
    // With one sequence, n = 4 decoded apart would take four turns on it; copies take none.
    const greedy = await backend.complete('const x = ', { maxTokens: 12, n: 4, logprobs: true });
    assert.equal(greedy.choices.length, 4);
    // (logprobs may differ from the single call's in the 7th digit: the second call reuses the prompt's KV cache.)
    for (const choice of greedy.choices) assert.deepEqual(choice, greedy.choices[0]);
    assert.equal(greedy.choices[0]!.text, single.choices[0]!.text);
    assert.equal(greedy.choices[0]!.logprobs?.length, single.choices[0]!.completionTokens);
    assert.equal(greedy.usage.completionTokens, single.usage.completionTokens);
    assert.ok(single.usage.completionTokens > 0);
  });

  test('n, temperature, topP and topK out of range are usage errors naming the value (n = 0 is not an empty result)', async () => {
    const backend = await open(plainModel.path);
    const cases: [Parameters<LlamaBackend['complete']>[1], RegExp][] = [
      [{ n: 0 }, /^n=0 must be a positive integer/],
      [{ n: 1.5 }, /^n=1\.5 must be a positive integer/],
      [{ temperature: -1 }, /^temperature=-1 must be a number from 0 \(greedy\) to 2\.$/],
      [{ topP: 0 }, /^topP=0 must be in \(0, 1\]/],
      [{ topK: -2 }, /^topK=-2 must be a non-negative integer/],
    ];
    for (const [options, message] of cases) {
      await assert.rejects(
        backend.complete('x', options),
        (error) => error instanceof UsageError && message.test(error.message),
        JSON.stringify(options),
      );
    }
    await assert.rejects(async () => {
      for await (const part of backend.streamComplete('x', { n: 0 })) void part;
    }, /n=0 must be a positive integer/);
  });

  test('more choices than sequences run in waves and still come back in order', async () => {
    const backend = await open(plainModel.path, { sequences: 2 });
    const options = { maxTokens: 8, temperature: 1, seed: 100 };
    const batched = await backend.complete('const x = ', { ...options, n: 5 });
    assert.equal(batched.choices.length, 5);
    for (const [index, choice] of batched.choices.entries()) {
      const single = await backend.complete('const x = ', { ...options, seed: 100 + index });
      assert.equal(choice.text, single.choices[0]!.text, `choice ${index}`);
    }
  });

  test('a call waiting for a busy sequence can be aborted; the busy call still finishes', async () => {
    const backend = await open(plainModel.path, { sequences: 1 });
    const busy = backend.complete('const x = ', { maxTokens: 64, temperature: 1, seed: 1 });
    const reason = new Error('gave up waiting');
    const controller = new AbortController();
    const waiting = backend.complete('let y = ', { maxTokens: 4, signal: controller.signal });
    setTimeout(() => controller.abort(reason), 5);
    await assert.rejects(waiting, (error) => error === reason);
    assert.equal((await busy).choices.length, 1);
    assert.equal((await backend.complete('let y = ', { maxTokens: 2 })).choices.length, 1, 'the sequence was released');
  });

  test('greedy decoding follows the reference forward pass of the same weights token by token', async () => {
    const backend = await open(plainModel.path);
    // The tokenizer is trained on this repository's sources, so the weights' greedy path changes as the sources do.
    // Use the first prompt whose reference path has 10 ordinary tokens (a special token would end or mark the text).
    const greedyPath = (tokens: number[]): number[] => {
      const path: number[] = [];
      for (let step = 0; step < 10; step++) {
        const logits = referenceForward(plainModel.config, plainModel.weights, [...tokens, ...path]).at(-1)!;
        path.push(logits.indexOf(Math.max(...logits)));
      }
      return path;
    };
    const prompts = [
      CONFORMANCE_PROMPTS.complete,
      'function add(a, b) {\n',
      'const value = 1;\n',
      'export function ',
      'import { x } from',
      'class A {\n',
    ];
    const found = prompts
      .map((prompt) => ({ prompt, expected: greedyPath(plainModel.tokenizer.encode(prompt)) }))
      .find(({ expected }) => expected.every((id) => id >= 8));
    assert.ok(found !== undefined, 'some prompt has a greedy path without special tokens');
    const result = await backend.complete(found.prompt, { maxTokens: 10 });
    assert.equal(result.choices[0]!.text, plainModel.tokenizer.decode(found.expected), JSON.stringify(found.prompt));
    assert.equal(result.usage.promptTokens, plainModel.tokenizer.encode(found.prompt).length);
  });

  test("infill prompts are the model's own FIM tokens around the BPE tokens of prefix and suffix (PSM)", async () => {
    const backend = await open(plainModel.path);
    const { prefix, suffix } = CONFORMANCE_PROMPTS.infill;
    const { tokenizer } = plainModel;
    assert.deepEqual(await backend.promptTokens({ kind: 'infill', prefix, suffix }), [
      1,
      ...tokenizer.encode(prefix),
      3,
      ...tokenizer.encode(suffix),
      2,
    ]);
    // complete() parses special-token texts, as llama-server does: a rendered FIM prompt gives the same tokens.
    assert.deepEqual(
      await backend.promptTokens({
        kind: 'complete',
        prompt: `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`,
      }),
      await backend.promptTokens({ kind: 'infill', prefix, suffix }),
    );
    assert.equal(backend.ggufMetadata['tokenizer.ggml.fim_pre_token_id'], 1);
    assert.equal(detectFimFormat({ metadata: backend.ggufMetadata }).format, backend.fimFormat);
  });

  test('the FIM format is detected from the tokenizer on load: the embedded tokens give codeloop-embedded (PSM)', async () => {
    const backend = await open(plainModel.path);
    assert.equal(backend.fimFormat?.family, 'codeloop-embedded', backend.fimFormatReason);
    assert.equal(backend.capabilities.fimFamily, 'codeloop-embedded');
    assert.match(backend.fimFormatReason, /GGUF metadata names the FIM tokens '<\|fim_prefix\|>' \(1\)/);
    const result = await backend.infill('def f(', '):\n', { maxTokens: 8 });
    assert.deepEqual(result.warnings, []);
  });

  test("a vocabulary with Seed-Coder's sentinels is laid out SPM with its tokens, whatever the file is called", async () => {
    const backend = await open(seedCoderModel.path);
    assert.equal(backend.fimFormat?.family, 'seed-coder', backend.fimFormatReason);
    assert.match(
      backend.fimFormatReason,
      /special tokens '<\[fim-prefix\]>' \(1\), '<\[fim-suffix\]>' \(2\), '<\[fim-middle\]>' \(3\)/,
    );
    assert.equal(backend.capabilities.supportsInfill, true);
    const { tokenizer } = seedCoderModel;
    // <[fim-suffix]> S <[fim-prefix]> P <[fim-middle]>
    assert.deepEqual(await backend.promptTokens({ kind: 'infill', prefix: 'def f(', suffix: '):\n' }), [
      2,
      ...tokenizer.encode('):\n'),
      1,
      ...tokenizer.encode('def f('),
      3,
    ]);
    const result = await backend.infill('def f(', '):\n', { maxTokens: 16, temperature: 1, seed: 5 });
    // Its sentinels and end token end the middle: none is ever part of the text.
    for (const token of SEED_CODER_TOKENS.slice(0, 4))
      assert.ok(!result.choices[0]!.text.includes(token), result.choices[0]!.text);
  });

  test("fimFormat overrides detection; the sentinel probe's findings come back as warnings of infill calls", async () => {
    const backend = await open(plainModel.path, { fimFormat: 'starcoder' });
    assert.equal(backend.fimFormat?.family, 'starcoder');
    assert.equal(backend.fimFormatReason, 'override: starcoder (given explicitly)');
    const result = await backend.infill('a', 'b', { maxTokens: 2 });
    assert.ok(
      result.warnings.some((warning) =>
        warning.startsWith('Override starcoder differs from what the tokenizer says: GGUF metadata names'),
      ),
      JSON.stringify(result.warnings),
    );
    assert.ok(
      result.warnings.some((warning) =>
        /^StarCoder's FIM prefix token '<fim_prefix>' tokenizes to \d+ tokens \[/.test(warning),
      ),
      JSON.stringify(result.warnings),
    );
    // Only infill concerns the FIM format.
    assert.deepEqual((await backend.complete('a', { maxTokens: 2 })).warnings, []);
    await assert.rejects(
      createLlamaBackend({ modelPath: plainModel.path, fimFormat: 'qwen' }),
      (error) =>
        error instanceof UsageError &&
        error.message === `Unknown FIM format 'qwen'. Known formats: ${FIM_FAMILIES.join(', ')}.`,
    );
  });

  test('renderInfill replaces the FIM layout, and its stop strings end the middle', async () => {
    const backend = await open(plainModel.path, {
      renderInfill: (prefix, suffix) => ({
        prompt: `<|fim_suffix|>${suffix}<|fim_prefix|>${prefix}<|fim_middle|>`,
        stop: ['e'],
        warnings: ['rendered by the test'],
      }),
    });
    const { tokenizer } = plainModel;
    assert.deepEqual(await backend.promptTokens({ kind: 'infill', prefix: 'a', suffix: 'b' }), [
      3,
      ...tokenizer.encode('b'),
      1,
      ...tokenizer.encode('a'),
      2,
    ]);
    const result = await backend.infill('def f(', '):\n', { maxTokens: 40 });
    assert.ok(!result.choices[0]!.text.includes('e'));
    assert.deepEqual(result.warnings, ['rendered by the test']);
  });

  test('a token held back as a partial UTF-8 character is still output when an end token follows it', async () => {
    const prompt = 'const x = ';
    // A bigram model: with the blocks' outputs zeroed the residual stream is the current token's embedding, so the
    // output row aligned with a token's embedding makes it predict that row's token. Chain: the prompt's last token
    // → the lone byte 0xE6 (the first byte of a 3-byte character: it decodes to U+FFFD and is held back) → EOS (0).
    const built = await buildTinyGguf({
      seed: 3,
      dir: chatModel.dir,
      fileName: 'partial-utf8.gguf',
      tokenizer: plainModel.tokenizer,
      editWeights: (weights, tokenizer, config) => {
        for (const layer of weights.layers) {
          layer.wo.fill(0);
          layer.wDown.fill(0);
        }
        const { dim } = config;
        const row = (matrix: Float32Array, id: number): Float32Array => matrix.subarray(id * dim, (id + 1) * dim);
        const aim = (from: number, to: number): void => {
          const embedding = row(weights.tokenEmbedding, from);
          const length = Math.hypot(...embedding);
          row(weights.output!, to).set(embedding.map((value) => (10 * value) / length));
        };
        const last = tokenizer.encode(prompt).at(-1)!;
        const partial = tokenizer.data.vocab.indexOf('æ'); // byte 0xE6 in byte-to-unicode form
        assert.ok(partial >= 8, 'the byte token exists');
        aim(last, partial);
        aim(partial, 0);
      },
    });
    const backend = await open(built.path);
    const result = await backend.complete(prompt, { maxTokens: 8 });
    assert.deepEqual(result.choices[0], { text: '\uFFFD', finishReason: 'stop', completionTokens: 1 });
    const parts = [];
    for await (const part of backend.streamComplete(prompt, { maxTokens: 8 })) parts.push(part);
    assert.deepEqual(
      parts.filter((part) => part.type === 'text-delta'),
      [{ type: 'text-delta', text: '\uFFFD' }],
    );
  });

  test("countTokens is the BPE encoder's count", async () => {
    const backend = await open(plainModel.path);
    for (const text of ['', 'def add(a, b):\n    return a + b\n', 'const s = "日本語 🎉";\r\n\t<|fim_prefix|>']) {
      assert.equal(await backend.countTokens!(text), plainModel.tokenizer.encode(text).length, JSON.stringify(text));
    }
  });

  test('chat renders the chat template; without one chat() throws UnsupportedCapabilityError', async () => {
    const withTemplate = await open(chatModel.path);
    const messages = [{ role: 'user' as const, content: 'hi' }];
    const tokens = await withTemplate.promptTokens({ kind: 'chat', messages });
    assert.equal(chatModel.tokenizer.decode(tokens), '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n');
    const plain = await open(plainModel.path);
    assert.equal(plain.capabilities.supportsChat, false);
    await assert.rejects(
      plain.chat(messages),
      (error) =>
        error instanceof UnsupportedCapabilityError &&
        /has no chat template \(GGUF tokenizer\.chat_template is missing\)/.test(error.message),
    );
  });

  test('a prompt longer than the context throws context-overflow; maxTokens beyond it is cut with a warning', async () => {
    const backend = await open(plainModel.path, { contextSize: 256 });
    assert.equal(backend.capabilities.contextLength, 256);
    await assert.rejects(
      backend.complete('word '.repeat(300)),
      (error) =>
        error instanceof ModelError &&
        error.code === 'context-overflow' &&
        /the prompt is \d+ tokens but the context holds 256/.test(error.message),
    );
    const prompt = 'x '.repeat(120);
    const promptTokens = plainModel.tokenizer.encode(prompt).length;
    const result = await backend.complete(prompt, { maxTokens: 1000, temperature: 1, seed: 3 });
    assert.ok(
      result.warnings.some((warning) => warning.startsWith('maxTokens=1000: only')),
      JSON.stringify(result.warnings),
    );
    assert.ok(result.choices[0]!.completionTokens <= 256 - promptTokens);
  });

  test('promptOverflow keep-end: a prompt longer than the context keeps its end and says how many tokens it lost', async () => {
    const backend = await open(plainModel.path, { contextSize: 256 });
    const prompt = `${'word '.repeat(300)}def tail():\n`;
    const result = await backend.complete(prompt, { maxTokens: 200, promptOverflow: 'keep-end' });
    // Room for min(200, 256 / 2) = 128 generated tokens: the prompt keeps at most 128.
    assert.ok(result.usage.promptTokens <= 128, String(result.usage.promptTokens));
    assert.ok((result.truncatedPromptTokens ?? 0) >= 300 - 128, String(result.truncatedPromptTokens));
    assert.ok(
      result.warnings.some((warning) =>
        /^the prompt was \d+ tokens: its first \d+ were dropped to fit the 256-token context/.test(warning),
      ),
      JSON.stringify(result.warnings),
    );
    // A prompt that fits is not touched.
    const small = await backend.complete('def f():\n', { maxTokens: 4, promptOverflow: 'keep-end' });
    assert.equal(small.truncatedPromptTokens, undefined);
    // Without the option the overflow is still an error.
    await assert.rejects(
      backend.complete(prompt),
      (error) => error instanceof ModelError && error.code === 'context-overflow',
    );
  });

  test('unknown backendOptions are reported as warnings', async () => {
    const backend = await open(plainModel.path);
    const result = await backend.complete('x', { maxTokens: 2, backendOptions: { mirostat: 2 } });
    assert.deepEqual(result.warnings, [
      'backendOptions.mirostat: the llama backend has no such setting; it is ignored.',
    ]);
  });

  test('logprobs: one per generated token; at temperature 0 they are the reference log-softmax of the chosen tokens', async () => {
    const backend = await open(plainModel.path);
    const prompt = 'def add(a, b):\n';
    const result = await backend.complete(prompt, { maxTokens: 6, logprobs: true });
    const choice = result.choices[0]!;
    assert.equal(choice.logprobs?.length, choice.completionTokens);
    // Greedy: the chosen token is the reference's argmax (re-encoding the text would not give the same ids).
    const path = plainModel.tokenizer.encode(prompt);
    for (const [index, entry] of (choice.logprobs ?? []).entries()) {
      const logits = referenceForward(plainModel.config, plainModel.weights, path).at(-1)!;
      const max = Math.max(...logits);
      const logSum = Math.log(logits.reduce((sum, value) => sum + Math.exp(value - max), 0));
      const chosen = logits.indexOf(max);
      path.push(chosen);
      assert.equal(entry.token, plainModel.tokenizer.tokenText(chosen));
      assert.ok(
        Math.abs(entry.logprob - (logits[chosen]! - max - logSum)) < 1e-3,
        `token ${index}: ${entry.logprob} vs ${logits[chosen]! - max - logSum}`,
      );
    }
    // Without the flag there are none.
    assert.equal((await backend.complete(prompt, { maxTokens: 2 })).choices[0]!.logprobs, undefined);
  });

  test('f16 and q8_0 GGUFs load and generate', async () => {
    const tokenizer = await tinyTokenizer();
    for (const fileType of ['f16', 'q8_0'] as const) {
      const built = await buildTinyGguf({ fileType, tokenizer, dir: chatModel.dir, seed: 2 });
      const backend = await open(built.path);
      const result = await backend.complete('def add(a, b):\n', { maxTokens: 6 });
      assert.equal(result.choices.length, 1);
      assert.ok(result.choices[0]!.completionTokens > 0, fileType);
    }
  });

  test('openModel opens gguf:PATH and embedded (CODELOOP_EMBEDDED_MODEL) through this backend', async () => {
    const byName = await openModel(`gguf:${plainModel.path}`);
    backends.push(byName as LlamaBackend);
    assert.equal(byName.provider, 'llama');
    assert.equal(byName.modelId, `gguf:${plainModel.path}`);
    const saved = process.env.CODELOOP_EMBEDDED_MODEL;
    process.env.CODELOOP_EMBEDDED_MODEL = plainModel.path;
    try {
      const embedded = await openModel('embedded');
      backends.push(embedded as LlamaBackend);
      assert.equal(embedded.modelId, 'embedded');
      assert.equal((await embedded.complete('x', { maxTokens: 3 })).choices.length, 1);
    } finally {
      if (saved === undefined) delete process.env.CODELOOP_EMBEDDED_MODEL;
      else process.env.CODELOOP_EMBEDDED_MODEL = saved;
    }
  });

  test('a file that is not a GGUF fails to load with a message naming it', async () => {
    const { writeFile } = await import('node:fs/promises');
    const path = `${chatModel.dir}/not-a-model.gguf`;
    await writeFile(path, 'hello');
    await assert.rejects(
      createLlamaBackend({ modelPath: path }),
      (error) =>
        error instanceof ModelError &&
        error.code === 'model-load-failed' &&
        error.message.includes(`could not load ${path}`),
    );
    await assert.rejects(
      createLlamaBackend({ modelPath: `${chatModel.dir}/missing.gguf` }),
      (error) => error instanceof ModelError && error.code === 'model-not-found',
    );
  });
});
