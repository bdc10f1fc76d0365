// The openai-compatible backend against each server's responses (llama-server's recorded from a real server, the
// others reconstructed from their source and docs; see test/fixtures/openai-compatible/README.md), served on
// 127.0.0.1: the shared conformance suite, then each server's quirks as seen in the requests codeloop sends and the
// results it returns. Tests of the recorded server compare with the recorded values, so they follow a re-recording.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { collectStream, CONFORMANCE_PROMPTS, testBackendConformance } from '../../src/models/conformance.js';
import {
  ApiCallError,
  createOpenAICompatibleBackend,
  type OpenAICompatibleBackendOptions,
  type ServerFlavor,
} from '../../src/models/index.js';
import { fixturesRoot, startFakeServer, type Exchange, type FakeServer } from './fake-openai-server.js';

/** The recorded answer of a named exchange (for tests that compare with what the server really sent). */
const recordedBody = (server: string, name: string): unknown =>
  (
    JSON.parse(readFileSync(join(fixturesRoot(), server, 'exchanges.json'), 'utf8')) as { exchanges: Exchange[] }
  ).exchanges.find((exchange) => exchange.name === name)?.body;

/** The JSON events of a recorded stream, without `[DONE]`. */
const recordedEvents = (server: string, file: string): Record<string, unknown>[] =>
  readFileSync(join(fixturesRoot(), server, file), 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('data: ') && line !== 'data: [DONE]')
    .map((line) => JSON.parse(line.slice('data: '.length)) as Record<string, unknown>);

/** Qwen2.5-Coder's FIM layout, as src/fim renders it; inline so these fixtures do not move with src/fim. */
const renderQwenInfill = (prefix: string, suffix: string) => ({
  prompt: `<|fim_prefix|>${prefix}<|fim_suffix|>${suffix}<|fim_middle|>`,
  stop: ['<|endoftext|>', '<|fim_pad|>', '<|repo_name|>', '<|file_sep|>', '<|im_end|>'],
});

const servers = new Map<ServerFlavor, FakeServer>();
for (const flavor of ['vllm', 'sglang', 'ollama', 'llama-server', 'openai'] as const)
  servers.set(flavor, await startFakeServer(flavor));
after(() => Promise.all([...servers.values()].map((server) => server.close())));

const serverFor = (flavor: ServerFlavor): FakeServer => servers.get(flavor) as FakeServer;

function backendFor(flavor: ServerFlavor, extra: Partial<OpenAICompatibleBackendOptions> = {}) {
  const server = serverFor(flavor);
  return createOpenAICompatibleBackend({
    baseURL: `${server.url}/v1`,
    model: server.model,
    flavor,
    apiKey: 'sk-test',
    maxConcurrency: 2,
    retryBaseDelayMs: 1,
    ...(flavor === 'sglang' ? { renderInfill: renderQwenInfill } : {}),
    ...extra,
  });
}

/** Requests a server got since `from`. */
const since = (flavor: ServerFlavor, from: number) => serverFor(flavor).requests.slice(from);

testBackendConformance({
  name: 'openai-compatible, vLLM (no FIM renderer: infill unsupported)',
  createBackend: () => backendFor('vllm'),
});
testBackendConformance({
  name: 'openai-compatible, SGLang (FIM rendered by codeloop)',
  createBackend: () => backendFor('sglang'),
});
// These three apply stop strings without saying which one matched.
testBackendConformance({
  name: 'openai-compatible, Ollama',
  createBackend: () => backendFor('ollama'),
  reportsStopSequence: false,
});
testBackendConformance({
  name: 'openai-compatible, llama-server (recorded; /infill)',
  createBackend: () => backendFor('llama-server'),
  reportsStopSequence: false,
});
testBackendConformance({
  name: 'openai-compatible, OpenAI (gpt-3.5-turbo-instruct)',
  createBackend: () => backendFor('openai'),
  reportsStopSequence: false,
  skip: { chat: 'OpenAI serves chat with other models than /v1/completions; chat is checked with gpt-4o-mini below' },
});

