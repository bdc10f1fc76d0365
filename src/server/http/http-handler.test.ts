import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createCompletionEngine } from '../../fim/index.js';
import {
  createMockBackend,
  ModelError,
  type MockRespond,
  type ModelBackend,
  type StreamPart,
} from '../../models/index.js';
import { createHttpHandler, type HttpRequest, type HttpResponse } from './http-handler.js';

function handlerWith(respond: MockRespond, apiKey?: string) {
  const model = createMockBackend({ respond, modelId: 'mock-coder' });
  const engine = createCompletionEngine({ model });
  return {
    model,
    handler: createHttpHandler({ engine, ...(apiKey === undefined ? {} : { apiKey }), maxBodyBytes: 4096 }),
  };
}

const post = (path: string, body: unknown, headers: Record<string, string> = {}): HttpRequest => ({
  method: 'POST',
  path,
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

async function readBody(response: HttpResponse): Promise<string> {
  if (typeof response.body === 'string') return response.body;
  let text = '';
  for await (const chunk of response.body) text += chunk;
  return text;
}

test('POST /infill (llama.cpp shape): prefix + prompt, suffix, n_predict; the reply is {content, stop}', async () => {
  const { handler, model } = handlerWith(() => 'a + b\n\n\nprint(1)');
  const response = await handler(
    post('/infill', {
      input_prefix: 'def add(a, b):\n',
      prompt: '    return ',
      input_suffix: '\n',
      n_predict: 16,
      input_extra: [{ filename: 'util.py', text: 'X = 1' }],
    }),
  );
  assert.equal(response.status, 200);
  const body = JSON.parse(await readBody(response)) as Record<string, unknown>;
  assert.equal(body.content, 'a + b');
  assert.equal(body.stop, true);
  assert.equal(model.calls[0]?.options.maxTokens, 16);
  const request = model.calls[0]?.request;
  assert.ok(
    request?.kind === 'infill' &&
      request.prefix.startsWith('# Path: util.py\n# X = 1\n') &&
      request.prefix.endsWith('def add(a, b):\n    return '),
  );
});

test('POST /infill with stream: SSE events, text then the final stop event', async () => {
  const { handler } = handlerWith(() => 'x * 2');
  const response = await handler(
    post('/infill', { input_prefix: 'def double(x):\n    return ', input_suffix: '', stream: true }),
  );
  assert.equal(response.headers['content-type'], 'text/event-stream');
  const events = (await readBody(response))
    .split('\n\n')
    .filter((chunk) => chunk.startsWith('data: '))
    .map((chunk) => JSON.parse(chunk.slice(6)) as Record<string, unknown>);
  assert.deepEqual(
    events.map((event) => [event.content, event.stop]),
    [
      ['x * 2', false],
      ['', true],
    ],
  );
});

test('POST /v1/completions (OpenAI shape) with suffix: a re-typed suffix head is left out of the text, the range is in codeloop', async () => {
  const { handler } = handlerWith(() => 'a, b)');
  const response = await handler(
    post('/v1/completions', { model: 'whatever', prompt: 'total = add(', suffix: ')\n', max_tokens: 8 }),
  );
  const body = JSON.parse(await readBody(response)) as {
    choices: { text: string; finish_reason: string }[];
    codeloop: { text: string; replace_length: number };
    model: string;
    object: string;
  };
  assert.equal(body.object, 'text_completion');
  assert.equal(body.model, 'mock-coder');
  assert.deepEqual(
    body.choices.map((choice) => [choice.text, choice.finish_reason]),
    [['a, b', 'stop']],
  );
  assert.deepEqual([body.codeloop.text, body.codeloop.replace_length], ['a, b)', 1]);
});

test('GET /v1/models lists the model; unknown paths and methods are 404/405 with the endpoints named', async () => {
  const { handler } = handlerWith(() => '');
  const models = JSON.parse(
    await readBody(await handler({ method: 'GET', path: '/v1/models', headers: {}, body: '' })),
  ) as { data: { id: string; owned_by: string }[] };
  assert.deepEqual(
    models.data.map((model) => [model.id, model.owned_by]),
    [['mock-coder', 'codeloop']],
  );
  const missing = await handler({ method: 'GET', path: '/v1/chat', headers: {}, body: '' });
  assert.equal(missing.status, 404);
  assert.match(
    await readBody(missing),
    /codeloop serves POST \/infill, POST \/completion, POST \/v1\/completions, POST \/v1\/chat\/completions, GET \/v1\/models/,
  );
  const wrongMethod = await handler({ method: 'GET', path: '/infill', headers: {}, body: '' });
  assert.equal(wrongMethod.status, 405);
});

test('malformed and oversized requests get 4xx with the field named', async () => {
  const { handler, model } = handlerWith(() => 'x');
  const cases: [HttpRequest, number, RegExp][] = [
    [post('/infill', '{"input_prefix": '), 400, /not valid JSON/],
    [post('/infill', '[1]'), 400, /must be a JSON object/],
    [post('/infill', { input_prefix: 42 }), 400, /field 'input_prefix' must be a string, got number/],
    [post('/infill', { input_prefix: 'a', n_predict: 1e9 }), 400, /field 'n_predict'=1000000000 is out of range/],
    [
      post('/infill', { input_prefix: 'a', input_extra: [{ filename: 'x' }] }),
      400,
      /input_extra\[0\] must be an object with a string 'text'/,
    ],
    [post('/v1/completions', { suffix: 'x' }), 400, /missing field 'prompt'/],
    [post('/v1/completions', { prompt: 'a', n: 3 }), 400, /'n'=3 is not supported/],
    [post('/v1/completions', { prompt: 'x'.repeat(5000) }), 413, /the limit is 4096/],
    [
      post('/infill', { input_prefix: 'a' }, { 'content-type': 'text/plain' }),
      415,
      /not supported; send the body as JSON with the header Content-Type: application\/json/,
    ],
  ];
  for (const [request, status, message] of cases) {
    const response = await handler(request);
    const text = await readBody(response);
    assert.equal(response.status, status, text);
    assert.match((JSON.parse(text) as { error: { message: string } }).error.message, message);
  }
  assert.equal(model.calls.length, 0);
});

test('with an API key, requests without it are 401; /health stays open', async () => {
  const { handler } = handlerWith(() => 'x', 'secret');
  assert.equal((await handler(post('/v1/completions', { prompt: 'a' }))).status, 401);
  assert.equal(
    (await handler(post('/v1/completions', { prompt: 'a = ' }, { authorization: 'Bearer wrong' }))).status,
    401,
  );
  assert.equal(
    (await handler(post('/v1/completions', { prompt: 'a = ' }, { authorization: 'Bearer secret' }))).status,
    200,
  );
  assert.equal((await handler({ method: 'GET', path: '/health', headers: {}, body: '' })).status, 200);
});

test('a client that goes away cancels the completion: 499, and the model call is aborted', async () => {
  let sawAbort = false;
  const controller = new AbortController();
  const model = createMockBackend({
    respond: (_request, call) => {
      call.options.signal?.addEventListener('abort', () => (sawAbort = true));
      // The client goes away once the model has produced its first pieces (the engine never aborts a generation before
      // the model has answered: a load must not be cancelled). A timer started before the call was flaky under load.
      setTimeout(() => controller.abort(new Error('the client closed the connection')), 100);
      return `return ${Array.from({ length: 40 }, (_, index) => index).join(' + ')}`;
    },
    pieceDelayMs: 20,
  });
  const engine = createCompletionEngine({ model, abandonGraceMs: 0 });
  const handler = createHttpHandler({ engine });
  const pending = handler({
    ...post('/infill', { input_prefix: 'def f():\n    ', t_max_predict_ms: 5000 }),
    signal: controller.signal,
  });
  const response = await pending;
  assert.equal(response.status, 499);
  // The engine aborts the model call on its own schedule: wait for it, boundedly (a fixed 30 ms was flaky under load).
  for (let waited = 0; !sawAbort && waited < 2000; waited += 10)
    await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(sawAbort, true, 'the model call was not aborted within 2 s of the client going away');
});

test('a failing model is a 502 with its message, not an internal error', async () => {
  const failing = createMockBackend({
    respond: () => ({
      error: new ModelError('api-call-failed', 'llama-server at http://127.0.0.1:1 refused the connection'),
    }),
  });
  const handler = createHttpHandler({ engine: createCompletionEngine({ model: failing }) });
  const response = await handler(post('/v1/completions', { prompt: 'x = ' }));
  assert.equal(response.status, 502);
  assert.match(
    await readBody(response),
    /the model failed: llama-server at http:\/\/127\.0\.0\.1:1 refused the connection/,
  );
});

test('POST bodies must be application/json (charset allowed); none or another type is a 415 naming the header', async () => {
  const { handler, model } = handlerWith(() => 'x');
  const body = JSON.stringify({ prompt: 'a = ' });
  const send = (headers: Record<string, string>) => handler({ method: 'POST', path: '/v1/completions', headers, body });
  for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset=UTF-8']) {
    assert.equal((await send({ 'content-type': type })).status, 200, type);
  }
  const cases: [Record<string, string>, RegExp][] = [
    [{}, /no Content-Type header; send the body as JSON with the header Content-Type: application\/json/],
    [{ 'content-type': '' }, /no Content-Type header/],
    [
      { 'content-type': 'text/plain;charset=UTF-8' },
      /Content-Type "text\/plain;charset=UTF-8" is not supported; .*Content-Type: application\/json/,
    ],
    [{ 'content-type': 'application/x-www-form-urlencoded' }, /not supported/],
    [{ 'content-type': 'application/jsonp' }, /not supported/],
  ];
  const before = model.calls.length;
  for (const [headers, message] of cases) {
    const response = await send(headers);
    const text = await readBody(response);
    assert.equal(response.status, 415, text);
    assert.match((JSON.parse(text) as { error: { message: string } }).error.message, message);
  }
  assert.equal(model.calls.length, before);
});

test('without an API key: only loopback Host names, and no web Origin (the DNS-rebinding reproducer is a 403)', async () => {
  const { handler, model } = handlerWith(() => 'return 1');
  const request = (headers: Record<string, string>): HttpRequest =>
    post('/v1/completions', { prompt: 'def f():\n' }, headers);
  // What editors and local tools send: a loopback Host, no Origin (llama.vscode's axios and Continue's fetch run in
  // the extension host), or the editor's own webview origin.
  for (const host of [
    '127.0.0.1:8012',
    '127.0.0.1',
    '127.1.2.3:9',
    'localhost:8012',
    'LOCALHOST',
    '[::1]:8012',
    '[::1]',
  ]) {
    assert.equal((await handler(request({ host }))).status, 200, host);
  }
  for (const origin of [
    'http://127.0.0.1:8012',
    'http://localhost:3000',
    'https://[::1]',
    'vscode-webview://1a2b3c',
    'vscode-file://vscode-app',
  ]) {
    assert.equal((await handler(request({ host: '127.0.0.1:8012', origin }))).status, 200, origin);
  }
  const callsBefore = model.calls.length;
  const refused: [Record<string, string>, RegExp][] = [
    [
      { host: 'rebind.evil.example:8012', origin: 'http://rebind.evil.example:8012', 'content-type': '' },
      /Host header "rebind\.evil\.example:8012" is not a loopback name.*--api-key KEY/,
    ],
    [{ host: 'rebind.evil.example:8012' }, /not a loopback name/],
    [{ host: '127.0.0.1.evil.example' }, /not a loopback name/],
    [{ host: 'localhost.evil.example:8012' }, /not a loopback name/],
    [{ host: '127.0.0.256' }, /not a loopback name/],
    [{ host: '0.0.0.0:8012' }, /not a loopback name/],
    [
      { host: '127.0.0.1:8012', origin: 'https://evil.example' },
      /web origin "https:\/\/evil\.example" are refused.*--api-key KEY/,
    ],
    [{ host: '127.0.0.1:8012', origin: 'null' }, /web origin "null"/],
    [{ host: '127.0.0.1:8012', origin: 'http://127.0.0.1.evil.example' }, /web origin/],
  ];
  for (const [headers, message] of refused) {
    const response = await handler(request(headers));
    const text = await readBody(response);
    assert.equal(response.status, 403, `${JSON.stringify(headers)}: ${text}`);
    assert.match((JSON.parse(text) as { error: { message: string } }).error.message, message);
  }
  // GET endpoints too: a rebinding page must not read the model list either.
  assert.equal(
    (await handler({ method: 'GET', path: '/v1/models', headers: { host: 'rebind.evil.example' }, body: '' })).status,
    403,
  );
  assert.equal(model.calls.length, callsBefore, 'a refused request never reaches the model');
});

test('with an API key, other Host names and origins are allowed (the key is what is checked), JSON still required', async () => {
  const { handler } = handlerWith(() => 'x', 'secret');
  const headers = { host: 'codeloop.internal:8012', origin: 'https://ide.example', authorization: 'Bearer secret' };
  assert.equal((await handler(post('/v1/completions', { prompt: 'a = ' }, headers))).status, 200);
  assert.equal(
    (await handler(post('/v1/completions', { prompt: 'a = ' }, { ...headers, authorization: 'Bearer wrong' }))).status,
    401,
  );
  assert.equal(
    (await handler(post('/v1/completions', { prompt: 'a = ' }, { ...headers, 'content-type': 'text/plain' }))).status,
    415,
  );
});

/** A backend that streams `lines` one by one, waiting for `open()` before the last; then fails if `failure` is set. */
function slowModel(lines: string[], failure?: Error) {
  const base = createMockBackend({ respond: () => '' });
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  let finished = false;
  async function* stream(): AsyncIterable<StreamPart> {
    yield { type: 'start', modelId: 'slow', warnings: [] };
    for (const [index, line] of lines.entries()) {
      if (index === lines.length - 1) await gate;
      yield { type: 'text-delta', text: line };
    }
    finished = true;
    if (failure !== undefined) throw failure;
    yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 3, completionTokens: 5 } };
  }
  const model: ModelBackend = { ...base, streamInfill: () => stream(), streamComplete: () => stream() };
  return { model, open: () => release(), finished: () => finished };
}

