/**
 * codeloop's own openai-compatible backend (src/models/openai-compatible) against `codeloop serve --http`'s server on
 * a real 127.0.0.1 port: the issue-4 requirement "tested against codeloop's own endpoint", both as a plain
 * OpenAI-compatible server (infill via `suffix`) and as llama-server (`/infill`), streamed and not.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCompletionEngine } from '../../src/fim/index.js';
import { collectStream } from '../../src/models/conformance.js';
import {
  createMockBackend,
  createOpenAICompatibleBackend,
  type ModelBackend,
  type StreamPart,
} from '../../src/models/index.js';
import { createHttpHandler, startHttpServer, type RunningHttpServer } from '../../src/server/http/index.js';

let server: RunningHttpServer;
const model = createMockBackend({
  respond: (request) =>
    request.kind === 'infill' && request.prefix.endsWith('return ') ? 'a + b\n\n\nprint(add(1, 2))' : 'pass',
});

before(async () => {
  const engine = createCompletionEngine({ model });
  server = await startHttpServer({ handler: createHttpHandler({ engine, modelName: 'codeloop-test' }), port: 0 });
});
after(() => server.close());

test('openai-compatible backend → /v1/models and /v1/completions with suffix', async () => {
  const client = createOpenAICompatibleBackend({ baseURL: `${server.url}/v1`, model: 'codeloop-test', maxRetries: 0 });
  assert.equal(await client.detectFlavor(), 'generic');
  const result = await client.infill('def add(a, b):\n    return ', '\n', { maxTokens: 32 });
  assert.equal(result.choices[0]?.text, 'a + b');
  const streamed = await collectStream(client.streamInfill('def add(a, b):\n    return ', '\n', { maxTokens: 32 }));
  const text = streamed.map((part) => (part.type === 'text-delta' ? part.text : '')).join('');
  assert.equal(text, 'a + b');
  assert.equal(streamed.at(-1)?.type, 'finish');
  await client.close();
});

test('openai-compatible backend as llama-server → POST /infill, streamed and not', async () => {
  const client = createOpenAICompatibleBackend({
    baseURL: `${server.url}/v1`,
    model: 'codeloop-test',
    flavor: 'llama-server',
    maxRetries: 0,
  });
  const result = await client.infill('def add(a, b):\n    return ', '\n');
  assert.equal(result.choices[0]?.text, 'a + b');
  const streamed = await collectStream(client.streamInfill('def add(a, b):\n    return ', '\n'));
  assert.equal(streamed.map((part) => (part.type === 'text-delta' ? part.text : '')).join(''), 'a + b');
  await client.close();
});

test('the server listens on loopback only unless told otherwise, and then only with a key', async () => {
  const handler = createHttpHandler({ engine: createCompletionEngine({ model }) });
  await assert.rejects(
    startHttpServer({ handler, host: '0.0.0.0', port: 0 }),
    /--host 0\.0\.0\.0 is not a loopback address.*--allow-remote and --api-key/,
  );
  await assert.rejects(
    startHttpServer({ handler, host: '0.0.0.0', port: 0, allowRemote: true }),
    /needs --api-key KEY/,
  );
  assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await fetch(`${server.url}/infill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_prefix: 'x'.repeat(2 * 1024 * 1024) }),
  });
  assert.equal(response.status, 413);
});

test('over a socket, a streamed reply starts (headers and the first lines) before generation ends', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const base = createMockBackend({ respond: () => '' });
  async function* stream(): AsyncIterable<StreamPart> {
    yield { type: 'start', modelId: 'slow', warnings: [] };
    yield { type: 'text-delta', text: 'total = 0\n    for x in xs:\n' };
    await gate;
    yield { type: 'text-delta', text: '        total += x\n    return total\n\n\nprint(1)' };
    yield { type: 'finish', finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 } };
  }
  const slow: ModelBackend = { ...base, streamInfill: () => stream(), streamComplete: () => stream() };
  const streaming = await startHttpServer({
    handler: createHttpHandler({ engine: createCompletionEngine({ model: slow }) }),
    port: 0,
  });
  try {
    const response = await fetch(`${streaming.url}/infill`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input_prefix: 'def total(xs):\n    ', stream: true }),
    });
    assert.equal(response.headers.get('content-type'), 'text/event-stream');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    assert.equal(first, `data: ${JSON.stringify({ content: 'total = 0\n    for x in xs:', stop: false })}\n\n`);
    release();
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read())
      rest += new TextDecoder().decode(chunk.value);
    const texts = rest
      .split('\n\n')
      .filter((event) => event.startsWith('data: '))
      .map((event) => (JSON.parse(event.slice(6)) as { content: string }).content);
    assert.equal(
      ['total = 0\n    for x in xs:', ...texts].join(''),
      'total = 0\n    for x in xs:\n        total += x\n    return total',
    );
  } finally {
    release();
    await streaming.close();
  }
});
