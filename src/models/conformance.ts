/**
 * The conformance suite every backend runs (mock, replay, openai-compatible against recorded servers, llama). It
 * registers node:test tests that check the contract in spec.ts through the public interface only, so it knows
 * nothing about any backend: it asks for a completion, derives what else to check from the text that came back
 * (a stop string from the middle of it, a maxTokens below its length), and compares complete with stream.
 *
 * Requirements on the backend under test: the default call options (temperature 0) must be deterministic, so that
 * `complete` and `streamComplete` of the same prompt give the same text, and the completion of
 * `CONFORMANCE_PROMPTS.complete` must be at least 2 characters and 3 tokens long. Recorded backends must hold
 * answers for every request the suite makes (see test/fixtures/openai-compatible/README.md).
 *
 * Usage, in a test file:
 *
 * ```ts
 * testBackendConformance({
 *   name: 'llama (tiny random GGUF)',
 *   createBackend: () => createLlamaBackend({ modelPath }),
 *   callOptions: { maxTokens: 24 },
 *   skip: { 'n-choices': 'the tiny model is too slow for n = 3 in CI' },
 * });
 * ```
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { UnsupportedCapabilityError } from './errors.js';
import {
  MODEL_SPEC_VERSION,
  type ChatMessage,
  type GenerateOptions,
  type GenerateResult,
  type ModelBackend,
  type StreamPart,
} from './spec.js';

/** Every case the suite has; a backend may skip any of them, with a reason. */
export const CONFORMANCE_CASES = [
  'metadata',
  'complete',
  'stream',
  'stop-sequences',
  'max-tokens',
  'abort',
  'abort-partial',
  'early-exit',
  'n-choices',
  'infill',
  'chat',
  'unsupported-capability',
  'unhonoured-settings',
  'close',
] as const;

export type ConformanceCase = (typeof CONFORMANCE_CASES)[number];

export interface ConformancePrompts {
  complete: string;
  infill: { prefix: string; suffix: string };
  chat: ChatMessage[];
}

/** The prompts the suite sends unless told otherwise. Recorded backends record answers for these. */
export const CONFORMANCE_PROMPTS: Readonly<ConformancePrompts> = {
  complete: 'def add(a, b):\n',
  infill: { prefix: 'def add(a, b):\n    ', suffix: '\n\n\nprint(add(1, 2))\n' },
  chat: [{ role: 'user', content: 'Write a Python function add(a, b) that returns the sum of a and b.' }],
};

/** The settings the suite adds for `n-choices`, and the `maxTokens` of `max-tokens`. */
export const CONFORMANCE_SETTINGS = { n: 3, temperature: 0.8, seed: 7, maxTokens: 2 } as const;

export interface ConformanceOptions {
  /** Shown in the suite's title: `backend conformance: NAME`. */
  name: string;
  /** Creates the backend. Called once for the suite (closed after it) and once more for the `close` case. */
  createBackend: () => ModelBackend | Promise<ModelBackend>;
  /** Cases this backend skips, each with its reason (shown as the skip message). */
  skip?: Partial<Record<ConformanceCase, string>>;
  /** Added to every call, e.g. `{ maxTokens: 24 }` for a slow model. Keep temperature 0. */
  callOptions?: GenerateOptions;
  /** Prompts instead of CONFORMANCE_PROMPTS. */
  prompts?: Partial<ConformancePrompts>;
  /** Per case, ms. Default 30000. */
  timeoutMs?: number;
  /**
   * Whether results name the stop string that ended them (`stopSequence`). Default true. False for servers that apply
   * stop strings themselves without saying which one matched (Ollama, llama-server's /v1, OpenAI): then
   * `stopSequence` may be undefined, but must not be another string.
   */
  reportsStopSequence?: boolean;
}

const FINISH_REASONS = ['stop', 'length', 'abort', 'error'];

/** All parts of a stream. */
export async function collectStream(stream: AsyncIterable<StreamPart>): Promise<StreamPart[]> {
  const parts: StreamPart[] = [];
  for await (const part of stream) parts.push(part);
  return parts;
}

const textOf = (parts: readonly StreamPart[]): string =>
  parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');

function finishOf(parts: readonly StreamPart[]): Extract<StreamPart, { type: 'finish' }> {
  const last = parts.at(-1);
  assert.ok(last?.type === 'finish', `a stream ends with a finish part; it ended with ${JSON.stringify(last)}`);
  return last;
}