const events = (chunks: string[]): Record<string, unknown>[] =>
  chunks
    .join('')
    .split('\n\n')
    .filter((chunk) => chunk.startsWith('data: ') && chunk !== 'data: [DONE]')
    .map((chunk) => JSON.parse(chunk.slice(6)) as Record<string, unknown>);

test('streamed /infill and /v1/completions are incremental: the first lines arrive before generation ends, and the text equals the non-streamed reply', async () => {
  const lines = [
    'total = 0\n',
    '    for shape in shapes:\n',
    '        total += shape.area\n',
    '    return total\n\n\nprint(1)',
  ];
  const request = { input_prefix: 'def total_area(shapes):\n    ', input_suffix: '\n', stream: true };
  for (const [path, body, textOf] of [
    ['/infill', request, (event: Record<string, unknown>) => (event.stop === false ? String(event.content) : '')],
    [
      '/v1/completions',
      { prompt: request.input_prefix, suffix: request.input_suffix, stream: true },
      (event: Record<string, unknown>) => (event.choices as { text?: string }[] | undefined)?.[0]?.text ?? '',
    ],
  ] as const) {
    const slow = slowModel(lines);
    const handler = createHttpHandler({ engine: createCompletionEngine({ model: slow.model }) });
    const response = await handler(post(path, body));
    assert.equal(response.headers['content-type'], 'text/event-stream');
    assert.ok(typeof response.body !== 'string');
    const iterator = response.body[Symbol.asyncIterator]();
    const first = await iterator.next();
    assert.equal(slow.finished(), false, 'the first event came only after generation ended');
    const chunks = [first.value as string];
    slow.open();
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) chunks.push(next.value);
    const streamed = events(chunks).map(textOf).join('');
    assert.equal(textOf(events([first.value as string])[0] ?? {}), 'total = 0', path);

    const plain = slowModel(lines);
    plain.open();
    const plainHandler = createHttpHandler({ engine: createCompletionEngine({ model: plain.model }) });
    const reply = JSON.parse(await readBody(await plainHandler(post(path, { ...body, stream: false })))) as {
      content?: string;
      choices?: { text: string }[];
    };
    assert.equal(streamed, reply.content ?? reply.choices?.[0]?.text, path);
    assert.equal(streamed, 'total = 0\n    for shape in shapes:\n        total += shape.area\n    return total');
  }
});

