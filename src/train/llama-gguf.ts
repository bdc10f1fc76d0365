/**
 * Writes a Llama-architecture GGUF (llama.cpp `LLM_ARCH_LLAMA`) with a byte-level BPE tokenizer, which node-llama-cpp
 * loads and runs. Keys and tensor names follow llama.cpp's gguf-py/gguf/constants.py; every key written here was
 * checked to load in node-llama-cpp 3.22.1 without a warning (the FIM token ids are optional: llama.cpp also finds the
 * FIM tokens by their text).
 *
 * Layouts: every matrix is row-major [out][in] like a PyTorch `nn.Linear.weight` (ggml dims [in, out]):
 * wq [heads·headDim][dim], wk/wv [kvHeads·headDim][dim], wo [dim][heads·headDim], wGate/wUp [ffDim][dim],
 * wDown [dim][ffDim]; tokenEmbedding and output [vocabSize][dim]. LLAMA uses "NORM" RoPE, which rotates adjacent
 * pairs (x[2i], x[2i+1]) with θ_i = ropeTheta^(-2i/headDim), so weights trained with that RoPE need no permutation.
 */
import { EMBEDDED_FIM_TOKENS } from '../models/index.js';
import type { BpeTokenizer } from './bpe-tokenizer.js';
import {
  Q8_0_BLOCK_SIZE,
  encodeTensorData,
  writeGguf,
  type GgufMetadataValue,
  type GgufTensor,
  type GgufTensorType,
} from './gguf-writer.js';

export interface LlamaConfig {
  vocabSize: number;
  /** Embedding width (llama.embedding_length). */
  dim: number;
  layers: number;
  heads: number;
  /** Key/value heads (grouped-query attention when < heads). */
  kvHeads: number;
  /** SwiGLU hidden width (llama.feed_forward_length). */
  ffDim: number;
  /** Longest context the model was trained for (tokens). */
  contextLength: number;
  /** RoPE base frequency, e.g. 10000. */
  ropeTheta: number;
  /** RMSNorm epsilon, e.g. 1e-5. */
  normEps: number;
}

export interface LlamaLayerWeights {
  attnNorm: Float32Array; // [dim]
  wq: Float32Array; // [heads*headDim][dim]
  wk: Float32Array; // [kvHeads*headDim][dim]
  wv: Float32Array; // [kvHeads*headDim][dim]
  wo: Float32Array; // [dim][heads*headDim]
  ffnNorm: Float32Array; // [dim]
  wGate: Float32Array; // [ffDim][dim]
  wUp: Float32Array; // [ffDim][dim]
  wDown: Float32Array; // [dim][ffDim]
}

export interface LlamaWeights {
  tokenEmbedding: Float32Array; // [vocabSize][dim]
  layers: LlamaLayerWeights[];
  outputNorm: Float32Array; // [dim]
  /** [vocabSize][dim]; absent = tied to tokenEmbedding. */
  output?: Float32Array;
}

export interface WriteLlamaGgufOptions {
  /** general.name */
  name: string;
  config: LlamaConfig;
  tokenizer: BpeTokenizer;
  weights: LlamaWeights;
  /**
   * Matrix storage. Norm weights stay F32 in every type; a matrix whose rows are not a multiple of 32 cannot be
   * Q8_0 and is stored as F16 instead.
   */
  fileType: 'f32' | 'f16' | 'q8_0';
  /** Extra keys (e.g. `codeloop.training.steps`): integers within int32 are written as INT32, other numbers as FLOAT32. */
  metadata?: Record<string, string | number | boolean>;
}

/** general.file_type values (llama.cpp `LLAMA_FTYPE_*`). */
const FILE_TYPES = { f32: 0, f16: 1, q8_0: 7 } as const;

