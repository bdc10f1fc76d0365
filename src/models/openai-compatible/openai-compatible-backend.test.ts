// Behaviour the recorded servers (test/models/openai-compatible-servers.test.ts) do not show: an unknown server,
// servers that send fewer choices or errors mid-stream, and construction errors.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { UsageError } from '../../core/index.js';
import { collectStream } from '../conformance.js';
import { ApiCallError } from '../errors.js';
import { createOpenAICompatibleBackend, serverApiKey } from './openai-compatible-backend.js';

type Handler = (body: Record<string, unknown>, response: ServerResponse) => void;
const requests: Record<string, unknown>[] = [];
let handler: Handler = () => undefined;
const server = createServer((request, response) => {
  let text = '';
  request.on('data', (chunk) => (text += String(chunk)));
  request.on('end', () => {
    const body = text === '' ? {} : (JSON.parse(text) as Record<string, unknown>);
    requests.push({ path: request.url, ...body });
    handler(body, response);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
after(() => {
  server.closeAllConnections();
  server.close();
});

const completion = (texts: string[]) => ({
  id: 'cmpl-1',
  object: 'text_completion',
  model: 'm',
  choices: texts.map((text, index) => ({ index, text, finish_reason: 'stop' })),
  usage: { prompt_tokens: 3, completion_tokens: 4 * texts.length },
});
const reply = (response: ServerResponse, body: unknown): void => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};
const stream = (response: ServerResponse, events: string[]): void => {
  response.writeHead(200, { 'content-type': 'text/event-stream' });
  response.end(events.map((event) => `data: ${event}\n\n`).join(''));
};

test('an unrecognised server: detection falls back with a warning; fewer choices than n are topped up; suffix is sent with a warning', async () => {
  handler = (body, response) => {
    if (body.prompt === undefined && body.messages === undefined) {
      response.writeHead(404).end('not here');
      return;
    }
    reply(response, completion(['x']));
  };
  const backend = createOpenAICompatibleBackend({ baseURL, model: 'm', apiKey: '' });
  assert.equal(await backend.detectFlavor(), 'generic');
  requests.length = 0;
  const result = await backend.complete('p', { n: 3, temperature: 1, seed: 10 });
  assert.equal(result.choices.length, 3);
  assert.deepEqual(
    requests.map((request) => [request.n, request.seed]),
    [
      [3, 10],
      [undefined, 11],
      [undefined, 12],
    ],
  );
  assert.match(
    result.warnings[0] ?? '',
    /^could not ask http:\/\/127\.0\.0\.1:\d+\/v1\/models which server this is \(the server answered 404 to GET .*\/v1\/models: not here\. Check the base URL .*\); using plain OpenAI API behaviour\.$/,
  );
  assert.equal(result.warnings[1], 'n=3: the server returned 1 choice(s); sent 2 more request(s) (seeds 11–12).');
  const infill = await backend.infill('a', 'b');
  assert.match(infill.warnings.join('\n'), /infill: sent `suffix` to a server codeloop does not recognise/);
  assert.equal(requests.at(-1)?.suffix, 'b');
});

test('renderInfill on an unknown server: the rendered prompt is sent and its stop strings enforced', async () => {
  handler = (_body, response) => reply(response, completion(['mid<EOT>junk']));
  const backend = createOpenAICompatibleBackend({
    baseURL,
    model: 'm',
    flavor: 'vllm',
    renderInfill: (prefix, suffix) => ({
      prompt: `<PRE>${prefix}<SUF>${suffix}<MID>`,
      stop: ['<EOT>'],
      warnings: ['w'],
    }),
  });
  const result = await backend.infill('a', 'b');
  assert.deepEqual(result.choices[0], {
    text: 'mid',
    finishReason: 'stop',
    stopSequence: '<EOT>',
    completionTokens: 4,
  });
  assert.deepEqual(result.warnings, ['w']);
  assert.equal(requests.at(-1)?.prompt, '<PRE>a<SUF>b<MID>');
  assert.deepEqual(requests.at(-1)?.stop, ['<EOT>']);
});

test("an error event inside a 200 stream fails the stream with the server's message", async () => {
  handler = (_body, response) =>
    stream(response, [
      JSON.stringify({ choices: [{ index: 0, text: 'par', finish_reason: null }] }),
      JSON.stringify({ error: { message: 'CUDA out of memory', type: 'InternalServerError', code: 500 } }),
    ]);
  const backend = createOpenAICompatibleBackend({ baseURL, model: 'm', flavor: 'vllm' });
  const seen: string[] = [];
  await assert.rejects(
    (async () => {
      for await (const part of backend.streamComplete('p')) if (part.type === 'text-delta') seen.push(part.text);
    })(),
    (error: unknown) => {
      assert.ok(error instanceof ApiCallError);
      assert.equal(error.statusCode, 500);
      assert.equal(error.message, 'the server reported an error: CUDA out of memory');
      return true;
    },
  );
  assert.deepEqual(seen, ['par']);
});

test('complete with returnPartialOnAbort streams each choice and keeps what arrived', async () => {
  const controller = new AbortController();
  let started = 0;
  handler = (_body, response) => {
    response.writeHead(200, { 'content-type': 'text/event-stream' });
    response.write(`data: ${JSON.stringify({ choices: [{ index: 0, text: 'def f():', finish_reason: null }] })}\n\n`);
    // ... and then nothing more until the client gives up: the budget ends once both streams have sent their text
    // (timed from there, not from the start, so a loaded machine still delivers it before the abort).
    if (++started === 2) setTimeout(() => controller.abort(new Error('latency budget')), 300);
  };
  const backend = createOpenAICompatibleBackend({ baseURL, model: 'm', flavor: 'vllm' });
  const result = await backend.complete('p', {
    n: 2,
    temperature: 0.5,
    seed: 1,
    signal: controller.signal,
    returnPartialOnAbort: true,
  });
  assert.deepEqual(
    result.choices.map((choice) => [choice.text, choice.finishReason]),
    [
      ['def f():', 'abort'],
      ['def f():', 'abort'],
    ],
  );
  assert.deepEqual(
    requests.slice(-2).map((request) => [request.stream, request.seed]),
    [
      [true, 1],
      [true, 2],
    ],
  );
});

test('a stream without usage from the server counts its chunks', async () => {
  handler = (_body, response) =>
    stream(response, [
      '{"choices":[{"index":0,"text":"a"}]}',
      '{"choices":[{"index":0,"text":"b","finish_reason":"length"}]}',
      '[DONE]',
    ]);
  const parts = await collectStream(
    createOpenAICompatibleBackend({ baseURL, model: 'm', flavor: 'sglang' }).streamComplete('p'),
  );
  assert.deepEqual(parts.at(-1), {
    type: 'finish',
    finishReason: 'length',
    usage: { promptTokens: 0, completionTokens: 2 },
  });
});

test('construction errors say what to set', () => {
  assert.throws(
    () => createOpenAICompatibleBackend({ baseURL: 'https://api.openai.com/v1', model: 'gpt-4o-mini', apiKey: '' }),
    (error: unknown) => {
      assert.ok(error instanceof UsageError);
      assert.equal(
        error.message,
        'OpenAI needs an API key: set OPENAI_API_KEY (or CODELOOP_API_KEY) in the environment (library callers: the apiKey option).',
      );
      return true;
    },
  );
  assert.throws(
    () => createOpenAICompatibleBackend({ baseURL: 'localhost:8000', model: 'm' }),
    /baseURL "localhost:8000" is not an http\(s\) URL; give the API root, e\.g\. http:\/\/127\.0\.0\.1:8000\/v1\./,
  );
  assert.throws(
    () => createOpenAICompatibleBackend({ baseURL, model: 'm', infillMode: 'render' }),
    /infillMode 'render' needs renderInfill/,
  );
  assert.throws(
    () => createOpenAICompatibleBackend({ baseURL, model: 'm', maxConcurrency: 0 }),
    /maxConcurrency=0 must be a positive integer/,
  );
});

test('serverApiKey: OPENAI_API_KEY only to https://api.openai.com (before CODELOOP_API_KEY there); elsewhere CODELOOP_API_KEY; explicit wins', () => {
  const env = { OPENAI_API_KEY: 'sk-openai', CODELOOP_API_KEY: 'local' };
  assert.equal(serverApiKey('https://api.openai.com/v1', undefined, env), 'sk-openai');
  assert.equal(serverApiKey('https://api.openai.com/v1', undefined, { CODELOOP_API_KEY: 'local' }), 'local');
  assert.equal(
    serverApiKey('http://api.openai.com/v1', undefined, env),
    'local',
    'plain http never carries the OpenAI key',
  );
  assert.equal(serverApiKey('http://api.openai.com/v1', undefined, { OPENAI_API_KEY: 'sk-openai' }), undefined);
  assert.equal(
    serverApiKey('https://api.openai.com.evil.example/v1', undefined, { OPENAI_API_KEY: 'sk-openai' }),
    undefined,
  );
  assert.equal(serverApiKey('http://127.0.0.1:8000/v1', undefined, env), 'local');
  assert.equal(
    serverApiKey('http://127.0.0.1:8000/v1', undefined, { OPENAI_API_KEY: 'sk-openai', CODELOOP_API_KEY: '' }),
    undefined,
  );
  assert.equal(serverApiKey('http://127.0.0.1:8000/v1', 'explicit', env), 'explicit');
});

test('OPENAI_API_KEY goes to api.openai.com only; other hosts get apiKey or CODELOOP_API_KEY', async () => {
  const seen: (string | undefined)[] = [];
  const keyServer = createServer((request, response) => {
    seen.push(request.headers.authorization);
    request.resume();
    request.on('end', () => reply(response, completion(['x'])));
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => keyServer.close(() => resolve())));
  const local = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/v1`;
  const saved = { openai: process.env.OPENAI_API_KEY, codeloop: process.env.CODELOOP_API_KEY };
  const restore = (name: 'OPENAI_API_KEY' | 'CODELOOP_API_KEY', value: string | undefined): void => {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  };
  try {
    process.env.OPENAI_API_KEY = 'sk-openai-secret';
    delete process.env.CODELOOP_API_KEY;
    await createOpenAICompatibleBackend({ baseURL: local, model: 'm', flavor: 'vllm' }).complete('p');
    process.env.CODELOOP_API_KEY = 'local-key';
    await createOpenAICompatibleBackend({ baseURL: local, model: 'm', flavor: 'vllm' }).complete('p');
    await createOpenAICompatibleBackend({ baseURL: local, model: 'm', flavor: 'vllm', apiKey: 'explicit' }).complete(
      'p',
    );
    assert.deepEqual(seen, [undefined, 'Bearer local-key', 'Bearer explicit']);
    // api.openai.com still finds OPENAI_API_KEY (construction checks for a key without sending anything).
    delete process.env.CODELOOP_API_KEY;
    assert.doesNotThrow(() =>
      createOpenAICompatibleBackend({ baseURL: 'https://api.openai.com/v1', model: 'gpt-4o-mini' }),
    );
    delete process.env.OPENAI_API_KEY;
    assert.throws(
      () => createOpenAICompatibleBackend({ baseURL: 'https://api.openai.com/v1', model: 'gpt-4o-mini' }),
      /OpenAI needs an API key: set OPENAI_API_KEY/,
    );
  } finally {
    restore('OPENAI_API_KEY', saved.openai);
    restore('CODELOOP_API_KEY', saved.codeloop);
  }
});