test('a model that fails after the stream started ends it with an SSE error event', async () => {
  const slow = slowModel(
    ['x = 1\n', '    y = 2\n', '    z'],
    new ModelError('api-call-failed', 'llama-server went away'),
  );
  slow.open();
  const handler = createHttpHandler({ engine: createCompletionEngine({ model: slow.model }) });
  const response = await handler(post('/infill', { input_prefix: 'def f():\n    ', stream: true }));
  assert.equal(response.status, 200);
  const all = events([await readBody(response)]);
  assert.deepEqual(
    all.slice(0, -1).map((event) => event.content),
    ['x = 1', '\n    y = 2'],
  );
  assert.deepEqual(all.at(-1), {
    error: {
      message: 'the model failed: llama-server went away',
      type: 'model_error',
      code: 502,
      model_error_code: 'api-call-failed',
    },
  });
});

test('/v1/completions streams end with the usage chunk (choices: []) only when stream_options.include_usage asks for it', async () => {
  const { handler } = handlerWith(() => 'a + b');
  const chunksOf = async (body: Record<string, unknown>) =>
    events([
      await readBody(
        await handler(post('/v1/completions', { prompt: 'def add(a, b):\n    return ', stream: true, ...body })),
      ),
    ]);
  const plain = await chunksOf({});
  assert.ok(
    plain.every((chunk) => (chunk.choices as unknown[]).length === 1),
    JSON.stringify(plain),
  );
  const withUsage = await chunksOf({ stream_options: { include_usage: true } });
  assert.deepEqual(withUsage.at(-1)?.choices, []);
  assert.ok(typeof (withUsage.at(-1)?.usage as { total_tokens?: number }).total_tokens === 'number');
  assert.equal((await handler(post('/v1/completions', { prompt: 'x', stream: true, stream_options: [] }))).status, 400);
});