/** Checks every weight's length against `config`; throws naming the first tensor that does not fit. */
export function checkLlamaWeights(config: LlamaConfig, weights: LlamaWeights): void {
  const { vocabSize, dim, layers, heads, kvHeads, ffDim } = config;
  if (dim % heads !== 0) throw new RangeError(`Llama config: dim ${dim} is not divisible by heads ${heads}`);
  if (heads % kvHeads !== 0)
    throw new RangeError(`Llama config: heads ${heads} is not divisible by kvHeads ${kvHeads}`);
  const headDim = dim / heads;
  if (headDim % 2 !== 0) throw new RangeError(`Llama config: head dimension ${headDim} must be even for RoPE`);
  const expect = (name: string, array: Float32Array | undefined, length: number): void => {
    if (!array) throw new Error(`Llama weights: ${name} is missing`);
    if (array.length !== length)
      throw new RangeError(`Llama weights: ${name} has ${array.length} values, expected ${length}`);
  };
  expect('tokenEmbedding', weights.tokenEmbedding, vocabSize * dim);
  if (weights.output) expect('output', weights.output, vocabSize * dim);
  expect('outputNorm', weights.outputNorm, dim);
  if (weights.layers.length !== layers)
    throw new RangeError(`Llama weights: ${weights.layers.length} layers, config says ${layers}`);
  weights.layers.forEach((layer, index) => {
    expect(`layers[${index}].attnNorm`, layer.attnNorm, dim);
    expect(`layers[${index}].wq`, layer.wq, heads * headDim * dim);
    expect(`layers[${index}].wk`, layer.wk, kvHeads * headDim * dim);
    expect(`layers[${index}].wv`, layer.wv, kvHeads * headDim * dim);
    expect(`layers[${index}].wo`, layer.wo, dim * heads * headDim);
    expect(`layers[${index}].ffnNorm`, layer.ffnNorm, dim);
    expect(`layers[${index}].wGate`, layer.wGate, ffDim * dim);
    expect(`layers[${index}].wUp`, layer.wUp, ffDim * dim);
    expect(`layers[${index}].wDown`, layer.wDown, dim * ffDim);
  });
}

