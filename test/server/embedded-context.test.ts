/**
 * The default `codeloop serve` model is the embedded GGUF, whose context holds 256 tokens. The engine's prompt budget
 * (2048 by default) must be cut to what fits with the completion, or every request on a real-sized file is a
 * context-overflow from the model (a 502). Runs on the shipped model (models/codeloop-embedded.gguf), over a real
 * 127.0.0.1 port, with the engine exactly as `serve` builds it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createCompletionEngine, modelFimFormat } from '../../src/fim/index.js';
import { openModel, type ModelBackend } from '../../src/models/index.js';
import { createHttpHandler, startHttpServer, type RunningHttpServer } from '../../src/server/http/index.js';

let model: ModelBackend;
let server: RunningHttpServer;

before(async () => {
  model = await openModel('embedded');
  // As codeloop serve builds it: the family the backend detected from the GGUF's tokens.
  const format = modelFimFormat(model).format;
  assert.equal(format?.family, 'codeloop-embedded');
  const engine = createCompletionEngine({ model, format });
  server = await startHttpServer({ handler: createHttpHandler({ engine }), port: 0 });
});
after(async () => {
  await server.close();
  await model.close();
});

const longFile = Array.from(
  { length: 300 },
  (_, index) => `def function_${index}(value):\n    return value * ${index} + len(str(value))\n`,
).join('\n');

test('a long file fits the embedded model: the prompt is cut to its 256-token context, not sent whole (was a 502 context-overflow)', async () => {
  assert.equal(model.capabilities.contextLength, 256);
  const prefix = `${longFile}\ndef total(values):\n    `;
  const suffix = `\n\n${longFile}`;
  const post = (path: string, body: unknown) =>
    fetch(`${server.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const infill = await post('/infill', { input_prefix: prefix, input_suffix: suffix, n_predict: 128 });
  const infillBody = await infill.text();
  assert.equal(infill.status, 200, infillBody);
  const reply = JSON.parse(infillBody) as { tokens_evaluated: number; tokens_predicted: number };
  assert.ok(reply.tokens_evaluated > 0 && reply.tokens_evaluated + reply.tokens_predicted <= 256, infillBody);
  const completions = await post('/v1/completions', { prompt: prefix, suffix, max_tokens: 128 });
  assert.equal(completions.status, 200, await completions.text());
});

test('/v1/chat/completions on the embedded model (no chat template in its GGUF) is a 400 naming the way out', async () => {
  assert.equal(model.capabilities.supportsChat, false);
  const response = await fetch(`${server.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Write add(a, b).' }] }),
  });
  assert.equal(response.status, 400);
  const body = (await response.json()) as { error: { message: string; type: string } };
  assert.equal(body.error.type, 'invalid_request_error');
  assert.match(body.error.message, /has no chat template .*Use \/v1\/completions or \/infill/);
});
