/**
 * The requests llama.vscode and Continue send, replayed against `codeloop serve --http`'s server on a real 127.0.0.1
 * port (a mock model behind the real engine). The bodies and headers follow the clients' source, read for this test:
 * llama.vscode `src/llama-server.ts` (`createRequestPayload` for /infill and its n_predict 0 warm-up,
 * `createChatRequestPayload` / `createChatEditRequestPayload` for chat), Continue `core/llm/llms/LlamaCpp.ts`
 * (`llama.cpp` provider: POST /completion, streamed, `Authorization: Bearer undefined` when no key is set) and
 * `core/llm/llms/OpenAI.ts` (`openai` provider autocomplete: POST /v1/completions, streamed). The editors themselves
 * are not run here.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCompletionEngine } from '../../src/fim/index.js';
import { createMockBackend } from '../../src/models/index.js';
import { createHttpHandler, startHttpServer, type RunningHttpServer } from '../../src/server/http/index.js';

let server: RunningHttpServer;
let model: ReturnType<typeof createMockBackend>;

before(async () => {
  model = createMockBackend({
    modelId: 'mock-coder',
    respond: (request) => (request.kind === 'chat' ? 'Use a dict.' : 'a + b\n'),
  });
  const engine = createCompletionEngine({ model });
  server = await startHttpServer({ handler: createHttpHandler({ engine }), port: 0 });
});
after(async () => {
  await server.close();
});

const send = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

const sseEvents = (text: string): string[] =>
  text
    .split('\n\n')
    .filter((chunk) => chunk.startsWith('data: '))
    .map((chunk) => chunk.slice(6));

test('llama.vscode: /infill with its sampler fields, then its warm-up (n_predict 0)', async () => {
  const response = await send('/infill', {
    input_prefix: 'def add(a, b):\n',
    input_suffix: '\n',
    input_extra: [{ filename: 'util.py', text: 'X = 1\n' }],
    prompt: '    return ',
    n_predict: 128,
    top_k: 40,
    top_p: 0.99,
    stream: false,
    samplers: ['top_k', 'top_p', 'infill'],
    cache_prompt: true,
    n_indent: 4,
    t_max_prompt_ms: 500,
    t_max_predict_ms: 1000,
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as Record<string, any>;
  // What llama.vscode reads: content, generation_settings.n_ctx, tokens_cached, truncated, timings.
  assert.equal(body.content, 'a + b');
  assert.equal(typeof body.generation_settings.n_ctx, 'number');
  assert.equal(body.tokens_cached, 0);
  assert.equal(body.truncated, false);
  for (const key of [
    'prompt_n',
    'prompt_ms',
    'prompt_per_second',
    'predicted_n',
    'predicted_ms',
    'predicted_per_second',
  ])
    assert.equal(typeof body.timings[key], 'number', key);
  assert.deepEqual(body.codeloop.warnings, []);
  const warmUp = await send('/infill', {
    input_prefix: '',
    input_suffix: '',
    input_extra: [{ filename: 'util.py', text: 'X = 1\n' }],
    prompt: '',
    n_predict: 0,
    samplers: [],
    cache_prompt: true,
    t_max_prompt_ms: 500,
    t_max_predict_ms: 1,
  });
  assert.equal(warmUp.status, 200);
  assert.equal(((await warmUp.json()) as { content: string }).content, '');
});

test('llama.vscode: chat and chat-edit on /v1/chat/completions (max_tokens -1, llama.cpp sampler fields)', async () => {
  const response = await send('/v1/chat/completions', {
    messages: [
      { role: 'system', content: 'You are an expert coder.' },
      { role: 'user', content: 'How do I count words?' },
    ],
    stream: false,
    cache_prompt: true,
    samplers: 'edkypmxt',
    temperature: 0.8,
    top_k: 40,
    top_p: 0.95,
    min_p: 0.05,
    typical_p: 1,
    repeat_penalty: 1,
    max_tokens: -1,
    timings_per_token: false,
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as {
    choices: { message: { content: string } }[];
    codeloop: { warnings: string[] };
  };
  assert.equal(body.choices[0]?.message.content, 'Use a dict.');
  assert.match(body.codeloop.warnings.join('\n'), /temperature=0\.8 /);
});

test("Continue's llama.cpp provider: streamed /completion with a FIM prompt and 'Authorization: Bearer undefined'", async () => {
  const response = await send(
    '/completion',
    {
      prompt: '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>',
      stream: true,
      n_predict: 256,
      stop: ['<|endoftext|>', '<|fim_pad|>', '\n\n'],
      top_k: 40,
      top_p: 0.95,
      temperature: 0.01,
    },
    { Authorization: 'Bearer undefined' },
  );
  assert.equal(response.status, 200);
  const events = sseEvents(await response.text()).map(
    (event) => JSON.parse(event) as { content: string; stop: boolean },
  );
  // Continue yields every event's `content`.
  assert.equal(events.map((event) => event.content).join(''), 'a + b');
  assert.equal(events.at(-1)?.stop, true);
  // The FIM template was split back into prefix and suffix.
  const request = model.calls.at(-1)?.request;
  assert.ok(request?.kind === 'infill' && request.prefix.endsWith('    return ') && request.suffix === '\n');
});

test("Continue's openai provider: streamed /v1/completions autocomplete with a FIM prompt", async () => {
  const response = await send(
    '/v1/completions',
    {
      model: 'mock-coder',
      prompt: '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>',
      max_tokens: 256,
      temperature: 0.01,
      top_p: 0.95,
      stop: ['<|endoftext|>', '\n\n'],
      stream: true,
    },
    { Authorization: 'Bearer undefined' },
  );
  assert.equal(response.status, 200);
  const events = sseEvents(await response.text());
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as { choices: { text: string }[] });
  // Continue reads choices[0].text of every chunk: none may be without a choice.
  assert.equal(chunks.map((chunk) => chunk.choices[0]?.text).join(''), 'a + b');
});
