/**
 * Every knob of the embedded-model pipeline, in one place, each with the reason for its value (nanoGPT's visible
 * knobs). `codeloop train` starts from these; `--smoke` swaps in SMOKE_DEFAULTS. Sizes were chosen by measured
 * throughput on a 2-core AMD EPYC (bench/train-throughput.ts): ≥ 12M tokens must fit in ≤ 2 h.
 */
import type { ModelConfig } from './model.js';

export interface TrainDefaults {
  corpus: {
    /** Held out whole files, by content hash: enough for ~100k held-out tokens per language group. */
    heldOutFraction: number;
    /** typescript.js (9 MB, the compiler) is the largest file worth keeping; bigger ones are bundles. */
    maxFileBytes: number;
    /** cjs/esm twins of one file score ~0.9; unrelated files in one package stay below 0.5. */
    nearDuplicateJaccard: number;
    /** Data-only or generated packages (their .js is a table, not code). */
    excludePackages: string[];
    /** Twins of typescript.js (same compiler, other entry points): near-duplicates by content, too big for MinHash to see it. */
    excludeFiles: string[];
  };
  tokenizer: {
    /** 4k: 3.07 chars/token on code; 8k gains 11% chars/token but doubles the head's FLOPs (~40% of the step). */
    vocabSize: number;
    /** Tokenizer training text per language (bytes): BPE training is O(text) in memory (~70 MB per MB). */
    sampleBytesPerLanguage: number;
  };
  data: {
    /** Times each file is repeated in the token stream: the local corpus is JS-heavy; TS and Python matter more. */
    languageWeight: Record<'typescript' | 'javascript' | 'python', number>;
    /** Fraction of document pieces in a context that become FIM examples (Bavarian et al. 2022 used 0.5–0.9). */
    fimRate: number;
    /** Of FIM examples, the fraction in SPM (PRE SUF s MID p m, the paper's SPM variant); PSM dominates since node-llama-cpp's infill sends PSM. */
    spmFraction: number;
    /** Of FIM examples, the fraction whose middle is 1–3 whole lines (the single-line infill case) instead of a random character span. */
    lineSpanFraction: number;
  };
  /**
   * d192 × 4 layers, 6 heads of 32, ff 512, 4k vocab, tied: 2.56M parameters, ~18 MFLOP/token. The largest model
   * whose 12.5M-token budget fits in 2 h at the trainer's measured speed on a loaded 2-core machine (~2.5k tok/s;
   * d128 ran at ~4.5k). ctx 256: node-llama-cpp warns when the serving context exceeds the trained one.
   */
  model: ModelConfig;
  train: {
    /** Sequences per step: B·T = 4096 tokens keeps the matmuls large enough for ORT to reach its best FLOP/s. */
    batchSize: number;
    /** Total token budget; the LR schedule spans it, so a resumed run ends where a single run would. */
    totalTokens: number;
    /** Peak LR: small models tolerate high LR; the 40-min trial used 3e-3 with Adam. */
    learningRate: number;
    /** Linear warmup steps. */
    warmupSteps: number;
    /** Cosine decays to this fraction of the peak. */
    minLearningRateFraction: number;
    /** AdamW β1. */
    beta1: number;
    /** AdamW β2 0.95: the usual LLM setting, steadier with small batches. */
    beta2: number;
    /** AdamW ε. */
    eps: number;
    /** Decoupled weight decay on matrices (not norms). */
    weightDecay: number;
    /** Global gradient-norm clip. */
    gradClip: number;
    /** Held-out loss every N steps (a forward over `evalSequences` held-out windows). */
    evalEvery: number;
    evalSequences: number;
    /** Checkpoint every N seconds (~10 min: a kill loses at most that). */
    checkpointEverySeconds: number;
    /** ORT intra-op threads: the machine's 2 cores. */
    threads: number;
    seed: number;
  };
}

export const TRAIN_DEFAULTS: TrainDefaults = {
  corpus: {
    heldOutFraction: 0.03,
    maxFileBytes: 10_000_000,
    nearDuplicateJaccard: 0.85,
    excludePackages: [
      'caniuse-lite',
      'spdx-exceptions',
      'spdx-license-ids',
      'emoji-regex',
      'mime-db',
      'node-api-headers',
    ],
    excludeFiles: [
      'typescript/lib/_tsc.js',
      'typescript/lib/_tsserver.js',
      'typescript/lib/_typingsInstaller.js',
      'typescript/lib/tsserverlibrary.js',
    ],
  },
  tokenizer: { vocabSize: 4096, sampleBytesPerLanguage: 4_000_000 },
  data: {
    languageWeight: { typescript: 2, javascript: 1, python: 2 },
    fimRate: 0.7,
    spmFraction: 0.2,
    lineSpanFraction: 0.3,
  },
  model: {
    vocabSize: 4096,
    dim: 192,
    layers: 4,
    heads: 6,
    ffDim: 512,
    contextLength: 256,
    ropeTheta: 10000,
    normEps: 1e-5,
    tiedEmbeddings: true,
  },
  train: {
    batchSize: 16,
    totalTokens: 12_500_000,
    learningRate: 2.5e-3,
    warmupSteps: 100,
    minLearningRateFraction: 0.1,
    beta1: 0.9,
    beta2: 0.95,
    eps: 1e-8,
    weightDecay: 0.1,
    gradClip: 1,
    evalEvery: 100,
    evalSequences: 16,
    checkpointEverySeconds: 600,
    threads: 2,
    seed: 1337,
  },
};

/** A tiny pipeline that trains in well under 2 minutes on 2 cores (CI): the same code, small sizes. */
export const SMOKE_DEFAULTS: TrainDefaults = {
  ...TRAIN_DEFAULTS,
  tokenizer: { vocabSize: 512, sampleBytesPerLanguage: 150_000 },
  model: { ...TRAIN_DEFAULTS.model, vocabSize: 512, dim: 32, layers: 2, heads: 2, ffDim: 64, contextLength: 64 },
  train: {
    ...TRAIN_DEFAULTS.train,
    batchSize: 4,
    totalTokens: 40 * 4 * 64,
    warmupSteps: 5,
    evalEvery: 20,
    evalSequences: 2,
    checkpointEverySeconds: 30,
    threads: 1,
  },
};
