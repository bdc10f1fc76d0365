import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { after, test } from 'node:test';
import { LlamaLogLevel, getLlama, readGgufFileInfo, type LlamaModel } from 'node-llama-cpp';
import {
  argmax,
  llamaNextTokenLogProbabilities,
  logSoftmax,
  maxDifference,
} from '../../test/models/log-probabilities.js';
import {
  buildTinyGguf,
  randomLlamaWeights,
  repoSourceText,
  seededRandom,
  tinyTokenizer,
} from '../../test/models/tiny-gguf.js';
import { decodeTensorData, encodeTensorData } from './gguf-writer.js';
import { writeLlamaGguf, type LlamaWeights } from './llama-gguf.js';
import { referenceForward } from './reference-forward.js';

const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const f32 = await buildTinyGguf({ fileType: 'f32', untied: true });
const models: LlamaModel[] = [];
after(async () => {
  for (const model of models) await model.dispose();
  await f32.cleanup();
});
async function load(path: string): Promise<LlamaModel> {
  const model = await llama.loadModel({ modelPath: path });
  models.push(model);
  return model;
}
const model = await load(f32.path);

/** Log-probabilities of the next token after `tokens`, from llama.cpp. */
const llamaLogProbabilities = (
  target: LlamaModel,
  tokens: number[],
  vocabSize = f32.config.vocabSize,
): Promise<Float64Array> => llamaNextTokenLogProbabilities(target, tokens, { vocabSize, contextSize: 256 });

/** `weights` as llama.cpp sees them after storing the matrices as `fileType` (norms stay f32). */
function storedWeights(weights: LlamaWeights, fileType: 'f32' | 'f16' | 'q8_0'): LlamaWeights {
  const round = (values: Float32Array): Float32Array =>
    decodeTensorData(encodeTensorData(values, fileType), fileType, values.length);
  return {
    tokenEmbedding: round(weights.tokenEmbedding),
    outputNorm: weights.outputNorm,
    layers: weights.layers.map((layer) => ({
      ...layer,
      wq: round(layer.wq),
      wk: round(layer.wk),
      wv: round(layer.wv),
      wo: round(layer.wo),
      wGate: round(layer.wGate),
      wUp: round(layer.wUp),
      wDown: round(layer.wDown),
    })),
    ...(weights.output ? { output: round(weights.output) } : {}),
  };
}

test('llama.cpp tokenizes code and unicode exactly like the JS encoder, and detokenizes it back', async () => {
  const text = `${(await repoSourceText(200_000)).join('\n')}\nconst ünïcode = "日本語 テキスト 🎉 👩‍💻 e\u0301\u00a0nbsp \t\ttabs  "; // it's 'LL\r\n\r\n  x ? a : b\n`;
  const ours = f32.tokenizer.encode(text);
  const theirs = model.tokenize(text);
  assert.equal(theirs.length, ours.length);
  assert.deepEqual(theirs, ours);
  assert.equal(model.detokenize(theirs), text);
  // Specials: parsed only when asked, into the same ids.
  const special = '<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|><|endoftext|>';
  assert.deepEqual(model.tokenize(special, true), f32.tokenizer.encode(special, { allowSpecial: true }));
  assert.deepEqual(model.tokenize(special, false), f32.tokenizer.encode(special));
});

test('the GGUF carries the tokenizer, FIM and architecture metadata the embedded format needs', async () => {
  assert.equal(model.tokens.infill.prefix, 1);
  assert.equal(model.tokens.infill.middle, 2);
  assert.equal(model.tokens.infill.suffix, 3);
  assert.equal(model.tokens.bos, 0);
  assert.equal(model.tokens.eos, 0);
  assert.equal(model.fileInfo.metadata.tokenizer.ggml.pre, 'qwen2');
  const info = await readGgufFileInfo(f32.path, { logWarnings: false });
  const ggml = info.metadata.tokenizer.ggml as unknown as Record<string, unknown>;
  assert.deepEqual(
    [
      ggml.fim_pre_token_id,
      ggml.fim_mid_token_id,
      ggml.fim_suf_token_id,
      ggml.fim_pad_token_id,
      ggml.fim_rep_token_id,
      ggml.fim_sep_token_id,
    ],
    [1, 2, 3, 4, 5, 6],
  );
  assert.deepEqual((ggml.token_type as number[]).slice(0, 10), [3, 3, 3, 3, 3, 3, 3, 3, 1, 1]);
  assert.equal(ggml.add_bos_token, false);
  assert.equal(ggml.merges && (ggml.merges as string[]).length, f32.tokenizer.data.merges.length);
  const llamaKeys = info.metadata.llama as unknown as Record<string, unknown>;
  assert.equal(llamaKeys.embedding_length, 64);
  assert.equal(llamaKeys.block_count, 2);
  assert.deepEqual(
    { ...(llamaKeys.attention as object) },
    { head_count: 4, head_count_kv: 2, layer_norm_rms_epsilon: 9.999999747378752e-6 },
  );
  assert.equal(info.metadata.general.file_type, 0);
});

