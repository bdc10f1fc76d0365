import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { getLlama, LlamaLogLevel, type LlamaModel as LlamaCppModel } from 'node-llama-cpp';
import {
  argmax,
  llamaNextTokenLogProbabilities,
  logSoftmax,
  maxDifference,
} from '../../test/models/log-probabilities.js';
import { tinyTokenizer } from '../../test/models/tiny-gguf.js';
import { saveCheckpoint } from './checkpoint.js';
import { exportGguf } from './export.js';
import { decodeTensorData, encodeTensorData } from './gguf-writer.js';
import { createAdamWState } from './optimizer.js';
import { initParameters, LlamaModel, parameterGroups, type ModelConfig } from './model.js';
import { OnnxKernels } from './onnx-matmul.js';
import { checkpointPath } from './train.js';

const dir = mkdtempSync(join(tmpdir(), 'codeloop-export-'));
const kernels = new OnnxKernels({ threads: 1 });
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const loaded: LlamaCppModel[] = [];
after(async () => {
  for (const model of loaded) await model.dispose();
  await kernels.release();
  rmSync(dir, { recursive: true, force: true });
});

const tokenizer = await tinyTokenizer(512);
writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer.data));

const llamaLogProbabilities = (model: LlamaCppModel, tokens: number[], vocabSize: number): Promise<Float64Array> =>
  llamaNextTokenLogProbabilities(model, tokens, { vocabSize, contextSize: 64 });

async function trainerLogProbabilities(
  config: ModelConfig,
  params: Float32Array,
  tokens: number[],
): Promise<Float64Array> {
  const model = new LlamaModel({ ...config, contextLength: tokens.length }, params, kernels);
  const logits = await model.logits(Int32Array.from(tokens), 1, tokens.length);
  return logSoftmax(logits.subarray((tokens.length - 1) * config.vocabSize));
}

for (const tied of [true, false]) {
  test(`golden: the exported GGUF's next-token log-probs in node-llama-cpp match the trainer's forward (${tied ? 'tied' : 'untied'}; f32 and q8_0)`, async () => {
    const config: ModelConfig = {
      vocabSize: tokenizer.vocabSize,
      dim: 64,
      layers: 2,
      heads: 2,
      ffDim: 96,
      contextLength: 64,
      ropeTheta: 10000,
      normEps: 1e-5,
      tiedEmbeddings: tied,
    };
    // A large init scale: logits spread over several nats, so a RoPE or layout mistake cannot hide in noise.
    const params = initParameters(config, tied ? 3 : 4, 0.15);
    saveCheckpoint(checkpointPath(dir), {
      header: {
        version: 1,
        config,
        step: 7,
        tokensSeen: 700,
        adamT: 7,
        seed: 1,
        train: {},
        savedAt: new Date().toISOString(),
      },
      params,
      adam: createAdamWState(params.length),
    });
    const text = 'def add(a, b):\n    return a + b\n\nconsole.log([1, 2, 3].map((x) => x * 2));\n';
    const tokens = tokenizer.encode(text).slice(0, 40);
    for (const fileType of ['f32', 'q8_0'] as const) {
      const path = join(dir, `model-${tied}.${fileType}.gguf`);
      const result = await exportGguf(dir, path, { fileType });
      assert.equal(result.step, 7);
      const model = await llama.loadModel({ modelPath: path });
      loaded.push(model);
      // The trainer sees the weights the file stores: q8_0 rounds every matrix (norms stay f32).
      const stored = Float32Array.from(params);
      if (fileType === 'q8_0') {
        for (const group of parameterGroups(config)) {
          if (!group.decay) continue;
          const slice = stored.subarray(group.offset, group.offset + group.size);
          slice.set(decodeTensorData(encodeTensorData(slice, 'q8_0'), 'q8_0', slice.length));
        }
      }
      for (const length of [1, 9, 40]) {
        const prefix = tokens.slice(0, length);
        const ours = await trainerLogProbabilities(config, stored, prefix);
        const theirs = await llamaLogProbabilities(model, prefix, config.vocabSize);
        const difference = maxDifference(ours, theirs);
        // f32 matches to float precision; q8_0 also quantizes activations to 8 bits inside llama.cpp's matmuls
        // (ggml's q8_0 dot product), so it is checked to 0.15 nats and the same argmax.
        const tolerance = fileType === 'f32' ? 2e-3 : 0.15;
        assert.ok(difference < tolerance, `${fileType}, ${length} tokens: max |Δ log p| = ${difference}`);
        // The same argmax, unless the trainer's top two are closer than the tolerance (then llama.cpp's choice must be
        // one of those near-ties): the tokenizer is trained on this repository's sources, so the prefix changes with
        // them, and a near-tie flipped under q8_0 once.
        const best = argmax(ours);
        const theirsBest = argmax(theirs);
        if (theirsBest !== best)
          assert.ok(
            ours[best]! - ours[theirsBest]! < 2 * tolerance,
            `${fileType}, ${length} tokens: argmax ${theirsBest} vs ${best}, not a near-tie`,
          );
      }
      // Negative control: other weights give clearly different log-probabilities.
      const other = await trainerLogProbabilities(config, initParameters(config, 99, 0.15), tokens);
      assert.ok(maxDifference(other, await llamaLogProbabilities(model, tokens, config.vocabSize)) > 0.5);
    }
  });
}
