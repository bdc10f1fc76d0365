/**
 * CI check of the whole embedded-model pipeline at toy size: `codeloop train all --smoke` builds the corpus, trains
 * a tokenizer and a tiny model, exports a q8_0 GGUF and evaluates it; then the GGUF must load in node-llama-cpp with
 * next-token log-probabilities matching the trainer's forward on the same (q8_0-rounded) weights.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { llamaNextTokenLogProbabilities, logSoftmax, maxDifference } from '../models/log-probabilities.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { decodeTensorData, encodeTensorData } from '../../src/train/gguf-writer.js';
import { LlamaModel, parameterGroups } from '../../src/train/model.js';
import { OnnxKernels } from '../../src/train/onnx-matmul.js';
import { readTokenizer } from '../../src/train/token-data.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const runDir = mkdtempSync(join(tmpdir(), 'codeloop-smoke-'));
after(() => rmSync(runDir, { recursive: true, force: true }));

test(
  'codeloop train all --smoke trains, exports a GGUF that node-llama-cpp loads, and its log-probs match the trainer',
  { timeout: 300_000 },
  async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [join(repo, 'bin', 'codeloop.js'), 'train', 'all', '--smoke', '--run', runDir],
      { maxBuffer: 1 << 24 },
    );
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const run = lines[0] as { step: number; finished: boolean; lastTrainLoss: number };
    assert.equal(run.finished, true);
    assert.ok(run.lastTrainLoss < Math.log(512), `the tiny model learned something: loss ${run.lastTrainLoss} < ln V`);
    const evaluation = lines.at(-1) as { model: { heldOut: number; step: number }; ngram: { heldOut: number } };
    assert.equal(evaluation.model.step, run.step);
    assert.ok(Number.isFinite(evaluation.model.heldOut) && Number.isFinite(evaluation.ngram.heldOut));
    for (const file of [
      'corpus/manifest.json',
      'corpus/NOTICE',
      'tokenizer.json',
      'log.jsonl',
      'eval.json',
      'checkpoint.bin',
    ])
      assert.ok(existsSync(join(runDir, file)), file);
    const manifest = JSON.parse(readFileSync(join(runDir, 'corpus', 'manifest.json'), 'utf8')) as {
      packages: { name: string; license: string }[];
    };
    assert.ok(manifest.packages.some((entry) => entry.name === 'typescript' && entry.license === 'Apache-2.0'));

    const ggufPath = join(runDir, 'codeloop-embedded.q8_0.gguf');
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath: ggufPath });
    const kernels = new OnnxKernels({ threads: 1 });
    try {
      assert.deepEqual([model.tokens.infill.prefix, model.tokens.infill.suffix, model.tokens.infill.middle], [1, 3, 2]);
      const checkpoint = loadCheckpoint(join(runDir, 'checkpoint.bin'));
      const config = checkpoint.header.config;
      const params = Float32Array.from(checkpoint.params);
      for (const group of parameterGroups(config)) {
        if (!group.decay) continue;
        const slice = params.subarray(group.offset, group.offset + group.size);
        slice.set(decodeTensorData(encodeTensorData(slice, 'q8_0'), 'q8_0', slice.length));
      }
      const tokenizer = readTokenizer(join(runDir, 'tokenizer.json'));
      const tokens = tokenizer.encode('import os\n\ndef main(argv):\n    return len(argv)\n').slice(0, 24);
      assert.deepEqual(model.tokenize('import os\n\ndef main(argv):\n    return len(argv)\n').slice(0, 24), tokens);
      const logits = await new LlamaModel({ ...config, contextLength: tokens.length }, params, kernels).logits(
        Int32Array.from(tokens),
        1,
        tokens.length,
      );
      const ours = logSoftmax(logits.subarray((tokens.length - 1) * config.vocabSize));
      const theirs = await llamaNextTokenLogProbabilities(model, tokens, {
        vocabSize: config.vocabSize,
        contextSize: 64,
      });
      const difference = maxDifference(ours, theirs, { reportedOnly: true });
      assert.ok(difference < 0.15, `max |Δ log p| = ${difference}`);
    } finally {
      await kernels.release();
      await model.dispose();
    }
  },
);

test(
  'a resumed run with a new token budget or FIM mix records a new phase; a bad fraction is refused by name',
  { timeout: 120_000 },
  async () => {
    const run = promisify(execFile);
    const cli = join(repo, 'bin', 'codeloop.js');
    const bad = await run(process.execPath, [
      cli,
      'train',
      'run',
      '--smoke',
      '--run',
      runDir,
      '--fim-rate',
      '1.5',
    ]).then(
      () => undefined,
      (error: { code?: number; stderr?: string }) => error,
    );
    assert.ok(
      bad && bad.code !== 0 && /--fim-rate "1\.5" must be a number from 0 to 1/.test(bad.stderr ?? ''),
      bad?.stderr,
    );
    const before = loadCheckpoint(join(runDir, 'checkpoint.bin')).header;
    await run(process.execPath, [
      cli,
      'train',
      'run',
      '--smoke',
      '--run',
      runDir,
      '--tokens',
      String(before.tokensSeen + 2 * 256),
      '--fim-rate',
      '0.9',
      '--line-spans',
      '0.6',
      '--max-steps',
      '2',
    ]);
    const after = loadCheckpoint(join(runDir, 'checkpoint.bin')).header;
    assert.equal(after.step, before.step + 2);
    const phases = after.phases ?? [];
    assert.equal(phases.length, 2, JSON.stringify(phases));
    assert.equal(phases[0]!.fromStep, 0);
    assert.deepEqual(
      [phases[1]!.fromStep, phases[1]!.data?.['fimRate'], phases[1]!.data?.['lineSpanFraction']],
      [before.step, 0.9, 0.6],
    );
    const runInfo = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as { phases: unknown[] };
    assert.deepEqual(runInfo.phases, phases);
  },
);
