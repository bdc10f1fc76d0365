/**
 * Held-out evaluation of the embedded model against the n-gram baseline, on files the model never saw (the corpus's
 * hash-chosen held-out split):
 * - next-token loss (nats/token) and perplexity per language, on the same windows (T tokens, no FIM) for both; the
 *   model through the trainer's forward (f32 checkpoint), the n-gram with its context cut at the window start;
 * - single-line FIM exact match: a held-out line (≥ 8 non-blank chars) is removed; the prompt is
 *   `<|fim_prefix|>` + the last `prefixTokens` tokens before the line + `<|fim_suffix|>` + the first `suffixTokens`
 *   tokens from the line's newline on + `<|fim_middle|>`; the exported GGUF decodes greedily in node-llama-cpp
 *   (the serving path) until a special token, a newline, or `maxNewTokens`; exact match = the generated line equals
 *   the removed line after trimming surrounding whitespace. The n-gram cannot read a suffix: it continues the prefix
 *   greedily to the end of the line (the usual left-to-right baseline for infilling).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BpeTokenizer } from './bpe-tokenizer.js';
import { estimatedJaccard, minHashSignature, readCorpus, type CorpusDocument, type CorpusLanguage } from './corpus.js';
import { evaluationWindows } from './data-loader.js';
import { SPECIAL_IDS } from './fim-transform.js';
import type { LlamaModel } from './model.js';
import { createRandom } from './model.js';
import type { NgramModel } from './ngram.js';
import { readStream } from './token-data.js';

export const LANGUAGES: readonly CorpusLanguage[] = ['typescript', 'javascript', 'python'];

export interface LossByLanguage {
  /** nats/token, mean over every scored token of all languages */
  overall: number;
  byLanguage: Record<string, { loss: number; perplexity: number; tokens: number }>;
}

function combine(parts: Record<string, { sum: number; count: number }>): LossByLanguage {
  let sum = 0;
  let count = 0;
  const byLanguage: LossByLanguage['byLanguage'] = {};
  for (const [language, part] of Object.entries(parts)) {
    sum += part.sum;
    count += part.count;
    const loss = part.sum / Math.max(1, part.count);
    byLanguage[language] = { loss: round(loss), perplexity: round(Math.exp(loss)), tokens: part.count };
  }
  return { overall: round(sum / Math.max(1, count)), byLanguage };
}

const round = (value: number): number => Number(value.toFixed(4));

/** A token stream per language. */
export type HeldOutStreams = Record<string, Uint16Array>;

export function readHeldOutStreams(tokensDir: string): HeldOutStreams {
  return Object.fromEntries(
    LANGUAGES.map((language) => [language, readStream(join(tokensDir, `heldout-${language}.bin`))]),
  );
}

/** Held-out windows per language: up to `windows` windows of T tokens spread over each language's stream. */
export function heldOutWindows(streams: HeldOutStreams, T: number, windows: number) {
  return Object.entries(streams).map(([language, stream]) => ({ language, ...evaluationWindows(stream, T, windows) }));
}

export async function modelHeldOutLoss(
  model: LlamaModel,
  streams: HeldOutStreams,
  T: number,
  windows: number,
): Promise<LossByLanguage> {
  const parts: Record<string, { sum: number; count: number }> = {};
  for (const set of heldOutWindows(streams, T, windows)) {
    const part = (parts[set.language] = { sum: 0, count: 0 });
    // 4 windows per forward keeps memory small
    for (let b = 0; b < set.B; b += 4) {
      const B = Math.min(4, set.B - b);
      const slice = (array: Int32Array | Float32Array) => array.subarray(b * T, (b + B) * T);
      const result = await model.loss(
        slice(set.inputs) as Int32Array,
        slice(set.targets) as Int32Array,
        slice(set.weights) as Float32Array,
        B,
        T,
      );
      part.sum += result.loss * result.count;
      part.count += result.count;
    }
  }
  return combine(parts);
}

export function ngramHeldOutLoss(
  ngram: NgramModel,
  streams: HeldOutStreams,
  T: number,
  windows: number,
): LossByLanguage {
  const parts: Record<string, { sum: number; count: number }> = {};
  for (const set of heldOutWindows(streams, T, windows)) {
    const part = (parts[set.language] = { sum: 0, count: 0 });
    for (let b = 0; b < set.B; b++) {
      // the window's tokens: inputs then the last target
      const window = [...set.inputs.subarray(b * T, (b + 1) * T), set.targets[(b + 1) * T - 1]!];
      for (let t = 1; t <= T; t++) {
        part.sum -= Math.log(ngram.probability(window, t, 0));
        part.count++;
      }
    }
  }
  return combine(parts);
}