/** Start first, then non-empty text deltas, then one finish, with usage. */
function assertStreamShape(parts: readonly StreamPart[]): void {
  const [first] = parts;
  assert.ok(first?.type === 'start', `a stream starts with a start part; it started with ${JSON.stringify(first)}`);
  assert.equal(typeof first.modelId, 'string');
  assert.ok(
    Array.isArray(first.warnings) && first.warnings.every((warning) => typeof warning === 'string'),
    'start.warnings is a list of strings',
  );
  const finish = finishOf(parts);
  for (const part of parts.slice(1, -1)) {
    assert.equal(
      part.type,
      'text-delta',
      `only text deltas come between start and finish, not ${JSON.stringify(part)}`,
    );
    if (part.type === 'text-delta') assert.ok(part.text.length > 0, 'a text delta is not empty');
  }
  assert.ok(FINISH_REASONS.includes(finish.finishReason), `finishReason ${finish.finishReason}`);
  assert.ok(
    Number.isInteger(finish.usage.promptTokens) && finish.usage.promptTokens >= 0,
    'usage.promptTokens is a count',
  );
  assert.ok(
    Number.isInteger(finish.usage.completionTokens) && finish.usage.completionTokens >= 0,
    'usage.completionTokens is a count',
  );
}

function assertResultShape(result: GenerateResult, choices: number): void {
  assert.equal(result.choices.length, choices, `${choices} choice(s)`);
  for (const choice of result.choices) {
    assert.equal(typeof choice.text, 'string');
    assert.ok(FINISH_REASONS.includes(choice.finishReason), `finishReason ${choice.finishReason}`);
    assert.ok(
      Number.isInteger(choice.completionTokens) && choice.completionTokens >= 0,
      'choice.completionTokens is a count',
    );
  }
  assert.ok(
    Number.isInteger(result.usage.promptTokens) && result.usage.promptTokens >= 0,
    'usage.promptTokens is a count',
  );
  assert.ok(
    Number.isInteger(result.usage.completionTokens) && result.usage.completionTokens >= 0,
    'usage.completionTokens is a count',
  );
  assert.ok(
    Array.isArray(result.warnings) && result.warnings.every((warning) => typeof warning === 'string'),
    'warnings is a list of strings',
  );
  assert.equal(typeof result.modelId, 'string');
}

/** A stop string from the middle of `text` (1–3 characters), and the text the backend must then return. */
export function stopFromText(text: string): { stop: string; expected: string } {
  assert.ok(
    text.length >= 2,
    `the stop-sequence case needs a completion of at least 2 characters; got ${JSON.stringify(text)}`,
  );
  const middle = Math.floor(text.length / 2);
  const stop = text.slice(middle, middle + 3);
  return { stop, expected: text.slice(0, text.indexOf(stop)) };
}