describe('what each server is sent and what comes back', () => {
  test('every request sends temperature and top_p, and the bearer key; top_k where understood', async () => {
    const expectations: [ServerFlavor, unknown][] = [
      ['vllm', -1],
      ['sglang', -1],
      ['llama-server', 0],
      ['ollama', undefined],
      ['openai', undefined],
    ];
    for (const [flavor, topK] of expectations) {
      const from = serverFor(flavor).requests.length;
      await backendFor(flavor).complete(CONFORMANCE_PROMPTS.complete);
      const [request] = since(flavor, from);
      assert.equal(request?.body.temperature, 0, flavor);
      assert.equal(request?.body.top_p, 1, flavor);
      assert.equal(request?.body.top_k, topK, flavor);
      assert.equal(request?.body.max_tokens, 256, flavor);
      assert.equal(request?.headers.authorization, 'Bearer sk-test', flavor);
    }
  });

  test('vLLM: n and logprobs natively; the stop string comes back as stop_reason; suffix is refused', async () => {
    const vllm = backendFor('vllm');
    const from = serverFor('vllm').requests.length;
    const samples = await vllm.complete(CONFORMANCE_PROMPTS.complete, { n: 3, temperature: 0.8, seed: 7 });
    assert.equal(since('vllm', from).length, 1, 'one request for three choices');
    assert.equal(since('vllm', from)[0]?.body.n, 3);
    assert.deepEqual(samples.warnings, []);
    assert.equal(samples.usage.completionTokens, 61, 'the request usage, shared out over the choices');
    const withLogprobs = await vllm.complete(CONFORMANCE_PROMPTS.complete, { logprobs: true });
    assert.equal(withLogprobs.choices[0]?.logprobs?.length, 18);
    assert.deepEqual(withLogprobs.choices[0]?.logprobs?.[1], { token: 'return', logprob: -0.0003 });
    const stopped = await vllm.complete(CONFORMANCE_PROMPTS.complete, { stop: ['act'] });
    assert.deepEqual(stopped.choices[0], {
      text: '    return a + b\n\n\ndef subtr',
      finishReason: 'stop',
      stopSequence: 'act',
      completionTokens: 8,
    });
    const forced = backendFor('vllm', { infillMode: 'suffix' });
    await assert.rejects(forced.infill('a', CONFORMANCE_PROMPTS.infill.suffix), (error: unknown) => {
      assert.ok(error instanceof ApiCallError);
      assert.equal(error.statusCode, 400);
      assert.equal(error.retryable, false);
      assert.equal(
        error.message,
        `vLLM answered 400 to POST ${serverFor('vllm').url}/v1/completions: suffix is not currently supported.`,
      );
      return true;
    });
  });

  test("SGLang: infill is a rendered FIM prompt with the format's stop strings; its flat error shape is read", async () => {
    const from = serverFor('sglang').requests.length;
    const result = await backendFor('sglang').infill(
      CONFORMANCE_PROMPTS.infill.prefix,
      CONFORMANCE_PROMPTS.infill.suffix,
    );
    assert.equal(result.choices[0]?.text, 'return a + b');
    const [request] = since('sglang', from);
    assert.equal(
      request?.body.prompt,
      renderQwenInfill(CONFORMANCE_PROMPTS.infill.prefix, CONFORMANCE_PROMPTS.infill.suffix).prompt,
    );
    assert.deepEqual(request?.body.stop, renderQwenInfill('', '').stop);
    assert.equal(request?.body.suffix, undefined);
    await assert.rejects(backendFor('sglang').complete(''), {
      message: `SGLang answered 400 to POST ${serverFor('sglang').url}/v1/completions: Prompt cannot be empty.`,
    });
  });

  test('Ollama: n is sent as n requests with seeds, with a warning; zero usage in chunks is not taken for the real one', async () => {
    const ollama = backendFor('ollama');
    const from = serverFor('ollama').requests.length;
    const result = await ollama.complete(CONFORMANCE_PROMPTS.complete, { n: 3, temperature: 0.8, seed: 7 });
    const requests = since('ollama', from);
    assert.deepEqual(
      requests.map((request) => [request.body.n, request.body.seed]),
      [
        [undefined, 7],
        [undefined, 8],
        [undefined, 9],
      ],
    );
    assert.equal(result.choices.length, 3);
    assert.deepEqual(result.warnings, [
      'n=3: Ollama returns one choice per request; sent 3 requests in parallel (seeds 7–9).',
    ]);
    const greedy = await ollama.complete(CONFORMANCE_PROMPTS.complete, { n: 2 });
    assert.equal(since('ollama', from).length, 4, 'greedy n is one request, its choice copied');
    assert.deepEqual(greedy.warnings, []);
    assert.deepEqual(
      greedy.choices.map((choice) => choice.text),
      [greedy.choices[0]?.text, greedy.choices[0]?.text],
    );
    // The copy was not generated: usage counts the one answer's tokens.
    assert.equal(greedy.choices[1]?.completionTokens, greedy.choices[0]?.completionTokens);
    assert.ok(greedy.choices[0]!.completionTokens > 0);
    assert.equal(greedy.usage.completionTokens, greedy.choices[0]?.completionTokens);
    const parts = await collectStream(ollama.streamComplete(CONFORMANCE_PROMPTS.complete, { topK: 5 }));
    assert.deepEqual(parts.at(-1), {
      type: 'finish',
      finishReason: 'stop',
      usage: { promptTokens: 7, completionTokens: 19 },
    });
    assert.deepEqual(parts[0], {
      type: 'start',
      modelId: 'qwen2.5-coder:1.5b',
      warnings: ['topK=5: Ollama has no top_k; the setting is ignored.'],
    });
    assert.deepEqual(since('ollama', from).at(-1)?.body.stream_options, { include_usage: true });
    await assert.rejects(backendFor('ollama', { model: 'qwen2.5-coder:7b' }).complete('x'), {
      message: `Ollama answered 404 to POST ${serverFor('ollama').url}/v1/completions: model "qwen2.5-coder:7b" not found, try pulling it first. Check the base URL (it usually ends in /v1) and the model name the server knows (GET /v1/models).`,
    });
  });

  test('Ollama: a server that ignores a stop string is cut by codeloop, and the stream is cancelled there', async () => {
    const ollama = backendFor('ollama');
    const result = await ollama.complete(CONFORMANCE_PROMPTS.complete, { stop: ['\ndef'] });
    assert.deepEqual(result.choices[0], {
      text: '    return a + b\n\n',
      finishReason: 'stop',
      stopSequence: '\ndef',
      completionTokens: 19,
    });
    const parts = await collectStream(ollama.streamComplete(CONFORMANCE_PROMPTS.complete, { stop: ['\ndef'] }));
    assert.equal(parts.map((part) => (part.type === 'text-delta' ? part.text : '')).join(''), '    return a + b\n\n');
    assert.deepEqual(parts.at(-1), {
      type: 'finish',
      finishReason: 'stop',
      stopSequence: '\ndef',
      usage: { promptTokens: 0, completionTokens: 7 },
    });
  });

  test('llama-server (recorded): infill goes to /infill; n to n requests; usage only in the final chunk', async () => {
    const server = backendFor('llama-server');
    const from = serverFor('llama-server').requests.length;
    const infill = await server.infill(CONFORMANCE_PROMPTS.infill.prefix, CONFORMANCE_PROMPTS.infill.suffix, {
      maxTokens: 32,
    });
    const recordedInfill = recordedBody('llama-server', 'infill, n_predict 32') as {
      content: string;
      stop_type: string;
      tokens_predicted: number;
      tokens_evaluated: number;
    };
    assert.equal(recordedInfill.stop_type, 'limit');
    assert.deepEqual(infill.choices[0], { text: recordedInfill.content, finishReason: 'length', completionTokens: 32 });
    assert.deepEqual(infill.usage, { promptTokens: recordedInfill.tokens_evaluated, completionTokens: 32 });
    const [request] = since('llama-server', from);
    assert.equal(request?.path, '/infill');
    assert.equal(request?.exchange, 'infill, n_predict 32');
    assert.equal(request?.body.n_predict, 32);
    assert.equal(request?.body.top_k, 0);
    const result = await server.complete(CONFORMANCE_PROMPTS.complete, { n: 2, temperature: 0.5 });
    assert.deepEqual(result.warnings, [
      'n=2: llama-server returns one choice per request; sent 2 requests in parallel (unseeded).',
    ]);
    assert.ok(since('llama-server', from).every((each) => each.body.n === undefined));
    // The stream has no usage until its last chunk (even with include_usage there is no separate `choices: []` chunk).
    const events = recordedEvents('llama-server', 'completions-stream.sse');
    const last = events.at(-1) as { usage: { prompt_tokens: number; completion_tokens: number } };
    assert.ok(events.slice(0, -1).every((event) => event.usage === undefined));
    assert.ok(Array.isArray(events.at(-1)?.choices) && (events.at(-1)?.choices as unknown[]).length === 1);
    const parts = await collectStream(server.streamComplete(CONFORMANCE_PROMPTS.complete));
    assert.deepEqual(parts.at(-1), {
      type: 'finish',
      finishReason: 'stop',
      usage: { promptTokens: last.usage.prompt_tokens, completionTokens: last.usage.completion_tokens },
    });
    assert.equal(since('llama-server', from).at(-1)?.exchange, 'completions stream');
  });

  test('llama-server (recorded): suffix on /v1/completions is ignored, with a warning; its 400 for n above --parallel is read', async () => {
    const from = serverFor('llama-server').requests.length;
    const forced = await backendFor('llama-server', { infillMode: 'suffix' }).infill(
      'x',
      CONFORMANCE_PROMPTS.infill.suffix,
    );
    assert.equal(since('llama-server', from)[0]?.exchange, 'completions, suffix');
    assert.equal(
      forced.choices[0]?.text,
      (recordedBody('llama-server', 'completions, suffix') as { choices: { text: string }[] }).choices[0]?.text,
      'a plain completion of "x"',
    );
    assert.deepEqual(forced.warnings, [
      "infill: llama-server's /v1/completions ignores `suffix` (older builds may reject it), so the text does not fit the hole; leave infillMode unset to use its /infill endpoint.",
    ]);
    await assert.rejects(
      backendFor('llama-server').complete(CONFORMANCE_PROMPTS.complete, { backendOptions: { n: 8, temperature: 0.5 } }),
      (error: unknown) => {
        assert.ok(error instanceof ApiCallError);
        assert.equal(error.statusCode, 400);
        assert.equal(error.retryable, false);
        assert.match(
          error.message,
          /^llama-server answered 400 to POST .*\/v1\/completions: Field 'n': Value must be between 1 <= value <= 4, but got 8\.$/,
        );
        return true;
      },
    );
    assert.equal(since('llama-server', from).length, 2, 'a 400 is not retried');
  });

  test('OpenAI: at most 4 stop strings are sent, the rest enforced here; chat uses max_completion_tokens', async () => {
    const openai = backendFor('openai');
    const from = serverFor('openai').requests.length;
    const result = await openai.complete(CONFORMANCE_PROMPTS.complete, { stop: ['<a>', '<b>', '<c>', '<d>', ' -'] });
    assert.deepEqual(since('openai', from)[0]?.body.stop, ['<a>', '<b>', '<c>', '<d>']);
    assert.deepEqual(result.choices[0], {
      text: '    return a + b\n\n\ndef subtract(a, b):\n    return a',
      finishReason: 'stop',
      stopSequence: ' -',
      completionTokens: 19,
    });
    const chat = backendFor('openai', { model: 'gpt-4o-mini' });
    const answer = await chat.chat(CONFORMANCE_PROMPTS.chat, { maxTokens: 100 });
    assert.equal(answer.choices[0]?.text, '```python\ndef add(a, b):\n    return a + b\n```');
    assert.equal(since('openai', from).at(-1)?.body.max_completion_tokens, 100);
    assert.equal(since('openai', from).at(-1)?.body.max_tokens, undefined);
    const parts = await collectStream(chat.streamChat(CONFORMANCE_PROMPTS.chat));
    assert.deepEqual(parts.at(-1), {
      type: 'finish',
      finishReason: 'stop',
      usage: { promptTokens: 36, completionTokens: 17 },
    });
    await assert.rejects(
      openai.chat(CONFORMANCE_PROMPTS.chat),
      /OpenAI answered 404 to POST .*: This is not a chat model and thus not supported in the v1\/chat\/completions endpoint\. Did you mean to use v1\/completions\?/,
    );
  });

  test("OpenAI: a 429 is retried after retry-after-ms, then fails with the server's message", async () => {
    const from = serverFor('openai').requests.length;
    await assert.rejects(backendFor('openai', { maxRetries: 2 }).complete('rate limit me'), (error: unknown) => {
      assert.ok(error instanceof ApiCallError);
      assert.equal(error.statusCode, 429);
      assert.equal(error.retryable, true);
      assert.match(
        error.message,
        /^OpenAI answered 429 to POST .*: Rate limit reached for gpt-3\.5-turbo-instruct .* Please try again in 17ms\. The server is rate-limiting: lower maxConcurrency or wait\.$/,
      );
      return true;
    });
    assert.equal(since('openai', from).length, 3, 'first attempt and two retries');
  });

  test('flavor auto: each server is recognised from GET /v1/models', async () => {
    for (const flavor of servers.keys()) {
      const backend = createOpenAICompatibleBackend({
        baseURL: `${serverFor(flavor).url}/v1`,
        model: serverFor(flavor).model,
        apiKey: 'k',
      });
      assert.equal(await backend.detectFlavor(), flavor);
    }
    const sglang = createOpenAICompatibleBackend({ baseURL: `${serverFor('sglang').url}/v1`, model: 'm' });
    assert.equal(
      sglang.capabilities.supportsInfill,
      true,
      'before detection an unknown server is assumed to take suffix',
    );
    await sglang.detectFlavor();
    assert.equal(
      sglang.capabilities.supportsInfill,
      false,
      'SGLang ignores suffix: without a renderer there is no infill',
    );
  });
});
