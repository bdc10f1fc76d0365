import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { CONFORMANCE_PROMPTS, testBackendConformance } from '../conformance.js';
import { ModelError } from '../errors.js';
import { createReplayBackend } from './replay-backend.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-replay-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A line as `codeloop generate` writes it (src/loop/generate-samples.ts `GeneratedSample`). */
const line = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    finish_reason: 'stop',
    usage: { prompt_tokens: 7, completion_tokens: 12 },
    model: 'qwen2.5-coder-1.5b',
    style: 'base',
    ...fields,
  });

const completion = '    return a + b\n\n\ndef sub(a, b):\n    return a - b\n';
const samples = join(scratch, 'samples.jsonl');
writeFileSync(
  samples,
  [
    // greedy samples of one prompt are identical, as codeloop generate writes them at temperature 0
    ...[0, 1, 2].map(() => line({ task_id: 'Test/0', completion, prompt: CONFORMANCE_PROMPTS.complete })),
    line({
      task_id: 'Test/1',
      completion: 'return a + b',
      prompt: CONFORMANCE_PROMPTS.infill.prefix,
      suffix: CONFORMANCE_PROMPTS.infill.suffix,
    }),
    line({
      task_id: 'Test/2',
      completion: '```python\ndef add(a, b):\n    return a + b\n```',
      prompt: JSON.stringify(CONFORMANCE_PROMPTS.chat),
      style: 'chat',
    }),
    '',
  ].join('\n'),
);

testBackendConformance({ name: 'replay', createBackend: () => createReplayBackend(samples) });

testBackendConformance({
  name: 'replay of a file without infill or chat samples',
  createBackend: () => {
    const only = join(scratch, 'complete-only.jsonl.gz');
    writeFileSync(only, gzipSync(`${line({ task_id: 'Test/0', completion, prompt: CONFORMANCE_PROMPTS.complete })}\n`));
    return createReplayBackend(only);
  },
});

test('serves recorded lines in order across calls, then again from the first with a warning', async () => {
  const file = join(scratch, 'order.jsonl');
  writeFileSync(
    file,
    ['a', 'b', 'c']
      .map((text) =>
        line({ task_id: 'T/0', completion: text, prompt: 'p', finish_reason: text === 'b' ? 'length' : 'stop' }),
      )
      .join('\n'),
  );
  const replay = await createReplayBackend(file);
  const first = await replay.complete('p', { n: 2 });
  assert.deepEqual(
    first.choices.map((choice) => [choice.text, choice.finishReason]),
    [
      ['a', 'stop'],
      ['b', 'length'],
    ],
  );
  assert.deepEqual(first.warnings, []);
  assert.equal(first.usage.promptTokens, 7, 'recorded prompt tokens are served');
  // Each line records completion_tokens 12 for its one-word text: the recorded count is served, not word pieces.
  assert.deepEqual(
    first.choices.map((choice) => choice.completionTokens),
    [12, 12],
  );
  assert.equal(first.usage.completionTokens, 24);
  const second = await replay.complete('p', { n: 2 });
  assert.deepEqual(
    second.choices.map((choice) => choice.text),
    ['c', 'a'],
  );
  assert.deepEqual(second.warnings, [
    `replay: ${file} records 3 completion(s) for this prompt and 4 have been asked for; they are served again from the first.`,
  ]);
  assert.match(
    (await replay.complete('p', { seed: 3 })).warnings.join('\n'),
    /seed: replay has no sampler to seed; the setting is ignored/,
  );
});

test('chat matches role and content whatever the key order; stop sequences still cut', async () => {
  const file = join(scratch, 'chat.jsonl');
  writeFileSync(
    file,
    line({
      task_id: 'T/0',
      completion: 'x = 1\ny = 2',
      prompt: JSON.stringify([{ content: 'hi', role: 'user' }]),
      style: 'chat',
    }),
  );
  const replay = await createReplayBackend(file);
  const result = await replay.chat([{ role: 'user', content: 'hi' }], { stop: ['\ny'] });
  // 4 word pieces: the one that completes the stop string was generated too.
  assert.deepEqual(result.choices[0], {
    text: 'x = 1',
    finishReason: 'stop',
    stopSequence: '\ny',
    completionTokens: 4,
  });
});

test('a prompt that is not recorded names the file and the closest recorded prompt', async () => {
  const replay = await createReplayBackend(samples);
  await assert.rejects(replay.complete('def add(a, c):\n'), (error: unknown) => {
    assert.ok(error instanceof ModelError);
    assert.equal(error.code, 'prompt-not-recorded');
    assert.equal(
      error.message,
      `replay: ${samples} has no completion recorded for this prompt "def add(a, c):\\n". The closest recorded one (Test/0, line 1) differs from character 11. Replay serves only prompts recorded by \`codeloop generate\`; record them again if the prompts changed.`,
    );
    return true;
  });
  await assert.rejects(
    replay.infill('x', 'y'),
    /has no completion recorded for this infill prefix "x" with suffix "y"\. The closest recorded one \(Test\/1, line 4\)/,
  );
});

test('files that cannot be replayed fail when opened, naming the file and line', async () => {
  const missing = join(scratch, 'missing.jsonl');
  await assert.rejects(createReplayBackend(missing), {
    code: 'model-not-found',
    message: new RegExp(`cannot read the samples file ${missing} \\(ENOENT\\)\\. Record one with \`codeloop generate`),
  });
  const bad = join(scratch, 'bad.jsonl');
  writeFileSync(bad, `${line({ task_id: 'T/0', completion: 'x', prompt: 'p' })}\n{oops\n`);
  await assert.rejects(createReplayBackend(bad), {
    code: 'model-load-failed',
    message: new RegExp(`^${bad}:2: not valid JSON`),
  });
  const noPrompt = join(scratch, 'no-prompt.jsonl');
  writeFileSync(noPrompt, `${JSON.stringify({ task_id: 'T/0', completion: 'x' })}\n`);
  await assert.rejects(createReplayBackend(noPrompt), {
    message: `replay: none of the 1 lines of ${noPrompt} has a "prompt" field. Replay matches calls by prompt text; samples written by \`codeloop generate\` record it.`,
  });
  const noCompletion = join(scratch, 'no-completion.jsonl');
  writeFileSync(noCompletion, `${JSON.stringify({ task_id: 'T/0', prompt: 'p' })}\n`);
  await assert.rejects(createReplayBackend(noCompletion), {
    message: `${noCompletion}:1: "completion" is missing or not a string; replay serves the "completion" of each line.`,
  });
});