test("Continue's openai provider (no FIM support: the template rendered into prompt, no suffix) and its llama.cpp provider (POST /completion, reads content)", async () => {
  const { handler, model } = handlerWith((request) =>
    request.kind === 'infill' && request.prefix.endsWith('return ') ? 'a + b' : 'unexpected',
  );
  const qwenStops = [
    '<|endoftext|>',
    '<|fim_prefix|>',
    '<|fim_middle|>',
    '<|fim_suffix|>',
    '<|fim_pad|>',
    '<|repo_name|>',
    '<|file_sep|>',
    '<|im_start|>',
    '<|im_end|>',
  ];
  const prompt = '<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n\nprint(add(1, 2))<|fim_middle|>';
  // _legacystreamComplete: the chat arguments with messages undefined, prompt set, stream true; headers as Continue sets them.
  const openai = await handler(
    post(
      '/v1/completions',
      { model: 'codeloop', max_tokens: 128, temperature: 0.01, stream: true, stop: qwenStops, prompt },
      { authorization: 'Bearer undefined', 'api-key': '' },
    ),
  );
  const texts = events([await readBody(openai)]).map((event) => (event.choices as { text?: string }[])[0]?.text ?? '');
  assert.equal(texts.join(''), 'a + b');
  const call = model.calls.at(-1)?.request;
  assert.ok(
    call?.kind === 'infill' && call.prefix === 'def add(a, b):\n    return ' && call.suffix === '\n\nprint(add(1, 2))',
    JSON.stringify(call),
  );

  // LlamaCpp._streamComplete: POST {apiBase}completion with prompt, stream, n_predict, stop, sampling fields; reads value.content.
  const llama = await handler(
    post(
      '/completion',
      { prompt, stream: true, n_predict: 128, stop: qwenStops, temperature: 0.01, top_k: 40 },
      { authorization: 'Bearer undefined' },
    ),
  );
  assert.equal(llama.status, 200);
  const contents = events([await readBody(llama)]);
  assert.equal(contents.map((event) => event.content ?? '').join(''), 'a + b');
  assert.equal(contents.at(-1)?.stop, true);
  const plain = JSON.parse(await readBody(await handler(post('/completion', { prompt, n_predict: 16 })))) as {
    content: string;
    stop: boolean;
  };
  assert.deepEqual([plain.content, plain.stop], ['a + b', true]);
  // A prompt without sentinels is text before the cursor.
  await handler(post('/completion', { prompt: 'def add(a, b):\n    return ' }));
  assert.ok(model.calls.at(-1)?.request.kind === 'infill');
});

