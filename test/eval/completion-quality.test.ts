/**
 * The completion quality harness end to end: HumanEval single-line infilling tasks through the completion engine
 * (src/fim/quality-samples.ts) and `codeloop eval --through completion`. The model answers each hole with
 * the canonical middle plus the next suffix line re-typed, as models often do: the pipeline's stop rules and merge
 * must make that exact (and passing), the raw output must stay wrong, so the uplift is measured, not assumed. The
 * real llama path runs on the tiny random-weight GGUF: there only the plumbing and the metrics are checked.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  completionQualityMetrics,
  createCompletionEngine,
  generateCompletionSamples,
  readCompletionSamples,
  type CompletionSampleRecord,
} from '../../src/fim/index.js';
import { createMockBackend, type MockRequest } from '../../src/models/index.js';
import { loadDataset, type Task } from '../../src/tasks/index.js';
import { buildTinyGguf } from '../models/tiny-gguf.js';
import { noSandbox, repositoryRoot, sharedDatasets } from './helpers.js';

const bin = join(repositoryRoot(), 'bin', 'codeloop.js');
const { dataDir, skip: noData } = sharedDatasets();
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-completion-quality-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const TASKS = 4;

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

/** The canonical middle with the first non-blank suffix line typed again after it. */
function retypingAnswer(task: Task): string {
  const next = (task.suffix ?? '').split('\n').find((line) => line.trim() !== '') ?? '';
  return `${task.canonicalSolution ?? ''}${next}\n`;
}

/** The task an infill request is for: its prefix is a tail of the task's prefix, its suffix a head of the document's. */
function taskOf(tasks: readonly Task[], request: MockRequest): Task {
  assert.equal(request.kind, 'infill');
  if (request.kind !== 'infill') throw new Error('unreachable');
  const found = tasks.filter(
    (task) => task.prompt.endsWith(request.prefix) && `\n${task.suffix ?? ''}`.startsWith(request.suffix),
  );
  assert.equal(found.length, 1, `one task for the request (prefix …${JSON.stringify(request.prefix.slice(-40))})`);
  return found[0]!;
}

interface HarnessMetrics {
  passAt1: number;
  exactMatch: number;
  exactMatchNormalized: number;
  samples: number;
  latencyMs: { p50: number; p95: number };
  modelMs: { p50: number; p95: number };
  modes: Record<string, number>;
  rules: Record<string, number>;
  postProcess: boolean;
}

