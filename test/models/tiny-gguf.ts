/**
 * Builds a tiny Llama GGUF for tests: a small BPE tokenizer trained on this repository's own src/**\/*.ts (with the
 * embedded model's special tokens), random weights from a fixed seed, written with src/train/llama-gguf.ts into a
 * temp dir. Real weights are not needed to test the plumbing: tokenization, FIM tokens, sampling, batching, logits.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EMBEDDED_SPECIAL_TOKENS } from '../../src/models/index.js';
import { trainBpeTokenizer, type BpeTokenizer } from '../../src/train/bpe-tokenizer.js';
import { writeLlamaGguf, type LlamaConfig, type LlamaWeights } from '../../src/train/llama-gguf.js';

/** The repository root (this file runs from dist/test/models/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface TinyGgufOptions {
  /** Directory to write into; default a fresh temp dir (removed by `cleanup`). */
  dir?: string;
  /** File name inside `dir`. Default `tiny-<fileType>.gguf`. */
  fileName?: string;
  /** Default 512. */
  vocabSize?: number;
  /** Default 64. */
  dim?: number;
  /** Default 2. */
  layers?: number;
  /** Default 4. */
  heads?: number;
  /** Default 2 (grouped-query attention, so the GQA path is exercised). */
  kvHeads?: number;
  /** Default 128. */
  ffDim?: number;
  /** Default 1024. */
  contextLength?: number;
  /** Default 'f32'. */
  fileType?: 'f32' | 'f16' | 'q8_0';
  /** Weight seed. Default 1. */
  seed?: number;
  /**
   * Separate output matrix. Default true: with random weights a tied output makes every token predict itself (its
   * embedding is the one most similar to the residual stream), so the model would only repeat the prompt's last token.
   */
  untied?: boolean;
  /** Reuse a tokenizer (training takes most of the build time). */
  tokenizer?: BpeTokenizer;
  /** Extra GGUF keys, e.g. `tokenizer.chat_template`. */
  metadata?: Record<string, string | number | boolean>;
  /** Changes the random weights before they are written (to make the model say something on purpose). */
  editWeights?: (weights: LlamaWeights, tokenizer: BpeTokenizer, config: LlamaConfig) => void;
}

export interface TinyGguf {
  path: string;
  dir: string;
  tokenizer: BpeTokenizer;
  config: LlamaConfig;
  weights: LlamaWeights;
  /** Removes the temp dir (only when the builder made it). */
  cleanup(): Promise<void>;
}

/** Up to `limitBytes` of this repository's TypeScript sources, files in sorted order. */
export async function repoSourceText(limitBytes = 400_000): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.name.endsWith('.ts')) files.push(path);
    }
  };
  await walk(join(REPO_ROOT, 'src'));
  const texts: string[] = [];
  let total = 0;
  for (const file of files) {
    if (total >= limitBytes) break;
    const text = await readFile(file, 'utf8');
    texts.push(text);
    total += text.length;
  }
  return texts;
}

let sharedTokenizer: Promise<BpeTokenizer> | undefined;

/** A 512-token tokenizer trained once per process on the repo's sources. */
export function tinyTokenizer(vocabSize = 512): Promise<BpeTokenizer> {
  if (vocabSize !== 512)
    return repoSourceText().then((texts) =>
      trainBpeTokenizer(texts, { vocabSize, specialTokens: EMBEDDED_SPECIAL_TOKENS }),
    );
  sharedTokenizer ??= repoSourceText().then((texts) =>
    trainBpeTokenizer(texts, { vocabSize, specialTokens: EMBEDDED_SPECIAL_TOKENS }),
  );
  return sharedTokenizer;
}

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Random Llama weights: matrices N(0, 1/in), embeddings N(0, 1), norms 1 ± 0.1 (so a wrong norm layout shows). */
export function randomLlamaWeights(config: LlamaConfig, seed: number, untied = false): LlamaWeights {
  const random = seededRandom(seed);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const matrix = (rows: number, columns: number, std = 1 / Math.sqrt(columns)): Float32Array =>
    Float32Array.from({ length: rows * columns }, () => normal() * std);
  const norm = (): Float32Array => Float32Array.from({ length: config.dim }, () => 1 + 0.1 * normal());
  const { vocabSize, dim, heads, kvHeads, ffDim } = config;
  const headDim = dim / heads;
  return {
    tokenEmbedding: matrix(vocabSize, dim, 1),
    layers: Array.from({ length: config.layers }, () => ({
      attnNorm: norm(),
      wq: matrix(heads * headDim, dim),
      wk: matrix(kvHeads * headDim, dim),
      wv: matrix(kvHeads * headDim, dim),
      wo: matrix(dim, heads * headDim),
      ffnNorm: norm(),
      wGate: matrix(ffDim, dim),
      wUp: matrix(ffDim, dim),
      wDown: matrix(dim, ffDim),
    })),
    outputNorm: norm(),
    ...(untied ? { output: matrix(vocabSize, dim) } : {}),
  };
}

export async function buildTinyGguf(options: TinyGgufOptions = {}): Promise<TinyGguf> {
  const {
    vocabSize = 512,
    dim = 64,
    layers = 2,
    heads = 4,
    kvHeads = 2,
    ffDim = 128,
    contextLength = 1024,
    fileType = 'f32',
    seed = 1,
    untied = true,
  } = options;
  const ownDir = options.dir === undefined;
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'codeloop-tiny-gguf-')));
  const tokenizer = options.tokenizer ?? (await tinyTokenizer(vocabSize));
  const config: LlamaConfig = {
    vocabSize: tokenizer.vocabSize,
    dim,
    layers,
    heads,
    kvHeads,
    ffDim,
    contextLength,
    ropeTheta: 10000,
    normEps: 1e-5,
  };
  const weights = randomLlamaWeights(config, seed, untied);
  options.editWeights?.(weights, tokenizer, config);
  const path = join(dir, options.fileName ?? `tiny-${fileType}.gguf`);
  await writeLlamaGguf(path, {
    name: 'codeloop-tiny-test',
    config,
    tokenizer,
    weights,
    fileType,
    ...(options.metadata ? { metadata: options.metadata } : {}),
  });
  return {
    path,
    dir,
    tokenizer,
    config,
    weights,
    cleanup: async () => {
      if (ownDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
