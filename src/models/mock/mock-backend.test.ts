import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectStream, testBackendConformance } from '../conformance.js';
import { UnsupportedCapabilityError } from '../errors.js';
import { createMockBackend } from './mock-backend.js';

const answer = '    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';

testBackendConformance({
  name: 'mock',
  createBackend: () =>
    createMockBackend({
      respond: (request) =>
        request.kind === 'chat'
          ? 'def add(a, b):\n    return a + b'
          : request.kind === 'infill'
            ? 'return a + b'
            : answer,
      pieceDelayMs: 1,
    }),
});

testBackendConformance({
  name: 'mock without infill or chat',
  createBackend: () =>
    createMockBackend({ respond: () => answer, capabilities: { supportsInfill: false, supportsChat: false } }),
});

test('a script is consumed one answer per choice and records every call', async () => {
  const mock = createMockBackend({ respond: ['one', { text: 'two', finishReason: 'length' }, 'three'] });
  const result = await mock.complete('p', { n: 2 });
  assert.deepEqual(
    result.choices.map((choice) => [choice.text, choice.finishReason]),
    [
      ['one', 'stop'],
      ['two', 'length'],
    ],
  );
  assert.equal((await mock.chat([{ role: 'user', content: 'hi' }])).choices[0]?.text, 'three');
  assert.deepEqual(
    mock.calls.map((call) => [call.request.kind, call.choiceIndex]),
    [
      ['complete', 0],
      ['complete', 1],
      ['chat', 0],
    ],
  );
  await assert.rejects(
    mock.complete('p'),
    /the script has 3 answers and answer 4 was asked for \(complete\); add answers to respond/,
  );
  assert.equal(mock.closed, false);
  await mock.close();
  assert.equal(mock.closed, true);
});

test('scripted pieces, errors and unsupported calls', async () => {
  const failure = new Error('server on fire');
  const mock = createMockBackend({
    respond: [{ pieces: ['a', 'b', 'c'] }, { error: failure }],
    capabilities: { supportsInfill: false },
  });
  const parts = await collectStream(mock.streamComplete('p'));
  assert.deepEqual(
    parts.filter((part) => part.type === 'text-delta').map((part) => (part.type === 'text-delta' ? part.text : '')),
    ['a', 'b', 'c'],
  );
  await assert.rejects(mock.complete('p'), (error) => error === failure);
  await assert.rejects(mock.infill('a', 'b'), (error: unknown) => {
    assert.ok(error instanceof UnsupportedCapabilityError);
    assert.equal(error.capability, 'infill');
    assert.match(error.message, /^mock \(mock\) cannot infill: its capabilities say supportsInfill: false\./);
    return true;
  });
});

test('maxTokens counts word pieces; usage sums over choices', async () => {
  const mock = createMockBackend({ respond: () => 'alpha beta gamma delta' });
  const result = await mock.complete('one two', { maxTokens: 2, n: 2 });
  assert.deepEqual(
    result.choices.map((choice) => [choice.text, choice.finishReason, choice.completionTokens]),
    [
      ['alpha beta', 'length', 2],
      ['alpha beta', 'length', 2],
    ],
  );
  assert.deepEqual(result.usage, { promptTokens: 2, completionTokens: 4 });
  assert.deepEqual(result.warnings, []);
  assert.deepEqual((await mock.complete('x', { logprobs: true })).warnings, [
    'logprobs: mock returns no log-probabilities; the setting is ignored.',
  ]);
});