/** Registers the suite as a `describe` block. */
export function testBackendConformance(options: ConformanceOptions): void {
  const { name, createBackend, skip = {}, callOptions = {}, timeoutMs = 30_000, reportsStopSequence = true } = options;
  const prompts: ConformancePrompts = { ...CONFORMANCE_PROMPTS, ...options.prompts };
  const call = (extra: GenerateOptions = {}): GenerateOptions => ({ ...callOptions, ...extra });

  describe(`backend conformance: ${name}`, () => {
    let backend: ModelBackend | undefined;
    let full: GenerateResult | undefined;
    const get = (): ModelBackend => {
      assert.ok(backend !== undefined, 'createBackend failed (see the first failure)');
      return backend;
    };
    /** The plain completion every later case compares with. */
    const baseline = async (): Promise<GenerateResult> => (full ??= await get().complete(prompts.complete, call()));

    before(async () => {
      backend = await createBackend();
    });
    after(async () => {
      await backend?.close();
    });

    const caseTest = (
      id: ConformanceCase,
      title: string,
      run: () => Promise<void>,
      skipWhen?: () => string | undefined,
    ): void => {
      test(`${id}: ${title}`, { timeout: timeoutMs }, async (context) => {
        const reason = skip[id] ?? skipWhen?.();
        if (reason !== undefined) {
          context.skip(reason);
          return;
        }
        await run();
      });
    };

    caseTest('metadata', 'specVersion, provider, modelId and capabilities', async () => {
      const model = get();
      assert.equal(model.specVersion, MODEL_SPEC_VERSION);
      assert.ok(typeof model.provider === 'string' && model.provider !== '', 'provider is a name');
      assert.ok(typeof model.modelId === 'string' && model.modelId !== '', 'modelId is a name');
      for (const key of ['supportsInfill', 'supportsChat', 'supportsLogprobs', 'supportsSeed'] as const)
        assert.equal(typeof model.capabilities[key], 'boolean', key);
      if (model.countTokens !== undefined) {
        const count = await model.countTokens('def add(a, b):\n    return a + b\n');
        assert.ok(Number.isInteger(count) && count > 0, 'countTokens counts');
      }
    });

    caseTest('complete', 'one choice with text, finish reason and usage', async () => {
      assertResultShape(await baseline(), 1);
    });

    caseTest('stream', "start, text deltas, finish; the deltas concatenate to complete()'s text", async () => {
      const parts = await collectStream(get().streamComplete(prompts.complete, call()));
      assertStreamShape(parts);
      const whole = (await baseline()).choices[0];
      assert.equal(textOf(parts), whole?.text);
      assert.equal(finishOf(parts).finishReason, whole?.finishReason);
    });

    caseTest('stop-sequences', 'the text ends before the first stop string, in complete and stream', async () => {
      const { stop, expected } = stopFromText((await baseline()).choices[0]?.text ?? '');
      const result = await get().complete(prompts.complete, call({ stop: [stop] }));
      assertResultShape(result, 1);
      assert.equal(result.choices[0]?.text, expected, `cut at ${JSON.stringify(stop)}`);
      assert.equal(result.choices[0]?.finishReason, 'stop');
      const assertStop = (reported: string | undefined): void => {
        if (reportsStopSequence || reported !== undefined)
          assert.equal(reported, stop, 'stopSequence names the stop string');
      };
      assertStop(result.choices[0]?.stopSequence);
      const parts = await collectStream(get().streamComplete(prompts.complete, call({ stop: [stop] })));
      assertStreamShape(parts);
      assert.equal(textOf(parts), expected);
      assert.equal(finishOf(parts).finishReason, 'stop');
      assertStop(finishOf(parts).stopSequence);
    });

    caseTest('max-tokens', `maxTokens ${CONFORMANCE_SETTINGS.maxTokens} ends with finish reason length`, async () => {
      const whole = (await baseline()).choices[0];
      assert.ok(
        whole !== undefined && whole.completionTokens > CONFORMANCE_SETTINGS.maxTokens,
        `needs a baseline completion longer than ${CONFORMANCE_SETTINGS.maxTokens} tokens`,
      );
      const result = await get().complete(prompts.complete, call({ maxTokens: CONFORMANCE_SETTINGS.maxTokens }));
      assertResultShape(result, 1);
      const choice = result.choices[0];
      assert.equal(choice?.finishReason, 'length');
      assert.ok(
        (choice?.completionTokens ?? 0) <= CONFORMANCE_SETTINGS.maxTokens,
        `at most ${CONFORMANCE_SETTINGS.maxTokens} tokens, got ${choice?.completionTokens}`,
      );
      assert.ok(whole.text.startsWith(choice?.text ?? '\u0000'), 'the short text is the start of the full one');
      const parts = await collectStream(
        get().streamComplete(prompts.complete, call({ maxTokens: CONFORMANCE_SETTINGS.maxTokens })),
      );
      assertStreamShape(parts);
      assert.equal(finishOf(parts).finishReason, 'length');
      assert.equal(textOf(parts), choice?.text);
    });

    caseTest('abort', "an abort throws the signal's reason unchanged, before and during a stream", async () => {
      const reason = new Error('conformance: aborted on purpose');
      await assert.rejects(
        get().complete(prompts.complete, call({ signal: AbortSignal.abort(reason) })),
        (error) => error === reason,
      );
      await assert.rejects(
        collectStream(get().streamComplete(prompts.complete, call({ signal: AbortSignal.abort(reason) }))),
        (error) => error === reason,
      );
      const controller = new AbortController();
      let deltas = 0;
      await assert.rejects(
        (async () => {
          for await (const part of get().streamComplete(prompts.complete, call({ signal: controller.signal }))) {
            if (part.type !== 'text-delta') continue;
            deltas++;
            assert.equal(deltas, 1, 'no text arrives after the abort');
            controller.abort(reason);
          }
        })(),
        (error) => error === reason,
      );
    });

    caseTest('abort-partial', 'returnPartialOnAbort ends with finish reason abort and the text so far', async () => {
      const aborted = await get().complete(
        prompts.complete,
        call({ signal: AbortSignal.abort(new Error('x')), returnPartialOnAbort: true }),
      );
      assertResultShape(aborted, 1);
      assert.equal(aborted.choices[0]?.finishReason, 'abort');
      const controller = new AbortController();
      const parts: StreamPart[] = [];
      for await (const part of get().streamComplete(
        prompts.complete,
        call({ signal: controller.signal, returnPartialOnAbort: true }),
      )) {
        parts.push(part);
        if (part.type === 'text-delta') controller.abort(new Error('budget spent'));
      }
      assertStreamShape(parts);
      assert.equal(finishOf(parts).finishReason, 'abort');
      const whole = (await baseline()).choices[0]?.text ?? '';
      assert.ok(
        textOf(parts).length > 0 && whole.startsWith(textOf(parts)),
        'the partial text is the start of the full one',
      );
    });

    caseTest('early-exit', 'leaving a stream early frees it: later calls still run', async () => {
      for (let round = 0; round < 6; round++) {
        for await (const part of get().streamComplete(prompts.complete, call())) {
          if (part.type === 'text-delta') break;
        }
      }
      assertResultShape(await get().complete(prompts.complete, call()), 1);
    });

    caseTest('n-choices', `n = ${CONFORMANCE_SETTINGS.n} gives ${CONFORMANCE_SETTINGS.n} choices`, async () => {
      const { n, temperature, seed } = CONFORMANCE_SETTINGS;
      assertResultShape(await get().complete(prompts.complete, call({ n, temperature, seed })), n);
    });

    caseTest(
      'infill',
      'infill and streamInfill agree',
      async () => {
        const { prefix, suffix } = prompts.infill;
        const result = await get().infill(prefix, suffix, call());
        assertResultShape(result, 1);
        const parts = await collectStream(get().streamInfill(prefix, suffix, call()));
        assertStreamShape(parts);
        assert.equal(textOf(parts), result.choices[0]?.text);
      },
      () =>
        get().capabilities.supportsInfill
          ? undefined
          : 'capabilities.supportsInfill is false (see unsupported-capability)',
    );

    caseTest(
      'chat',
      'chat and streamChat agree',
      async () => {
        const result = await get().chat(prompts.chat, call());
        assertResultShape(result, 1);
        const parts = await collectStream(get().streamChat(prompts.chat, call()));
        assertStreamShape(parts);
        assert.equal(textOf(parts), result.choices[0]?.text);
      },
      () =>
        get().capabilities.supportsChat ? undefined : 'capabilities.supportsChat is false (see unsupported-capability)',
    );

    caseTest(
      'unsupported-capability',
      'calls the capabilities rule out throw UnsupportedCapabilityError',
      async () => {
        const isUnsupported = (capability: string) => (error: unknown) =>
          error instanceof UnsupportedCapabilityError &&
          error.code === 'unsupported-capability' &&
          error.capability === capability &&
          error.message.length > 20;
        const model = get();
        if (!model.capabilities.supportsInfill) {
          await assert.rejects(
            model.infill(prompts.infill.prefix, prompts.infill.suffix, call()),
            isUnsupported('infill'),
          );
          await assert.rejects(
            collectStream(model.streamInfill(prompts.infill.prefix, prompts.infill.suffix, call())),
            isUnsupported('infill'),
          );
        }
        if (!model.capabilities.supportsChat) {
          await assert.rejects(model.chat(prompts.chat, call()), isUnsupported('chat'));
          await assert.rejects(collectStream(model.streamChat(prompts.chat, call())), isUnsupported('chat'));
        }
      },
      () =>
        get().capabilities.supportsInfill && get().capabilities.supportsChat
          ? 'the backend supports infill and chat'
          : undefined,
    );

    caseTest(
      'unhonoured-settings',
      'settings the capabilities rule out come back as warnings; logprobs come back where supported',
      async () => {
        const model = get();
        const settings: { options: GenerateOptions; warning: RegExp }[] = [];
        if (!model.capabilities.supportsLogprobs) settings.push({ options: { logprobs: true }, warning: /logprob/i });
        if (!model.capabilities.supportsSeed) settings.push({ options: { seed: 1 }, warning: /seed/i });
        settings.push({ options: { n: 2 }, warning: /\bn\b|choice/i });
        for (const { options: extra, warning } of settings) {
          if (extra.n === undefined) {
            const result = await model.complete(prompts.complete, call(extra));
            assert.ok(
              result.warnings.some((text) => warning.test(text)),
              `complete(${JSON.stringify(extra)}) warns: ${JSON.stringify(result.warnings)}`,
            );
          }
          const [start] = await collectStream(model.streamComplete(prompts.complete, call(extra)));
          assert.ok(
            start?.type === 'start' && start.warnings.some((text) => warning.test(text)),
            `streamComplete(${JSON.stringify(extra)}) warns in its start part`,
          );
        }
        if (model.capabilities.supportsLogprobs) {
          const choice = (await model.complete(prompts.complete, call({ logprobs: true }))).choices[0];
          assert.ok(Array.isArray(choice?.logprobs), 'logprobs come back when supported and asked for');
          for (const entry of choice?.logprobs ?? [])
            assert.ok(typeof entry.token === 'string' && typeof entry.logprob === 'number');
        }
      },
    );

    caseTest('close', 'close is idempotent', async () => {
      const fresh = await createBackend();
      await fresh.close();
      await fresh.close();
    });
  });
}
