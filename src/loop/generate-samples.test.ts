import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  MODEL_SPEC_VERSION,
  type GenerateOptions,
  type GenerateResult,
  type ModelBackend,
  type StreamPart,
} from '../models/index.js';
import type { Task } from '../tasks/index.js';
import { chatMessages, generateSamples, type GeneratedSample } from './generate-samples.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-generate-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const task = (id: string, extra: Partial<Task> = {}): Task => ({
  id,
  dataset: 'test',
  language: 'python',
  prompt: `def f_${id.replace(/\W/g, '_')}():\n`,
  tests: '',
  stopSequences: ['\ndef '],
  harness: 'completion',
  layout: 'human-eval',
  entryPoint: 'f',
  ...extra,
});

/** A backend that answers "    return <seed>" and records every call (a test double of the contract). */
function recordingBackend(calls: { kind: string; prompt: string; options: GenerateOptions }[]): ModelBackend {
  const answer = (kind: string, prompt: string, options: GenerateOptions = {}): Promise<GenerateResult> => {
    calls.push({ kind, prompt, options });
    const n = options.n ?? 1;
    return Promise.resolve({
      choices: Array.from({ length: n }, (_, index) => ({
        text: `    return ${(options.seed ?? 0) + index}\n`,
        finishReason: 'stop' as const,
        completionTokens: 3,
      })),
      usage: { promptTokens: 10, completionTokens: 3 * n },
      warnings: ['seed is approximate'],
      modelId: 'recording',
    });
  };
  const never = (): AsyncIterable<StreamPart> => {
    throw new Error('not used');
  };
  return {
    specVersion: MODEL_SPEC_VERSION,
    provider: 'test',
    modelId: 'recording',
    capabilities: { supportsInfill: true, supportsChat: true, supportsLogprobs: false, supportsSeed: true },
    complete: (prompt, options) => answer('complete', prompt, options),
    infill: (prefix, suffix, options) => answer('infill', `${prefix}|${suffix}`, options),
    chat: (messages, options) => answer('chat', JSON.stringify(messages), options),
    streamComplete: never,
    streamInfill: never,
    streamChat: never,
    close: () => Promise.resolve(),
  };
}

const read = (path: string): GeneratedSample[] =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as GeneratedSample);

test('generateSamples: n per task with seeds seed+i, stop sequences of the task, infill for tasks with a suffix, usage', async () => {
  const calls: { kind: string; prompt: string; options: GenerateOptions }[] = [];
  const out = join(scratch, 'a.jsonl');
  const tasks = [task('T/0'), task('T/1', { suffix: '\n    return x\n' })];
  const result = await generateSamples(tasks, recordingBackend(calls), {
    n: 10,
    temperature: 0.8,
    seed: 100,
    outPath: out,
  });
  assert.equal(result.written, 20);
  assert.deepEqual(result.warnings, ['seed is approximate']);
  const samples = read(out);
  assert.equal(samples.length, 20);
  const zero = samples.filter((sample) => sample.task_id === 'T/0').map((sample) => sample.completion);
  assert.deepEqual(zero.sort(), Array.from({ length: 10 }, (_, index) => `    return ${100 + index}\n`).sort());
  assert.ok(
    calls.every((call) => (call.options.n ?? 1) <= 8),
    'at most 8 samples per call',
  );
  assert.deepEqual(calls.filter((call) => call.kind === 'infill').length, 2);
  assert.deepEqual(calls[0]?.options.stop, ['\ndef ']);
  assert.equal(samples.find((sample) => sample.task_id === 'T/1')?.suffix, '\n    return x\n');
  assert.equal(result.usage.completionTokens, 60);
  // The backend counts the prompt once per call (10 tokens for up to 8 choices); every sample saw all of it.
  assert.ok(
    samples.every((sample) => sample.usage.prompt_tokens === 10),
    JSON.stringify(samples.map((sample) => sample.usage)),
  );
});

test('generateSamples resumes: tops each task up to n, drops a line cut by a kill', async () => {
  const out = join(scratch, 'b.jsonl');
  writeFileSync(
    out,
    `${JSON.stringify({ task_id: 'T/0', completion: 'x' })}\n${JSON.stringify({ task_id: 'T/0', completion: 'y' })}\n`,
  );
  appendFileSync(out, '{"task_id": "T/1", "compl');
  const calls: { kind: string; prompt: string; options: GenerateOptions }[] = [];
  const result = await generateSamples([task('T/0'), task('T/1')], recordingBackend(calls), { n: 3, outPath: out });
  assert.equal(result.existing, 2);
  assert.equal(result.written, 4);
  const samples = read(out);
  assert.equal(samples.filter((sample) => sample.task_id === 'T/0').length, 3);
  assert.equal(samples.filter((sample) => sample.task_id === 'T/1').length, 3);
  // The top-up of T/0 continues the seeds where the file stopped (sample 2 → seed 2).
  assert.equal(calls.find((call) => call.prompt.includes('T_0'))?.options.seed, 2);
});