/**
 * Held-out files with no near-twin in the training split: estimated Jaccard of 5-word shingles < `threshold`
 * against every training file (MinHash, LSH with 32 bands of 2 rows: a pair at 0.5 is a candidate with p > 0.9999).
 * Whole-file hold-out still leaves boilerplate twins (lib.*.d.ts families, license headers) that a count model
 * memorises; this subset measures generalisation.
 */
export function filterNearTwins(
  heldOut: readonly CorpusDocument[],
  train: readonly CorpusDocument[],
  threshold: number,
): CorpusDocument[] {
  const rows = 2;
  const buckets = new Map<string, Uint32Array[]>();
  for (const document of train) {
    const signature = minHashSignature(document.text);
    for (let band = 0; band * rows < signature.length; band++) {
      const key = `${band}:${signature[band * rows]},${signature[band * rows + 1]}`;
      const bucket = buckets.get(key);
      if (bucket) bucket.push(signature);
      else buckets.set(key, [signature]);
    }
  }
  return heldOut.filter((document) => {
    const signature = minHashSignature(document.text);
    for (let band = 0; band * rows < signature.length; band++) {
      for (const other of buckets.get(`${band}:${signature[band * rows]},${signature[band * rows + 1]}`) ?? []) {
        if (estimatedJaccard(signature, other) >= threshold) return false;
      }
    }
    return true;
  });
}

export function encodeStreams(documents: readonly CorpusDocument[], tokenizer: BpeTokenizer): HeldOutStreams {
  return Object.fromEntries(
    LANGUAGES.map((language) => [
      language,
      Uint16Array.from(
        documents
          .filter((document) => document.language === language)
          .flatMap((document) => [...tokenizer.encode(document.text), SPECIAL_IDS.endOfText]),
      ),
    ]),
  );
}

export interface FimExample {
  language: CorpusLanguage;
  id: string;
  prefix: number[];
  suffix: number[];
  /** The removed line. */
  line: string;
}

/** Deterministic single-line FIM examples from held-out files: up to `perLanguage` per language. */
export function singleLineFimExamples(
  documents: readonly CorpusDocument[],
  tokenizer: BpeTokenizer,
  options: { perLanguage: number; prefixTokens: number; suffixTokens: number; seed: number },
): FimExample[] {
  const random = createRandom(options.seed);
  const examples: FimExample[] = [];
  for (const language of LANGUAGES) {
    const files = documents.filter((document) => document.split === 'heldout' && document.language === language);
    const candidates: { file: CorpusDocument; start: number; end: number }[] = [];
    for (const file of files) {
      let start = 0;
      while (start < file.text.length) {
        let end = file.text.indexOf('\n', start);
        if (end === -1) end = file.text.length;
        const line = file.text.slice(start, end);
        if (line.trim().length >= 8 && start > 0) candidates.push({ file, start, end });
        start = end + 1;
      }
    }
    // seeded sample without replacement
    for (let i = 0; i < Math.min(options.perLanguage, candidates.length); i++) {
      const j = i + Math.floor(random.next() * (candidates.length - i));
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
      const { file, start, end } = candidates[i]!;
      const prefix = tokenizer
        .encode(file.text.slice(Math.max(0, start - 8 * options.prefixTokens), start))
        .slice(-options.prefixTokens);
      const suffix = tokenizer
        .encode(file.text.slice(end, end + 8 * options.suffixTokens))
        .slice(0, options.suffixTokens);
      examples.push({ language, id: `${file.id}:${start}`, prefix, suffix, line: file.text.slice(start, end) });
    }
  }
  return examples;
}

export interface FimExactMatch {
  overall: number;
  byLanguage: Record<string, { exactMatch: number; examples: number }>;
  /** A few predictions, for the report. */
  samples: { language: string; line: string; predicted: string }[];
}

export function scoreFim(examples: readonly FimExample[], predictions: readonly string[]): FimExactMatch {
  const byLanguage: FimExactMatch['byLanguage'] = {};
  let hits = 0;
  examples.forEach((example, index) => {
    const entry = (byLanguage[example.language] ??= { exactMatch: 0, examples: 0 });
    entry.examples++;
    if (predictions[index]!.trim() === example.line.trim()) {
      entry.exactMatch++;
      hits++;
    }
  });
  for (const entry of Object.values(byLanguage)) entry.exactMatch = round(entry.exactMatch / entry.examples);
  const samples = examples.flatMap((example, index) =>
    index % 25 === 0 ? [{ language: example.language, line: example.line, predicted: predictions[index]! }] : [],
  );
  return { overall: round(hits / Math.max(1, examples.length)), byLanguage, samples };
}

