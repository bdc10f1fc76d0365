/**
 * Corpus → tokens: trains the BPE tokenizer on a per-language sample of the training split, then encodes every
 * training file into one packed stream (files in a seeded shuffled order, each repeated `languageWeight` times at
 * different places, separated by <|endoftext|>), and the held-out files into a stream per language. Streams are
 * little-endian uint16 files (vocab ≤ 65,536).
 */
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { EMBEDDED_SPECIAL_TOKENS } from '../models/index.js';
import { createBpeTokenizer, trainBpeTokenizer, type BpeTokenizer, type BpeTokenizerData } from './bpe-tokenizer.js';
import { hashFraction, type CorpusDocument, type CorpusLanguage } from './corpus.js';
import type { TrainDefaults } from './defaults.js';
import { createRandom } from './model.js';
import { SPECIAL_IDS } from './fim-transform.js';

export interface TokenDataSummary {
  vocabSize: number;
  trainTokens: number;
  trainTokensByLanguage: Record<string, number>;
  /** Distinct training tokens (before language repeats). */
  uniqueTrainTokens: number;
  heldOutTokensByLanguage: Record<string, number>;
  charsPerToken: number;
  languageWeight: Record<string, number>;
}

export function readTokenizer(path: string): BpeTokenizer {
  return createBpeTokenizer(JSON.parse(readFileSync(path, 'utf8')) as BpeTokenizerData);
}

/** A deterministic per-language tokenizer sample: files ordered by content hash, taken until the byte budget. */
export function tokenizerSample(documents: readonly CorpusDocument[], bytesPerLanguage: number): string[] {
  const taken: Record<string, number> = {};
  return documents
    .filter((document) => document.split === 'train')
    .map((document) => ({ document, order: hashFraction(`tokenizer:${document.id}`) }))
    .sort((a, b) => a.order - b.order)
    .filter(({ document }) => {
      const used = taken[document.language] ?? 0;
      if (used >= bytesPerLanguage) return false;
      taken[document.language] = used + document.text.length;
      return true;
    })
    .map(({ document }) => document.text);
}

export function trainCorpusTokenizer(
  documents: readonly CorpusDocument[],
  options: TrainDefaults['tokenizer'],
  onProgress?: (merges: number) => void,
): BpeTokenizer {
  return trainBpeTokenizer(tokenizerSample(documents, options.sampleBytesPerLanguage), {
    vocabSize: options.vocabSize,
    specialTokens: EMBEDDED_SPECIAL_TOKENS,
    onProgress,
  });
}

function writeStream(path: string, tokens: Uint16Array): void {
  writeFileSync(path, new Uint8Array(tokens.buffer, tokens.byteOffset, tokens.byteLength));
}

export function readStream(path: string): Uint16Array {
  const bytes = readFileSync(path);
  return new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Writes train.bin, heldout-<language>.bin and tokens.json into `dir`. */
export function encodeCorpus(
  dir: string,
  documents: readonly CorpusDocument[],
  tokenizer: BpeTokenizer,
  options: { languageWeight: Record<CorpusLanguage, number>; seed: number; maxTrainBytes?: number },
  onProgress?: (done: number, total: number) => void,
): TokenDataSummary {
  if (tokenizer.vocabSize > 65536)
    throw new Error(`token streams are uint16: vocab ${tokenizer.vocabSize} is too large`);
  const train = documents.filter((document) => document.split === 'train');
  const heldOut = documents.filter((document) => document.split === 'heldout');
  let budget = options.maxTrainBytes ?? Infinity;
  const encoded: { language: CorpusLanguage; tokens: number[] }[] = [];
  let chars = 0;
  let uniqueTokens = 0;
  for (const [index, document] of train.entries()) {
    if (budget <= 0) break;
    budget -= document.text.length;
    const tokens = tokenizer.encode(document.text);
    chars += document.text.length;
    uniqueTokens += tokens.length;
    encoded.push({ language: document.language, tokens });
    if (index % 200 === 0) onProgress?.(index, train.length);
  }
  // Each file `weight` times, in a seeded shuffle (Fisher–Yates).
  const order: number[] = [];
  encoded.forEach((entry, index) => {
    for (let r = 0; r < options.languageWeight[entry.language]; r++) order.push(index);
  });
  const random = createRandom(options.seed);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const byLanguage: Record<string, number> = {};
  const total = order.reduce((sum, index) => sum + encoded[index]!.tokens.length + 1, 0);
  const stream = new Uint16Array(total);
  let at = 0;
  for (const index of order) {
    const entry = encoded[index]!;
    stream.set(entry.tokens, at);
    at += entry.tokens.length;
    stream[at++] = SPECIAL_IDS.endOfText;
    byLanguage[entry.language] = (byLanguage[entry.language] ?? 0) + entry.tokens.length + 1;
  }
  writeStream(join(dir, 'train.bin'), stream);

  const heldOutByLanguage: Record<string, number> = {};
  for (const language of ['typescript', 'javascript', 'python'] as const) {
    const parts: number[] = [];
    for (const document of heldOut.filter((candidate) => candidate.language === language))
      parts.push(...tokenizer.encode(document.text), SPECIAL_IDS.endOfText);
    writeStream(join(dir, `heldout-${language}.bin`), Uint16Array.from(parts));
    heldOutByLanguage[language] = parts.length;
  }
  const summary: TokenDataSummary = {
    vocabSize: tokenizer.vocabSize,
    trainTokens: total,
    trainTokensByLanguage: byLanguage,
    uniqueTrainTokens: uniqueTokens,
    heldOutTokensByLanguage: heldOutByLanguage,
    charsPerToken: chars / Math.max(1, uniqueTokens),
    languageWeight: options.languageWeight,
  };
  writeFileSync(join(dir, 'tokens.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}

export function hasTokenData(dir: string): boolean {
  return existsSync(join(dir, 'train.bin')) && existsSync(join(dir, 'tokens.json'));
}