test('generateSamples chat style: instruction prompt with the task in a fenced block; a malformed existing line is an error naming the line', async () => {
  const calls: { kind: string; prompt: string; options: GenerateOptions }[] = [];
  const out = join(scratch, 'c.jsonl');
  await generateSamples([task('T/0')], recordingBackend(calls), { style: 'chat', outPath: out });
  assert.equal(calls[0]?.kind, 'chat');
  assert.match(chatMessages(task('T/0'))[0]?.content ?? '', /```python\ndef f_T_0\(\):\n```/);
  assert.deepEqual(calls[0]?.options.stop, []);
  const bad = join(scratch, 'd.jsonl');
  writeFileSync(bad, 'not json\n');
  await assert.rejects(
    generateSamples([task('T/0')], recordingBackend([]), { outPath: bad }),
    /d\.jsonl:1: not valid JSON/,
  );
});

test('generateSamples refuses to top up a file generated with other settings, naming both values and the fix', async () => {
  const out = join(scratch, 'e.jsonl');
  await generateSamples([task('T/0')], recordingBackend([]), { n: 2, temperature: 0.8, outPath: out });
  const sample = read(out)[0]!;
  assert.deepEqual(
    [sample.model, sample.style, sample.temperature, sample.top_p, sample.max_tokens],
    ['recording', 'base', 0.8, 1, 512],
  );
  // The same settings top up.
  assert.equal(
    (await generateSamples([task('T/0')], recordingBackend([]), { n: 3, temperature: 0.8, outPath: out })).written,
    1,
  );
  await assert.rejects(
    generateSamples([task('T/0')], recordingBackend([]), { n: 4, outPath: out }),
    (error: unknown) =>
      error instanceof Error &&
      error.message ===
        `${out}:1: the samples there were generated with temperature 0.8, this run asks for 0; topping the file up ` +
          `would mix the two in one score. Write to a new --out, or rerun with --temperature 0.8 to top up.`,
  );
  const other = { ...recordingBackend([]), modelId: 'other' };
  await assert.rejects(
    generateSamples([task('T/0')], other, { n: 4, temperature: 0.8, outPath: out }),
    /generated with model "recording", this run asks for "other";.* rerun with --model recording to top up\.$/,
  );
  await assert.rejects(
    generateSamples([task('T/0')], recordingBackend([]), { n: 4, temperature: 0.8, style: 'chat', outPath: out }),
    /with style "base", this run asks for "chat";.* --prompt-style base/,
  );
  await assert.rejects(
    generateSamples([task('T/0')], recordingBackend([]), { n: 4, temperature: 0.8, topP: 0.95, outPath: out }),
    /with top_p 1, this run asks for 0\.95/,
  );
  assert.equal(read(out).length, 3, 'nothing was appended by the refused runs');
});

test('generateSamples: maxTokens defaults to half a short context; prompts are sent keep-end and cuts are counted', async () => {
  const calls: { kind: string; prompt: string; options: GenerateOptions }[] = [];
  const backend = recordingBackend(calls);
  const short: ModelBackend = {
    ...backend,
    capabilities: { ...backend.capabilities, contextLength: 256 },
    complete: async (prompt, options) => ({
      ...(await backend.complete(prompt, options)),
      ...(prompt.includes('long') ? { truncatedPromptTokens: 64 } : {}),
    }),
  };
  const outPath = join(scratch, 'short-context.jsonl');
  const result = await generateSamples([task('a'), task('long')], short, { outPath });
  assert.deepEqual(
    calls.map((call) => [call.options.maxTokens, call.options.promptOverflow]),
    [
      [128, 'keep-end'],
      [128, 'keep-end'],
    ],
  );
  assert.equal(result.truncatedPrompts, 1);
  const lines = readFileSync(outPath, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as GeneratedSample);
  assert.deepEqual(
    lines.map((line) => [line.task_id, line.max_tokens, line.truncated_prompt_tokens]),
    [
      ['a', 128, undefined],
      ['long', 128, 64],
    ],
  );
  // A context of 4096 leaves the default at 512.
  calls.length = 0;
  await generateSamples(
    [task('b')],
    { ...backend, capabilities: { ...backend.capabilities, contextLength: 4096 } },
    {
      outPath: join(scratch, 'long-context.jsonl'),
    },
  );
  assert.equal(calls[0]?.options.maxTokens, 512);
});