test("llama.vscode's warm-up (n_predict 0) is answered at once: no model call, and a running generation is not aborted", async () => {
  const slow = slowModel(['total = 0\n', '    return total\n\n\nx']);
  const engine = createCompletionEngine({ model: slow.model, abandonGraceMs: 0 });
  const handler = createHttpHandler({ engine });
  const running = handler(post('/infill', { input_prefix: 'def f():\n    ', input_suffix: '\n' }));
  while (engine.stats.modelCalls === 0) await new Promise((resolve) => setImmediate(resolve));
  // What llama.vscode sends when its ring buffer of chunks changes.
  const warmUp = await handler(
    post('/infill', {
      input_prefix: '',
      input_suffix: '',
      input_extra: [{ filename: 'a.py', text: 'x = 1\n' }],
      prompt: '',
      n_predict: 0,
      samplers: [],
      cache_prompt: true,
      t_max_prompt_ms: 1,
      t_max_predict_ms: 1,
    }),
  );
  const reply = JSON.parse(await readBody(warmUp)) as Record<string, unknown>;
  assert.deepEqual(
    [
      reply.content,
      reply.stop,
      reply.tokens_predicted,
      reply.truncated,
      (reply.timings as Record<string, number>).predicted_n,
    ],
    ['', true, 0, false, 0],
  );
  assert.deepEqual([engine.stats.requests, engine.stats.modelCalls, engine.stats.abandoned], [1, 1, 0]);
  slow.open();
  const done = JSON.parse(await readBody(await running)) as {
    content: string;
    tokens_cached: number;
    truncated: boolean;
    tokens_evaluated: number;
    tokens_predicted: number;
    timings: Record<string, number>;
  };
  assert.equal(done.content, 'total = 0\n    return total');
  // The timing fields llama.vscode reads, with the engine's numbers.
  assert.deepEqual(
    [done.tokens_cached, done.truncated, done.timings.prompt_n, done.timings.predicted_n],
    [0, false, done.tokens_evaluated, done.tokens_predicted],
  );
  assert.ok(done.tokens_evaluated > 0 && done.tokens_predicted > 0);
  assert.ok(done.timings.prompt_ms! >= 0 && done.timings.predicted_ms! >= 0);
});