/** Writes `weights` and `tokenizer` as a Llama GGUF at `path`. */
export async function writeLlamaGguf(path: string, options: WriteLlamaGgufOptions): Promise<void> {
  const { name, config, tokenizer, weights, fileType, metadata = {} } = options;
  if (tokenizer.vocabSize !== config.vocabSize) {
    throw new RangeError(
      `Llama GGUF: the tokenizer has ${tokenizer.vocabSize} tokens but config.vocabSize is ${config.vocabSize}`,
    );
  }
  checkLlamaWeights(config, weights);
  const headDim = config.dim / config.heads;

  const u32 = (value: number): GgufMetadataValue => ({ type: 'uint32', value });
  const f32 = (value: number): GgufMetadataValue => ({ type: 'float32', value });
  const string = (value: string): GgufMetadataValue => ({ type: 'string', value });
  const bool = (value: boolean): GgufMetadataValue => ({ type: 'bool', value });

  const { specialTokens, vocab, merges } = tokenizer.data;
  const special = new Set(specialTokens.map((_, index) => index));
  const idOf = (text: string): number | undefined => {
    const index = specialTokens.indexOf(text);
    return index === -1 ? undefined : index;
  };
  const entries: [string, GgufMetadataValue][] = [
    ['general.architecture', string('llama')],
    ['general.name', string(name)],
    ['general.file_type', u32(FILE_TYPES[fileType])],
    ['llama.vocab_size', u32(config.vocabSize)],
    ['llama.context_length', u32(config.contextLength)],
    ['llama.embedding_length', u32(config.dim)],
    ['llama.block_count', u32(config.layers)],
    ['llama.feed_forward_length', u32(config.ffDim)],
    ['llama.attention.head_count', u32(config.heads)],
    ['llama.attention.head_count_kv', u32(config.kvHeads)],
    ['llama.rope.dimension_count', u32(headDim)],
    ['llama.rope.freq_base', f32(config.ropeTheta)],
    ['llama.attention.layer_norm_rms_epsilon', f32(config.normEps)],
    ['tokenizer.ggml.model', string('gpt2')],
    ['tokenizer.ggml.pre', string('qwen2')],
    ['tokenizer.ggml.tokens', { type: 'array', elementType: 'string', value: vocab }],
    // 3 = control (never produced from text, not printed by default), 1 = normal (llama.cpp `LLAMA_TOKEN_TYPE_*`).
    [
      'tokenizer.ggml.token_type',
      { type: 'array', elementType: 'int32', value: vocab.map((_, id) => (special.has(id) ? 3 : 1)) },
    ],
    [
      'tokenizer.ggml.merges',
      { type: 'array', elementType: 'string', value: merges.map(([left, right]) => `${left} ${right}`) },
    ],
    ['tokenizer.ggml.bos_token_id', u32(0)],
    ['tokenizer.ggml.eos_token_id', u32(0)],
    ['tokenizer.ggml.padding_token_id', u32(idOf(EMBEDDED_FIM_TOKENS.pad) ?? 0)],
    ['tokenizer.ggml.add_bos_token', bool(false)],
    ['tokenizer.ggml.add_eos_token', bool(false)],
  ];
  const fimKeys: [string, string][] = [
    ['tokenizer.ggml.fim_pre_token_id', EMBEDDED_FIM_TOKENS.prefix],
    ['tokenizer.ggml.fim_mid_token_id', EMBEDDED_FIM_TOKENS.middle],
    ['tokenizer.ggml.fim_suf_token_id', EMBEDDED_FIM_TOKENS.suffix],
    ['tokenizer.ggml.fim_pad_token_id', EMBEDDED_FIM_TOKENS.pad],
    ['tokenizer.ggml.fim_rep_token_id', EMBEDDED_FIM_TOKENS.repoName],
    ['tokenizer.ggml.fim_sep_token_id', EMBEDDED_FIM_TOKENS.fileSeparator],
  ];
  for (const [key, text] of fimKeys) {
    const id = idOf(text);
    if (id !== undefined) entries.push([key, u32(id)]);
  }
  for (const [key, value] of Object.entries(metadata)) {
    if (entries.some(([existing]) => existing === key))
      throw new Error(`Llama GGUF: metadata key ${key} is written by the exporter; choose another name`);
    entries.push([
      key,
      typeof value === 'string'
        ? string(value)
        : typeof value === 'boolean'
          ? bool(value)
          : Number.isInteger(value) && Math.abs(value) < 2 ** 31
            ? { type: 'int32', value }
            : f32(value),
    ]);
  }

  const matrixType = (columns: number): GgufTensorType =>
    fileType === 'q8_0' && columns % Q8_0_BLOCK_SIZE !== 0 ? 'f16' : fileType;
  const matrix = (tensorName: string, values: Float32Array, rows: number, columns: number): GgufTensor => {
    const type = matrixType(columns);
    return { name: tensorName, dims: [columns, rows], type, data: encodeTensorData(values, type) };
  };
  const norm = (tensorName: string, values: Float32Array): GgufTensor => ({
    name: tensorName,
    dims: [values.length],
    type: 'f32',
    data: encodeTensorData(values, 'f32'),
  });

  const { vocabSize, dim, heads, kvHeads, ffDim } = config;
  const tensors: GgufTensor[] = [matrix('token_embd.weight', weights.tokenEmbedding, vocabSize, dim)];
  weights.layers.forEach((layer, index) => {
    const prefix = `blk.${index}`;
    tensors.push(
      norm(`${prefix}.attn_norm.weight`, layer.attnNorm),
      matrix(`${prefix}.attn_q.weight`, layer.wq, heads * headDim, dim),
      matrix(`${prefix}.attn_k.weight`, layer.wk, kvHeads * headDim, dim),
      matrix(`${prefix}.attn_v.weight`, layer.wv, kvHeads * headDim, dim),
      matrix(`${prefix}.attn_output.weight`, layer.wo, dim, heads * headDim),
      norm(`${prefix}.ffn_norm.weight`, layer.ffnNorm),
      matrix(`${prefix}.ffn_gate.weight`, layer.wGate, ffDim, dim),
      matrix(`${prefix}.ffn_up.weight`, layer.wUp, ffDim, dim),
      matrix(`${prefix}.ffn_down.weight`, layer.wDown, dim, ffDim),
    );
  });
  tensors.push(norm('output_norm.weight', weights.outputNorm));
  if (weights.output) tensors.push(matrix('output.weight', weights.output, vocabSize, dim));
  await writeGguf(path, { metadata: entries, tensors });
}