test(
  'completion harness: the pipeline turns a re-typed suffix line into the exact middle; raw output stays wrong',
  { skip: noData, timeout: 300_000 },
  async () => {
    const dataset = await loadDataset('humaneval-infilling-single', { dataDir });
    const tasks = dataset.tasks.slice(0, TASKS);
    const model = createMockBackend({ respond: (request) => retypingAnswer(taskOf(tasks, request)) });
    const engine = createCompletionEngine({ model, softDeadlineMs: 60_000, hardDeadlineMs: 60_000 });
    const pipelinePath = join(scratch, 'pipeline.jsonl');
    const rawPath = join(scratch, 'raw.jsonl');
    const first = await generateCompletionSamples(tasks, engine, { outPath: pipelinePath });
    assert.deepEqual(first, { written: TASKS, existing: 0 });
    await generateCompletionSamples(tasks, engine, { outPath: rawPath, postProcess: false });
    engine.close();

    const pipeline = readCompletionSamples(pipelinePath);
    const raw = readCompletionSamples(rawPath);
    for (const [index, task] of tasks.entries()) {
      const record = pipeline[index] as CompletionSampleRecord;
      assert.equal(record.task_id, task.id);
      assert.equal(record.hole, 'lines');
      assert.equal(record.completion, task.canonicalSolution, `${task.id}: rules ${record.rules.join(', ')}`);
      assert.equal(record.exact_match, true);
      assert.ok(record.rules.length > 0, `${task.id}: a rule cut the re-typed line`);
      const rawRecord = raw[index] as CompletionSampleRecord;
      assert.equal(rawRecord.post_process, false);
      assert.deepEqual(rawRecord.rules, []);
      assert.equal(rawRecord.completion, `${retypingAnswer(task)}\n`);
      assert.equal(rawRecord.exact_match, false);
    }
    const quality = completionQualityMetrics(pipeline);
    assert.equal(quality.exactMatch, 1);
    assert.equal(quality.samples, TASKS);
    assert.equal(completionQualityMetrics(raw).exactMatch, 0);

    // A rerun tops up: nothing new; mixing raw records into a pipeline file is refused.
    assert.deepEqual(
      await generateCompletionSamples(tasks, createCompletionEngine({ model }), { outPath: pipelinePath }),
      { written: 0, existing: TASKS },
    );
    await assert.rejects(
      generateCompletionSamples(tasks, createCompletionEngine({ model }), {
        outPath: pipelinePath,
        postProcess: false,
      }),
      /holds whole-pipeline samples and this run asks for raw output \(--raw\)/,
    );

    // The CLI on the same answers, served by a replay file of what the engine asked.
    const replay = join(scratch, 'replay.jsonl');
    const seen = new Set<string>();
    const lines: string[] = [];
    for (const call of model.calls) {
      if (call.request.kind !== 'infill') continue;
      const key = `${call.request.prefix}\u0000${call.request.suffix}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const task = taskOf(tasks, call.request);
      lines.push(
        JSON.stringify({
          task_id: task.id,
          prompt: call.request.prefix,
          suffix: call.request.suffix,
          completion: retypingAnswer(task),
          style: 'base',
        }),
      );
    }
    writeFileSync(replay, `${lines.join('\n')}\n`);
    const out = join(scratch, 'cli');
    const args = [
      'eval',
      '--dataset',
      'humaneval-infilling-single',
      '--model',
      `replay:${replay}`,
      '--through',
      'completion',
      '--compare-raw',
      '--limit',
      String(TASKS),
      '--data-dir',
      dataDir,
      '--out',
      out,
      '--soft-deadline-ms',
      '60000',
    ];
    if (noSandbox) return; // scoring needs the sandbox; generation was checked above
    const result = await codeloop(args);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /through the completion engine \(model replay:.*, mode auto, first 4 tasks\)/);
    // A duplicated line is sometimes harmless to Python (a repeated assignment): raw pass@1 is below 100%, not 0.
    assert.match(result.stdout, /pass@1 \(execution\)\s+100\.00%\s+\d+\.\d\d%\s+\+\d+\.\d\d/);
    assert.match(result.stdout, /rules \(samples changed\) stop-at-suffix-line 4/);
    assert.match(result.stdout, /exact match\s+100\.00%\s+0\.00%\s+\+100\.00/);
    assert.match(result.stdout, /latency p50\/p95 ms\s+\d+\/\d+/);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as {
      passAtK: Record<string, number>;
      completion: { pipeline: HarnessMetrics; raw: HarnessMetrics; uplift: { passAt1: number; exactMatch: number } };
    };
    assert.equal(metrics.passAtK['pass@1'], 1);
    assert.equal(metrics.completion.pipeline.passAt1, 1);
    assert.equal(metrics.completion.pipeline.exactMatch, 1);
    assert.ok(metrics.completion.raw.passAt1 < 1, `raw pass@1 ${metrics.completion.raw.passAt1}`);
    assert.equal(metrics.completion.raw.exactMatch, 0);
    assert.equal(metrics.completion.raw.exactMatchNormalized, 0);
    assert.deepEqual(metrics.completion.uplift, {
      passAt1: 1 - metrics.completion.raw.passAt1,
      exactMatch: 1,
      exactMatchNormalized: 1,
    });
    assert.deepEqual(JSON.parse(readFileSync(join(out, 'completion-metrics.json'), 'utf8')), metrics.completion);
    const report = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(report, /<section id="completion"><h2>Through the completion engine<\/h2>/);
    assert.match(report, /<tr><th>exact match<\/th><td>100\.00%<\/td><td>0\.00%<\/td><td>\+100\.00<\/td><\/tr>/);
    const rawMetrics = JSON.parse(readFileSync(join(out, 'raw', 'metrics.json'), 'utf8')) as {
      passAtK: Record<string, number>;
    };
    assert.equal(rawMetrics.passAtK['pass@1'], metrics.completion.raw.passAt1);

    // Resumable: a record lost to a kill is generated again, the rest reused.
    const samplesPath = join(out, 'samples.jsonl');
    const kept = readFileSync(samplesPath, 'utf8').trim().split('\n');
    writeFileSync(samplesPath, `${kept.slice(0, -1).join('\n')}\n${kept.at(-1)!.slice(0, 20)}`);
    const rerun = await codeloop(args);
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.match(rerun.stderr, /completion pipeline: 1 new sample\(s\), 3 already in/);
    assert.match(rerun.stderr, /raw model output: 0 new sample\(s\), 4 already in/);
    assert.match(rerun.stdout, /exact match\s+100\.00%\s+0\.00%/);

    // One rule's uplift: the same tasks with stop-at-suffix-line switched off; it does not fire, and the run says so.
    const ablated = join(scratch, 'cli-ablated');
    const without = await codeloop([
      'eval',
      '--dataset',
      'humaneval-infilling-single',
      '--model',
      `replay:${replay}`,
      '--through',
      'completion',
      '--limit',
      String(TASKS),
      '--data-dir',
      dataDir,
      '--out',
      ablated,
      '--soft-deadline-ms',
      '60000',
      '--disable-rule',
      'stop-at-suffix-line',
    ]);
    assert.equal(without.status, 0, without.stderr);
    const ablatedMetrics = JSON.parse(readFileSync(join(ablated, 'metrics.json'), 'utf8')) as {
      completion: { disabledRules?: string[]; pipeline: HarnessMetrics };
    };
    assert.deepEqual(ablatedMetrics.completion.disabledRules, ['stop-at-suffix-line']);
    assert.equal(
      ablatedMetrics.completion.pipeline.rules['stop-at-suffix-line'],
      undefined,
      JSON.stringify(ablatedMetrics.completion.pipeline.rules),
    );
    assert.equal(
      metrics.completion.pipeline.rules['stop-at-suffix-line'],
      4,
      'the full pipeline used it on every task',
    );
  },
);

test('eval --through completion: bad flags are usage errors naming the flag (exit 2)', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['--dataset', 'humaneval-infilling-single', '--samples', 'x.jsonl', '--raw'],
      /--raw applies only with --through completion/,
    ],
    [
      ['--dataset', 'humaneval-infilling-single', '--model', 'embedded', '--through', 'server'],
      /--through "server" is not known: the one pipeline is --through completion/,
    ],
    [
      ['--dataset', 'humaneval-infilling-single', '--through', 'completion'],
      /--through completion generates with a model: add --model/,
    ],
    [
      [
        '--dataset',
        'humaneval-infilling-single',
        '--model',
        'embedded',
        '--through',
        'completion',
        '--raw',
        '--compare-raw',
      ],
      /--compare-raw already runs the raw output beside the pipeline: drop --raw/,
    ],
    [
      [
        '--dataset',
        'humaneval-infilling-single',
        '--model',
        'embedded',
        '--through',
        'completion',
        '--completion-mode',
        'block',
      ],
      /--completion-mode "block" is not a mode/,
    ],
    [
      ['--dataset', 'humaneval-infilling-single', '--model', 'embedded', '--through', 'completion', '--limit', '0'],
      /--limit "0" must be an integer from 1 to 10000000/,
    ],
    [
      ['--dataset', 'humaneval-infilling-single', '--model', 'embedded', '--through', 'completion', '-n', '5'],
      /--n does not apply with --through completion/,
    ],
    [
      [
        '--dataset',
        'humaneval-infilling-single',
        '--model',
        'embedded',
        '--through',
        'completion',
        '--disable-rule',
        'repetition,dedent',
      ],
      /--disable-rule "repetition,dedent": "dedent" is not a post-processing rule\. The rules are: strip-think, .*stop-at-dedent, .*syntax-rejected\./,
    ],
    [
      [
        '--dataset',
        'humaneval-infilling-single',
        '--model',
        'embedded',
        '--through',
        'completion',
        '--disable-rule',
        'repetition',
        '--raw',
      ],
      /--disable-rule switches rules off in the pipeline, and --raw runs none/,
    ],
  ];
  for (const [args, message] of cases) {
    const result = await codeloop(['eval', ...args, '--out', join(scratch, 'usage')]);
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});

test(
  'eval --through completion on the tiny GGUF: the real llama path runs both sides and reports the figures',
  { skip: noData || noSandbox, timeout: 300_000 },
  async () => {
    const tiny = await buildTinyGguf({ seed: 2 });
    after(() => tiny.cleanup());
    const out = join(scratch, 'tiny');
    const result = await codeloop([
      'eval',
      '--dataset',
      'humaneval-infilling-single',
      '--model',
      `gguf:${tiny.path}`,
      '--through',
      'completion',
      '--compare-raw',
      '--limit',
      '2',
      '--max-tokens',
      '8',
      '--data-dir',
      dataDir,
      '--out',
      out,
      '--json',
    ]);
    assert.equal(result.status, 0, result.stderr);
    const metrics = JSON.parse(result.stdout) as {
      samples: number;
      completion: { model: string; pipeline: HarnessMetrics; raw: HarnessMetrics; uplift: object };
    };
    assert.equal(metrics.samples, 2);
    assert.equal(metrics.completion.model, `gguf:${tiny.path}`);
    for (const side of [metrics.completion.pipeline, metrics.completion.raw]) {
      assert.equal(side.samples, 2);
      assert.equal(typeof side.passAt1, 'number');
      assert.equal(typeof side.exactMatch, 'number');
      assert.ok(side.latencyMs.p50 > 0 && side.latencyMs.p95 >= side.latencyMs.p50, JSON.stringify(side.latencyMs));
      assert.ok(side.modelMs.p50 > 0, JSON.stringify(side.modelMs));
    }
    assert.equal(metrics.completion.pipeline.postProcess, true);
    assert.equal(metrics.completion.raw.postProcess, false);
    assert.ok('passAt1' in metrics.completion.uplift);
    const records = readCompletionSamples(join(out, 'raw', 'samples.jsonl'));
    assert.equal(records.length, 2);
    assert.ok(records.every((record) => record.model === `gguf:${tiny.path}` && record.usage.completion_tokens > 0));
  },
);
