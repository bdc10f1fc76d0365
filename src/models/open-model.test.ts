import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { ModelError } from './errors.js';
import { EMBEDDED_MODEL_PATH, canonicalName, openModel } from './open-model.js';
import { parseModelName } from './model-name.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-open-model-'));
const server = createServer((request, response) => {
  response.writeHead(200, { 'content-type': 'application/json' });
  response.end(
    request.url === '/v1/models'
      ? JSON.stringify({ object: 'list', data: [{ id: 'm', object: 'model', owned_by: 'vllm' }] })
      : '{}',
  );
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => {
  server.close();
  rmSync(scratch, { recursive: true, force: true });
});

const isModelError = (code: string, message: RegExp) => (error: unknown) => {
  assert.ok(error instanceof ModelError, String(error));
  assert.equal(error.code, code);
  assert.match(error.message, message);
  return true;
};

test('server names open an openai-compatible backend named as the user wrote it; openai:MODEL@URL detects the server', async () => {
  const ollama = await openModel('ollama:qwen2.5-coder:1.5b');
  assert.equal(ollama.provider, 'openai-compatible');
  assert.equal(ollama.modelId, 'ollama:qwen2.5-coder:1.5b');
  assert.equal(ollama.capabilities.supportsInfill, true, 'Ollama takes suffix');
  const detected = await openModel(`openai:m@${url}/v1`);
  assert.equal(detected.capabilities.supportsInfill, false, 'detected as vLLM, which has no server-side infill');
  assert.equal(
    (await openModel({ kind: 'server', flavor: 'vllm', model: 'm', baseURL: `${url}/v1` })).modelId,
    `vllm:m@${url}/v1`,
  );
});

test('replay: opens the samples file', async () => {
  const file = join(scratch, 'samples.jsonl');
  writeFileSync(file, `${JSON.stringify({ task_id: 'T/0', completion: '    return 1\n', prompt: 'def f():\n' })}\n`);
  const replay = await openModel(`replay:${file}`);
  assert.equal(replay.modelId, `replay:${file}`);
  assert.equal((await replay.complete('def f():\n')).choices[0]?.text, '    return 1\n');
});

/** A local stand-in for the Hugging Face hub that answers every request with 404; closed after the tests. */
async function notFoundHub(): Promise<string> {
  const server = createServer((_request, response) => {
    response.statusCode = 404;
    response.end('Entry not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

test('GGUF names: a missing file, a missing llama backend, a download that cannot happen, no embedded model', async () => {
  await assert.rejects(
    openModel('gguf:/nonexistent/model.gguf'),
    isModelError(
      'model-not-found',
      /^gguf:\/nonexistent\/model\.gguf: no such file \/nonexistent\/model\.gguf\. Fix the path, or name a Hugging Face file as hf:OWNER\/REPO\/FILE\.gguf/,
    ),
  );
  const file = join(scratch, 'tiny.gguf');
  writeFileSync(file, 'not really a gguf');
  const llamaBuilt = existsSync(join(dirname(fileURLToPath(import.meta.url)), 'llama', 'index.js'));
  if (!llamaBuilt) {
    await assert.rejects(
      openModel(`gguf:${file}`),
      isModelError(
        'model-load-failed',
        /the in-process llama backend \(src\/models\/llama\) is not part of this build, so GGUF models cannot be run\. Use a server model instead/,
      ),
    );
  }
  await assert.rejects(
    // No hub is reachable here, and node-llama-cpp retries an unresolvable host for minutes: a local hub that
    // answers 404 gives the same error path at once.
    openModel('hf:owner/repo/file.gguf', {
      modelsDirectory: scratch,
      huggingFaceEndpoint: await notFoundHub(),
      signal: AbortSignal.timeout(60_000),
    }),
    isModelError(
      llamaBuilt ? 'model-not-found' : 'model-load-failed',
      /^hf:owner\/repo\/file\.gguf: .*Download file\.gguf from https:\/\/huggingface\.co\/owner\/repo yourself and use gguf:PATH\.$/,
    ),
  );
  const saved = process.env.CODELOOP_EMBEDDED_MODEL;
  delete process.env.CODELOOP_EMBEDDED_MODEL;
  try {
    if (!existsSync(EMBEDDED_MODEL_PATH)) {
      await assert.rejects(
        openModel('embedded'),
        isModelError(
          'model-not-found',
          /^the embedded model file .*models\/codeloop-embedded\.gguf \(the default, models\/codeloop-embedded\.gguf in the codeloop package\) does not exist\. Train and publish it with `codeloop train all --run DIR` then `codeloop train publish --run DIR`/,
        ),
      );
    }
    assert.equal(
      EMBEDDED_MODEL_PATH,
      join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'models', 'codeloop-embedded.gguf'),
    );
    await assert.rejects(
      openModel('embedded', { embeddedModelPath: '/nonexistent/e.gguf' }),
      isModelError(
        'model-not-found',
        /^the embedded model file \/nonexistent\/e\.gguf \(embeddedModelPath\) does not exist\. Train and publish it with `codeloop train all --run DIR` then `codeloop train publish --run DIR`/,
      ),
    );
    process.env.CODELOOP_EMBEDDED_MODEL = '/nonexistent/env.gguf';
    await assert.rejects(
      openModel('embedded'),
      isModelError(
        'model-not-found',
        /^the embedded model file \/nonexistent\/env\.gguf \(CODELOOP_EMBEDDED_MODEL\) does not exist/,
      ),
    );
    delete process.env.CODELOOP_EMBEDDED_MODEL;
  } finally {
    if (saved !== undefined) process.env.CODELOOP_EMBEDDED_MODEL = saved;
  }
});

test('canonicalName round-trips every form', () => {
  for (const name of [
    'gguf:/m/a.gguf',
    'hf:o/r/f.gguf',
    'replay:s.jsonl',
    'embedded',
    'ollama:q:1b@http://127.0.0.1:11434/v1',
    'llama-server:http://h:8080/v1',
    'openai:gpt-4o@https://api.openai.com/v1',
  ]) {
    assert.equal(canonicalName(parseModelName(name)), name);
  }
});

test('fimFormat: a vLLM server (no server-side infill) infills with a prompt rendered in that family; an unknown family is a usage error', async () => {
  const bodies: Record<string, unknown>[] = [];
  const completions = createServer((request, response) => {
    let text = '';
    request.on('data', (chunk: Buffer) => (text += chunk.toString()));
    request.on('end', () => {
      bodies.push(JSON.parse(text) as Record<string, unknown>);
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          id: 'c',
          object: 'text_completion',
          model: 'm',
          choices: [{ index: 0, text: 'x + 1<|endoftext|>more', finish_reason: 'stop' }],
          usage: { prompt_tokens: 9, completion_tokens: 4 },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => completions.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => completions.close(() => resolve())));
  const baseURL = `http://127.0.0.1:${(completions.address() as AddressInfo).port}/v1`;
  assert.equal((await openModel(`vllm:m@${baseURL}`)).capabilities.supportsInfill, false);
  const backend = await openModel(`vllm:m@${baseURL}`, { fimFormat: 'qwen2.5-coder' });
  assert.equal(backend.capabilities.supportsInfill, true);
  assert.equal(backend.capabilities.fimFamily, 'qwen2.5-coder');
  const result = await backend.infill('def f(x):\n    return ', '\n');
  assert.equal(bodies[0]?.prompt, '<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n<|fim_middle|>');
  assert.equal(bodies[0]?.suffix, undefined);
  assert.equal(result.choices[0]?.text, 'x + 1', "the family's stop strings are enforced");
  await assert.rejects(
    openModel(`vllm:m@${baseURL}`, { fimFormat: 'qwen' }),
    /^UsageError: Unknown FIM format 'qwen'\. Known formats: starcoder, starcoder2, .*codeloop-embedded\.$/,
  );
});