test("llama.cpp replies carry generation_settings (llama.vscode reads n_ctx), tokens per second, and llama.cpp's stop_type", async () => {
  const model = createMockBackend({
    respond: () => ({ text: 'a + b', finishReason: 'length' }),
    modelId: 'mock-coder',
    capabilities: { contextLength: 4096 },
  });
  const handler = createHttpHandler({ engine: createCompletionEngine({ model }) });
  type Final = {
    stop_type: string;
    stopping_word: string;
    generation_settings: { n_ctx: number; n_predict: number };
    timings: Record<string, number>;
  };
  const limited = JSON.parse(
    await readBody(await handler(post('/infill', { input_prefix: 'def add(a, b):\n    return ', n_predict: 8 }))),
  ) as Final;
  assert.deepEqual(
    [limited.stop_type, limited.stopping_word, limited.generation_settings],
    ['limit', '', { n_ctx: 4096, n_predict: 8 }],
  );
  assert.ok(
    typeof limited.timings.prompt_per_second === 'number' && typeof limited.timings.predicted_per_second === 'number',
    JSON.stringify(limited.timings),
  );
  const { handler: plain } = handlerWith(() => 'a + b  # sum\n');
  const word = JSON.parse(
    await readBody(await plain(post('/completion', { prompt: 'def add(a, b):\n    return ', stop: ['  #'] }))),
  ) as Final & { content: string };
  assert.deepEqual(
    [
      word.content,
      word.stop_type,
      word.stopping_word,
      word.generation_settings.n_ctx,
      word.generation_settings.n_predict,
    ],
    ['a + b', 'word', '  #', 0, -1],
  );
  const eos = JSON.parse(
    await readBody(await plain(post('/infill', { input_prefix: 'def f(a, b):\n    return ', stream: false }))),
  ) as Final;
  assert.equal(eos.stop_type, 'eos');
});