/** Greedy single-line infill with the GGUF in node-llama-cpp (1 thread: decoding collapses with 2 on 2 cores). */
export async function ggufFimPredictions(
  ggufPath: string,
  examples: readonly FimExample[],
  options: { contextSize: number; maxNewTokens: number },
): Promise<string[]> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: ggufPath });
  const context = await model.createContext({ contextSize: options.contextSize, threads: 1, sequences: 1 });
  const predictions: string[] = [];
  try {
    const sequence = context.getSequence();
    for (const example of examples) {
      await sequence.clearHistory();
      const prompt = [SPECIAL_IDS.prefix, ...example.prefix, SPECIAL_IDS.suffix, ...example.suffix, SPECIAL_IDS.middle];
      const generated: number[] = [];
      for await (const token of sequence.evaluate(prompt as never[], { temperature: 0 })) {
        if ((token as number) < 8) break; // every special token ends a middle
        generated.push(token as number);
        const text = model.detokenize(generated as never[]);
        if (text.includes('\n') || generated.length >= options.maxNewTokens) break;
      }
      predictions.push(model.detokenize(generated as never[]).split('\n')[0]!);
    }
  } finally {
    await context.dispose();
    await model.dispose();
  }
  return predictions;
}

/** The n-gram's line continuation of the prefix (no suffix), greedy, never a special token. */
export function ngramFimPredictions(
  ngram: NgramModel,
  tokenizer: BpeTokenizer,
  examples: readonly FimExample[],
  maxNewTokens: number,
): string[] {
  const specials = new Set([0, 1, 2, 3, 4, 5, 6, 7]);
  const predictions = examples.map((example) => {
    const tokens = [...example.prefix];
    const generated: number[] = [];
    while (generated.length < maxNewTokens) {
      const next = ngram.greedyNext(tokens, specials);
      tokens.push(next);
      generated.push(next);
      if (tokenizer.decode(generated).includes('\n')) break;
    }
    return tokenizer.decode(generated).split('\n')[0]!;
  });
  return predictions;
}

