/**
 * FIM training transform (Bavarian et al. 2022, "Efficient Training of Language Models to Fill in the Middle"),
 * applied at context level after packing: a packed context of T+1 tokens is split at <|endoftext|> into document
 * pieces; each piece becomes, with probability `fimRate`, a FIM example laid out exactly as
 * `codeloopEmbeddedFormat.render({ prefix, suffix })` + middle + <|endoftext|> (PSM), or in the paper's SPM variant
 * `<|fim_prefix|><|fim_suffix|>{suffix}<|fim_middle|>{prefix}{middle}<|endoftext|>` (`spm-v2` in src/fim). Spans are
 * character-level and uniform (or, for `lineSpanFraction` of examples, 1–3 whole lines). Each piece keeps its token
 * length: the suffix's end (then the prefix's start) is cut by the tokens the sentinels add; a shortfall is padded with <|fim_pad|> at the end of the
 * context (zero loss weight). Loss is on every other token, prefix, suffix and middle alike.
 */
import type { BpeTokenizer } from './bpe-tokenizer.js';

/** Token ids of the embedded vocabulary's specials (EMBEDDED_SPECIAL_TOKENS order). */
export const SPECIAL_IDS = { endOfText: 0, prefix: 1, middle: 2, suffix: 3, pad: 4 } as const;

export interface FimTransformOptions {
  fimRate: number;
  spmFraction: number;
  lineSpanFraction: number;
}

export interface FimSplit {
  prefix: string;
  middle: string;
  suffix: string;
}

/** Picks the middle span of `text`: uniform character positions, or 1–3 whole lines. */
export function chooseFimSpan(text: string, random: () => number, lineSpanFraction: number): FimSplit {
  if (random() < lineSpanFraction) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text[i] === '\n' && i + 1 < text.length) starts.push(i + 1);
    if (starts.length >= 2) {
      const first = Math.floor(random() * starts.length);
      const lines = 1 + Math.floor(random() * 3);
      const start = starts[first]!;
      // the middle ends before the newline of its last line, like a single-line infill (prefix…\n | line | \n…suffix)
      const nextStart = starts[first + lines] ?? (text.endsWith('\n') ? text.length : text.length + 1);
      const end = Math.max(start, Math.min(text.length, nextStart - 1));
      return { prefix: text.slice(0, start), middle: text.slice(start, end), suffix: text.slice(end) };
    }
  }
  let a = Math.floor(random() * (text.length + 1));
  let b = Math.floor(random() * (text.length + 1));
  if (a > b) [a, b] = [b, a];
  return { prefix: text.slice(0, a), middle: text.slice(a, b), suffix: text.slice(b) };
}

/** The token layout of one FIM example; `suffix` already cut as needed. */
export function fimTokens(prefix: number[], middle: number[], suffix: number[], order: 'psm' | 'spm'): number[] {
  const { prefix: PRE, suffix: SUF, middle: MID, endOfText: EOT } = SPECIAL_IDS;
  return order === 'psm'
    ? [PRE, ...prefix, SUF, ...suffix, MID, ...middle, EOT]
    : [PRE, SUF, ...suffix, MID, ...prefix, ...middle, EOT];
}

/**
 * Transforms one packed context (length T+1) in place semantics: returns a new array of the same length and a
 * per-token loss weight (0 on padding).
 */
export function fimTransformContext(
  context: readonly number[],
  tokenizer: BpeTokenizer,
  random: () => number,
  options: FimTransformOptions,
): { tokens: number[]; weights: number[] } {
  const out: number[] = [];
  let start = 0;
  while (start < context.length) {
    let end = start;
    while (end < context.length && context[end] !== SPECIAL_IDS.endOfText) end++;
    const piece = context.slice(start, end);
    const hasEnd = end < context.length; // the piece is followed by <|endoftext|> inside this context
    const budget = piece.length + (hasEnd ? 1 : 0);
    let transformed: number[] | undefined;
    if (piece.length >= 4 && random() < options.fimRate) {
      const split = chooseFimSpan(tokenizer.decode(piece), random, options.lineSpanFraction);
      const order = random() < options.spmFraction ? 'spm' : 'psm';
      let prefix = tokenizer.encode(split.prefix);
      const middle = tokenizer.encode(split.middle);
      let suffix = tokenizer.encode(split.suffix);
      let excess = prefix.length + middle.length + suffix.length + 4 - budget;
      // Cut the end of the suffix first, then the start of the prefix: the text next to the middle stays.
      const fromSuffix = Math.max(0, Math.min(excess, suffix.length));
      suffix = suffix.slice(0, suffix.length - fromSuffix);
      excess -= fromSuffix;
      if (excess > 0) prefix = prefix.slice(Math.min(excess, prefix.length));
      const candidate = fimTokens(prefix, middle, suffix, order);
      if (candidate.length <= budget) transformed = candidate;
    }
    if (transformed) out.push(...transformed);
    else out.push(...piece, ...(hasEnd ? [SPECIAL_IDS.endOfText] : []));
    start = end + 1;
  }
  const weights = out.map(() => 1);
  while (out.length < context.length) {
    out.push(SPECIAL_IDS.pad);
    weights.push(0);
  }
  return { tokens: out.slice(0, context.length), weights: weights.slice(0, context.length) };
}