test('POST /completion with n_predict 0 is answered at once, as /infill is, without the model', async () => {
  const { handler, model } = handlerWith(() => 'unexpected');
  const reply = JSON.parse(
    await readBody(await handler(post('/completion', { prompt: 'def f():\n    return ', n_predict: 0 }))),
  ) as { content: string; stop_type: string; tokens_predicted: number };
  assert.deepEqual([reply.content, reply.stop_type, reply.tokens_predicted], ['', 'limit', 0]);
  assert.equal(model.calls.length, 0);
});

test('sampling fields: temperature > 0 is answered greedily with a warning in the reply; 0 and no-op fields warn nothing', async () => {
  const { handler, model } = handlerWith(() => 'x * 2');
  const openai = JSON.parse(
    await readBody(
      await handler(
        post('/v1/completions', { prompt: 'def f(x):\n    return ', temperature: 0.7, top_p: 0.9, seed: 3 }),
      ),
    ),
  ) as { choices: { text: string }[]; codeloop: { warnings: string[] } };
  assert.equal(openai.choices[0]?.text, 'x * 2');
  assert.equal(openai.codeloop.warnings.length, 1);
  assert.match(openai.codeloop.warnings[0] ?? '', /temperature=0\.7 .*greedy/);
  const llama = JSON.parse(
    await readBody(await handler(post('/infill', { input_prefix: 'y = ', temperature: 1.5, top_k: 40 }))),
  ) as { codeloop: { warnings: string[] } };
  assert.match(llama.codeloop.warnings.join('\n'), /temperature=1\.5 /);
  const quiet = JSON.parse(
    await readBody(await handler(post('/infill', { input_prefix: 'z = ', temperature: 0, top_k: 40, top_p: 0.99 }))),
  ) as { codeloop: { warnings: string[] } };
  assert.deepEqual(quiet.codeloop.warnings, []);
  assert.ok(model.calls.every((call) => (call.options.temperature ?? 0) === 0));
  const streamed = await readBody(
    await handler(post('/v1/completions', { prompt: 'w = ', temperature: 0.2, stream: true })),
  );
  assert.match(streamed, /"warnings":\["temperature=0\.2 /);
  const bad = await handler(post('/v1/completions', { prompt: 'v = ', temperature: 'hot' }));
  assert.equal(bad.status, 400);
  assert.match(await readBody(bad), /field 'temperature' must be a number in \[0, 2\]/);
});

test('echo, logprobs and n_probs change the reply shape codeloop cannot produce: 400 naming the field', async () => {
  const { handler, model } = handlerWith(() => 'x');
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['/v1/completions', { prompt: 'a', echo: true }, /field 'echo'=true is not supported/],
    ['/v1/completions', { prompt: 'a', logprobs: 5 }, /field 'logprobs'=5 is not supported/],
    ['/v1/completions', { prompt: 'a', logprobs: 0 }, /field 'logprobs'=0 is not supported/],
    ['/infill', { input_prefix: 'a', n_probs: 3 }, /field 'n_probs'=3 is not supported/],
    ['/completion', { prompt: 'a', n_probs: 1 }, /field 'n_probs'=1 is not supported/],
  ];
  for (const [path, body, message] of cases) {
    const response = await handler(post(path, body));
    assert.equal(response.status, 400, `${path} ${JSON.stringify(body)}`);
    assert.match(await readBody(response), message);
  }
  // The defaults clients send are accepted.
  for (const [path, body] of [
    ['/v1/completions', { prompt: 'a', echo: false, logprobs: null }],
    ['/infill', { input_prefix: 'b', n_probs: 0 }],
  ] as const)
    assert.equal((await handler(post(path, body))).status, 200, `${path} ${JSON.stringify(body)}`);
  assert.equal(model.calls.length, 2);
});

test('POST /v1/chat/completions answers with the model chat template: messages in, an assistant message out', async () => {
  const model = createMockBackend({
    modelId: 'mock-chat',
    respond: (request) =>
      request.kind === 'chat' ? `echo: ${request.messages.map((m) => `${m.role}=${m.content}`).join(' ')}` : '',
  });
  const handler = createHttpHandler({ engine: createCompletionEngine({ model }) });
  const response = await handler(
    post('/v1/chat/completions', {
      model: 'anything',
      messages: [
        { role: 'system', content: 'be brief' },
        { role: 'user', content: [{ type: 'text', text: 'hi' }] },
      ],
      max_tokens: 32,
      temperature: 0.5,
    }),
  );
  assert.equal(response.status, 200);
  const body = JSON.parse(await readBody(response)) as {
    object: string;
    model: string;
    choices: { message: { role: string; content: string }; finish_reason: string }[];
    usage: { total_tokens: number };
    codeloop: { warnings: string[] };
  };
  assert.equal(body.object, 'chat.completion');
  assert.equal(body.model, 'mock-chat');
  assert.deepEqual(body.choices[0]?.message, { role: 'assistant', content: 'echo: system=be brief user=hi' });
  assert.equal(body.choices[0]?.finish_reason, 'stop');
  assert.match(body.codeloop.warnings[0] ?? '', /temperature=0\.5 /);
  assert.equal(model.calls[0]?.options.maxTokens, 32);
  assert.equal(model.calls[0]?.options.temperature, 0);

  const streamed = await readBody(
    await handler(post('/v1/chat/completions', { messages: [{ role: 'user', content: 'yo' }], stream: true })),
  );
  const events = streamed
    .split('\n\n')
    .filter((chunk) => chunk.startsWith('data: '))
    .map((chunk) => chunk.slice(6));
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((event) => JSON.parse(event) as Record<string, any>);
  assert.ok(chunks.every((chunk) => chunk.object === 'chat.completion.chunk'));
  assert.equal(chunks[0]?.choices[0].delta.role, 'assistant');
  assert.equal(chunks.map((chunk) => chunk.choices[0].delta.content ?? '').join(''), 'echo: user=yo');
  assert.equal(chunks.at(-1)?.choices[0].finish_reason, 'stop');
});

test('POST /v1/chat/completions on a model without a chat template is a 400 saying so; bad messages are 400s', async () => {
  const model = createMockBackend({ respond: () => 'x', capabilities: { supportsChat: false } });
  const handler = createHttpHandler({ engine: createCompletionEngine({ model }) });
  const response = await handler(post('/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }));
  assert.equal(response.status, 400);
  assert.match(await readBody(response), /has no chat template.*\/v1\/completions/);
  assert.equal(model.calls.length, 0);
  const { handler: chatHandler } = handlerWith(() => 'x');
  for (const [body, message] of [
    [{}, /missing field 'messages'/],
    [{ messages: [] }, /'messages' must be a non-empty array/],
    [{ messages: [{ role: 'tool', content: 'x' }] }, /messages\[0\]\.role/],
    [{ messages: [{ role: 'user', content: 'x' }], logprobs: true }, /field 'logprobs'=true/],
    [{ messages: [{ role: 'user', content: 'x' }], n: 2 }, /field 'n'=2/],
  ] as const) {
    const reply = await chatHandler(post('/v1/chat/completions', body));
    assert.equal(reply.status, 400, JSON.stringify(body));
    assert.match(await readBody(reply), message);
  }
});