/** The training stream's distinct documents (first occurrence of each; the stream repeats TS and Python files). */
export function uniqueDocumentsStream(stream: Uint16Array): Uint16Array {
  const seen = new Set<string>();
  const parts: Uint16Array[] = [];
  let start = 0;
  for (let i = 0; i <= stream.length; i++) {
    if (i === stream.length || stream[i] === SPECIAL_IDS.endOfText) {
      const document = stream.subarray(start, Math.min(i + 1, stream.length));
      // a cheap content key: length + sampled tokens + a rolling hash
      let h = 0;
      for (let j = 0; j < document.length; j++) h = (Math.imul(h, 31) + document[j]!) | 0;
      const key = `${document.length}:${h}`;
      if (!seen.has(key)) {
        seen.add(key);
        parts.push(document);
      }
      start = i + 1;
    }
  }
  const out = new Uint16Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

export function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

export interface EvaluateRunOptions {
  /** The exported GGUF to score FIM with (the serving path). */
  ggufPath: string;
  /** Held-out windows per language for the loss. */
  windows?: number;
  /** FIM examples per language. */
  fimPerLanguage?: number;
  onLog?: (message: string) => void;
}

export interface EvaluateRunResult {
  model: {
    heldOut: LossByLanguage;
    heldOutNoTwins: LossByLanguage;
    fim: FimExactMatch;
    fimNoTwins: FimExactMatch;
    step: number;
    tokensSeen: number;
  };
  ngram: NgramBaselineResult;
  /** Held-out files, and those without a near-twin (Jaccard ≥ 0.5) in the training split. */
  files: { heldOut: number; noTwins: number };
}

export interface NgramBaselineResult {
  order: number;
  trainedTokens: number;
  heldOut: LossByLanguage;
  heldOutNoTwins: LossByLanguage;
  fim: FimExactMatch;
  fimNoTwins: FimExactMatch;
}

const FIM_SHAPE = { prefixTokens: 160, suffixTokens: 56, maxNewTokens: 32, seed: 20261202 };

/**
 * Scores the run's checkpoint and its exported GGUF on the held-out split, next to the n-gram baseline (built once
 * from the training stream's distinct files and cached in ngram-baseline.json). Writes eval.json.
 */
export async function evaluateRun(runDir: string, options: EvaluateRunOptions): Promise<EvaluateRunResult> {
  const { windows = 24, fimPerLanguage = 100, onLog: log = () => {} } = options;
  const { existsSync, writeFileSync } = await import('node:fs');
  const { loadCheckpoint } = await import('./checkpoint.js');
  const { LlamaModel } = await import('./model.js');
  const { NgramModel } = await import('./ngram.js');
  const { OnnxKernels } = await import('./onnx-matmul.js');
  const { readTokenizer } = await import('./token-data.js');
  const { checkpointPath } = await import('./train.js');
  const tokenizer = readTokenizer(join(runDir, 'tokenizer.json'));
  const tokensDir = join(runDir, 'tokens');
  const checkpoint = loadCheckpoint(checkpointPath(runDir));
  const T = checkpoint.header.config.contextLength;
  const documents = readCorpus(join(runDir, 'corpus'));
  const heldOutDocuments = documents.filter((document) => document.split === 'heldout');
  const noTwins = filterNearTwins(
    heldOutDocuments,
    documents.filter((document) => document.split === 'train'),
    0.5,
  );
  log(`held-out: ${heldOutDocuments.length} files, ${noTwins.length} without a near-twin in training`);
  const streams = readHeldOutStreams(tokensDir);
  const cleanStreams = encodeStreams(noTwins, tokenizer);
  const examples = singleLineFimExamples(heldOutDocuments, tokenizer, { perLanguage: fimPerLanguage, ...FIM_SHAPE });
  const cleanIds = new Set(noTwins.map((document) => document.id));
  const isClean = (example: FimExample): boolean => cleanIds.has(example.id.slice(0, example.id.lastIndexOf(':')));

  const baselinePath = join(runDir, 'ngram-baseline.json');
  let ngram: NgramBaselineResult;
  if (existsSync(baselinePath)) {
    ngram = readJson<NgramBaselineResult>(baselinePath);
  } else {
    log('n-gram: counting 5-grams over the distinct training files');
    const model = new NgramModel({ order: 5, vocabSize: tokenizer.vocabSize });
    model.train(uniqueDocumentsStream(readStream(join(tokensDir, 'train.bin'))));
    log(`n-gram: ${model.trainedTokens} tokens counted; scoring`);
    const fim = ngramFimPredictions(model, tokenizer, examples, FIM_SHAPE.maxNewTokens);
    ngram = {
      order: 5,
      trainedTokens: model.trainedTokens,
      heldOut: ngramHeldOutLoss(model, streams, T, windows),
      heldOutNoTwins: ngramHeldOutLoss(model, cleanStreams, T, windows),
      fim: scoreFim(examples, fim),
      fimNoTwins: scoreFim(
        examples.filter(isClean),
        fim.filter((_, index) => isClean(examples[index]!)),
      ),
    };
    writeFileSync(baselinePath, JSON.stringify(ngram, null, 2) + '\n');
  }
  log(
    `n-gram: held-out ${ngram.heldOut.overall} nats/token (${ngram.heldOutNoTwins.overall} without near-twins), FIM ` +
      `exact match ${ngram.fim.overall} (${ngram.fimNoTwins.overall})`,
  );

  const kernels = new OnnxKernels({ threads: 2 });
  try {
    const model = new LlamaModel(checkpoint.header.config, checkpoint.params, kernels);
    const heldOut = await modelHeldOutLoss(model, streams, T, windows);
    const heldOutNoTwins = await modelHeldOutLoss(model, cleanStreams, T, windows);
    log(`model: held-out ${heldOut.overall} nats/token (${heldOutNoTwins.overall} without near-twins)`);
    const predictions = await ggufFimPredictions(options.ggufPath, examples, {
      contextSize: T,
      maxNewTokens: FIM_SHAPE.maxNewTokens,
    });
    const fim = scoreFim(examples, predictions);
    const fimNoTwins = scoreFim(
      examples.filter(isClean),
      predictions.filter((_, index) => isClean(examples[index]!)),
    );
    log(`model: FIM exact match ${fim.overall} (${fimNoTwins.overall} without near-twins)`);
    const result: EvaluateRunResult = {
      model: {
        heldOut,
        heldOutNoTwins,
        fim,
        fimNoTwins,
        step: checkpoint.header.step,
        tokensSeen: checkpoint.header.tokensSeen,
      },
      ngram,
      files: { heldOut: heldOutDocuments.length, noTwins: noTwins.length },
    };
    writeFileSync(join(runDir, 'eval.json'), JSON.stringify(result, null, 2) + '\n');
    return result;
  } finally {
    await kernels.release();
  }
}