test('next-token log-probabilities from llama.cpp match the plain-TS reference forward of the same weights (f32)', async () => {
  const tokens = f32.tokenizer.encode('export function add(a: number, b: number): number {\n  return a + b;\n}\n');
  const reference = logSoftmax(referenceForward(f32.config, f32.weights, tokens).at(-1)!);
  const fromLlama = await llamaLogProbabilities(model, tokens);
  assert.ok(maxDifference(fromLlama, reference) < 1e-3, `max |Δ log p| = ${maxDifference(fromLlama, reference)}`);
  assert.equal(argmax(fromLlama), argmax(reference));
  // Negative control: a different seed's weights give clearly different log-probabilities.
  const other = logSoftmax(referenceForward(f32.config, randomLlamaWeights(f32.config, 2, true), tokens).at(-1)!);
  assert.ok(maxDifference(other, fromLlama) > 1);
});

test('f16 and q8_0 files load, are smaller, and match the reference forward of their stored weights (tied output)', async () => {
  const tokenizer = await tinyTokenizer();
  const tokens = tokenizer.encode('const value = items.map((item) => item.id);');
  const sizes: Record<string, number> = {};
  for (const fileType of ['f32', 'f16', 'q8_0'] as const) {
    const built = await buildTinyGguf({ fileType, tokenizer, dir: f32.dir, seed: 5, untied: false });
    sizes[fileType] = statSync(built.path).size;
    const quantized = await load(built.path);
    assert.equal(quantized.fileInfo.metadata.general.file_type, { f32: 0, f16: 1, q8_0: 7 }[fileType]);
    const reference = logSoftmax(
      referenceForward(built.config, storedWeights(built.weights, fileType), tokens).at(-1)!,
    );
    const fromLlama = await llamaLogProbabilities(quantized, tokens);
    // llama.cpp also rounds the activations to the weights' dot-product type (f16, q8_0), hence the looser bounds.
    // The negative control above differs by more than 1 nat; a layout or scale bug would too.
    const tolerance = { f32: 1e-3, f16: 0.05, q8_0: 0.5 }[fileType];
    assert.equal(argmax(fromLlama), argmax(reference), fileType);
    assert.ok(
      maxDifference(fromLlama, reference) < tolerance,
      `${fileType}: max |Δ log p| = ${maxDifference(fromLlama, reference)}`,
    );
  }
  assert.ok(sizes.f16! < sizes.f32! * 0.6 && sizes.q8_0! < sizes.f16!, JSON.stringify(sizes));
});

test('writeLlamaGguf refuses weights that do not fit the config, naming the tensor', async () => {
  const tokenizer = await tinyTokenizer();
  const config = { ...f32.config };
  const weights = randomLlamaWeights(config, 1);
  weights.layers[1]!.wk = new Float32Array(10);
  await assert.rejects(
    writeLlamaGguf(`${f32.dir}/bad.gguf`, { name: 'bad', config, tokenizer, weights, fileType: 'f32' }),
    /Llama weights: layers\[1\]\.wk has 10 values, expected 2048/,
  );
  await assert.rejects(
    writeLlamaGguf(`${f32.dir}/bad.gguf`, {
      name: 'bad',
      config: { ...config, vocabSize: 99 },
      tokenizer,
      weights,
      fileType: 'f32',
    }),
    /the tokenizer has 512 tokens but config.vocabSize is 99/,
  );
  assert.ok(seededRandom(1)() !== seededRandom(2)());
});
