/**
 * `codeloop generate` and `codeloop eval --model` end to end on the `examples` dataset with a tiny random-weight GGUF
 * (test/models/tiny-gguf.ts). The weights are random, so every verdict is a failure: what is checked is the pipeline,
 * the files it writes, and that reruns top up generation and resume scoring.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeIsolation } from '../../src/sandbox/index.js';
import { buildTinyGguf } from '../models/tiny-gguf.js';

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'codeloop.js');
const tiny = await buildTinyGguf({ seed: 2 });
after(() => tiny.cleanup());
const model = `gguf:${tiny.path}`;

function codeloop(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 300_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const lines = (path: string): Record<string, unknown>[] =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

test('generate: n samples per task into a JSONL; a rerun with a larger n tops up only the missing ones', async () => {
  const out = join(tiny.dir, 'samples.jsonl');
  const first = await codeloop([
    'generate',
    '--model',
    model,
    '--dataset',
    'examples',
    '-n',
    '2',
    '--temperature',
    '1',
    '--max-tokens',
    '8',
    '--out',
    out,
  ]);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(first.stdout, `${out}\n`);
  assert.match(first.stderr, /codeloop generate: examples \(12 tasks\) × n=2 with gguf:.* \(llama\)/);
  assert.match(first.stderr, /24 new sample\(s\), 0 already in/);
  const written = lines(out);
  assert.equal(written.length, 24);
  for (const sample of written) {
    assert.equal(sample.model, model);
    assert.equal(sample.style, 'base');
    assert.equal(typeof sample.completion, 'string');
    assert.ok(['length', 'stop'].includes(sample.finish_reason as string));
    assert.ok((sample.usage as { completion_tokens: number }).completion_tokens <= 8);
  }
  assert.equal(new Set(written.map((sample) => sample.task_id)).size, 12);
  const again = await codeloop([
    'generate',
    '--model',
    model,
    '--dataset',
    'examples',
    '-n',
    '3',
    '--temperature',
    '1',
    '--max-tokens',
    '8',
    '--out',
    out,
  ]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /12 new sample\(s\), 24 already in/);
  const toppedUp = lines(out);
  assert.equal(toppedUp.length, 36);
  assert.deepEqual(toppedUp.slice(0, 24), written, 'existing lines are kept as they were');
});

test('generate: bad flags are usage errors naming the flag', async () => {
  const bad = await codeloop(['generate', '--model', model, '--dataset', 'examples', '--temperature', 'hot']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--temperature "hot" must be a number from 0 to 2\./);
  const infill = await codeloop([
    'generate',
    '--model',
    model,
    '--dataset',
    'examples',
    '--prompt-style',
    'infill',
    '--out',
    join(tiny.dir, 'x.jsonl'),
  ]);
  assert.equal(infill.status, 2);
  assert.match(
    infill.stderr,
    /--prompt-style infill needs fill-in-the-middle tasks, but 12 of 12 tasks of examples have no suffix/,
  );
  const missing = await codeloop([
    'generate',
    '--model',
    'gguf:/nonexistent/m.gguf',
    '--dataset',
    'examples',
    '--out',
    join(tiny.dir, 'y.jsonl'),
  ]);
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /no such file \/nonexistent\/m\.gguf/);
  const stray = await codeloop(['eval', '--dataset', 'examples', '--samples', join(tiny.dir, 'x.jsonl'), '-n', '3']);
  assert.equal(stray.status, 2);
  assert.match(stray.stderr, /--n applies only with --model/);
});

test('generate --fim-format: a vLLM server without suffix support runs a FIM dataset with rendered prompts; without the flag the error names it', async () => {
  const dataset = join(tiny.dir, 'fim-tasks.jsonl');
  writeFileSync(
    dataset,
    `${JSON.stringify({ task_id: 'fim/0', prompt: 'def add(a, b):\n    return ', suffix: '\n', tests: 'assert add(1, 2) == 3' })}\n`,
  );
  const prompts: unknown[] = [];
  const server = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      const body = JSON.parse(text) as { prompt?: unknown; n?: number };
      prompts.push(body.prompt);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'c',
          object: 'text_completion',
          model: 'm',
          choices: [{ index: 0, text: 'a + b', finish_reason: 'stop' }],
          usage: { prompt_tokens: 12, completion_tokens: 3 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const vllm = `vllm:m@http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;

  const refused = await codeloop([
    'generate',
    '--model',
    vllm,
    '--dataset',
    dataset,
    '--out',
    join(tiny.dir, 'fim-refused.jsonl'),
  ]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(
    refused.stderr,
    /cannot infill .* has fill-in-the-middle tasks: add --fim-format FAMILY \(starcoder, starcoder2, .*\) to send prompts rendered/,
  );
  assert.deepEqual(prompts, [], 'refused before any request');

  const out = join(tiny.dir, 'fim-samples.jsonl');
  const rendered = await codeloop([
    'generate',
    '--model',
    vllm,
    '--dataset',
    dataset,
    '--fim-format',
    'qwen2.5-coder',
    '--out',
    out,
  ]);
  assert.equal(rendered.status, 0, rendered.stderr);
  assert.deepEqual(prompts, ['<|fim_prefix|>def add(a, b):\n    return <|fim_suffix|>\n<|fim_middle|>']);
  assert.equal(lines(out)[0]?.completion, 'a + b');

  const unknown = await codeloop([
    'generate',
    '--model',
    vllm,
    '--dataset',
    dataset,
    '--fim-format',
    'qwen',
    '--out',
    out,
  ]);
  assert.equal(unknown.status, 2);
  assert.match(
    unknown.stderr,
    /--fim-format "qwen" is not a FIM format: use one of starcoder, starcoder2, santacoder, qwen2\.5-coder, .*codeloop-embedded\./,
  );
  const stray = await codeloop(['eval', '--dataset', dataset, '--samples', out, '--fim-format', 'qwen2.5-coder']);
  assert.equal(stray.status, 2);
  assert.match(stray.stderr, /--fim-format applies only with --model/);
});

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine' : false;

test(
  'eval --model: generates into OUT/samples.jsonl, scores, and a rerun tops up then resumes scoring',
  { skip },
  async () => {
    const out = join(tiny.dir, 'eval');
    const args = [
      'eval',
      '--model',
      model,
      '--dataset',
      'examples',
      '--temperature',
      '1',
      '--max-tokens',
      '8',
      '--out',
      out,
    ];
    const first = await codeloop([...args, '-n', '1']);
    assert.equal(first.status, 0, first.stderr);
    assert.match(first.stdout, /examples: 12 samples, 12 tasks counted/);
    assert.match(first.stdout, /executions: 12 run, 0 reused from the journal/);
    for (const file of ['samples.jsonl', 'executions.jsonl', 'metrics.json'])
      assert.ok(existsSync(join(out, file)), file);
    assert.equal(lines(join(out, 'samples.jsonl')).length, 12);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { samples: number };
    assert.equal(metrics.samples, 12);
    const second = await codeloop([...args, '-n', '2']);
    assert.equal(second.status, 0, second.stderr);
    assert.match(second.stderr, /12 new sample\(s\), 12 already in/);
    assert.match(second.stdout, /examples: 24 samples, 12 tasks counted/);
    assert.match(second.stdout, /executions: 12 run, 12 reused from the journal/);
  },
);

test('eval: --strategy=NAME goes to the solve loop like --strategy NAME; --generation-concurrency needs --model and a count', async () => {
  const equals = await codeloop(['eval', '--dataset', 'examples', '--model', model, '--strategy=bogus']);
  assert.equal(equals.status, 2, equals.stderr);
  assert.match(equals.stderr, /--strategy "bogus": use one of resample, /);
  const stray = await codeloop([
    'eval',
    '--dataset',
    'examples',
    '--samples',
    join(tiny.dir, 'x.jsonl'),
    '--generation-concurrency',
    '4',
  ]);
  assert.equal(stray.status, 2);
  assert.match(stray.stderr, /--generation-concurrency applies only with --model/);
  const zero = await codeloop(['eval', '--dataset', 'examples', '--model', model, '--generation-concurrency', '0']);
  assert.equal(zero.status, 2);
  assert.match(zero.stderr, /--generation-concurrency "0" must be an integer from 1 to 1024/);
});

test('eval --model --generation-concurrency N keeps N model calls in flight', { skip }, async () => {
  const dataset = join(tiny.dir, 'fim-tasks-4.jsonl');
  writeFileSync(
    dataset,
    [0, 1, 2, 3]
      .map((index) =>
        JSON.stringify({
          task_id: `fim/${index}`,
          prompt: `def add${index}(a, b):\n    return `,
          suffix: '\n',
          tests: `assert add${index}(1, 2) == 3`,
        }),
      )
      .join('\n'),
  );
  let inFlight = 0;
  let most = 0;
  const server = createServer((request, response) => {
    inFlight++;
    most = Math.max(most, inFlight);
    request.resume();
    request.on('end', () =>
      setTimeout(() => {
        inFlight--;
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(
          JSON.stringify({
            id: 'c',
            object: 'text_completion',
            model: 'm',
            choices: [{ index: 0, text: 'a + b', finish_reason: 'stop' }],
            usage: { prompt_tokens: 12, completion_tokens: 3 },
          }),
        );
      }, 500),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const vllm = `vllm:m@http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const result = await codeloop([
    'eval',
    '--model',
    vllm,
    '--fim-format',
    'qwen2.5-coder',
    '--dataset',
    dataset,
    '--generation-concurrency',
    '4',
    '--out',
    join(tiny.dir, 'eval-concurrency'),
  ]);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(most, 4);
  assert.match(result.stdout, /fim-tasks-4.*: 4 samples/);
});
