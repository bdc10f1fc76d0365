/**
 * Byte-level BPE for the embedded model: GPT-2's byte-to-unicode alphabet, llama.cpp's `qwen2` pre-tokenizer, a
 * trainer (heap + incremental pair counts) and an encoder whose ids match llama.cpp's `LLAMA_VOCAB_TYPE_BPE` tokenizer
 * for a GGUF written with `tokenizer.ggml.model = "gpt2"`, `tokenizer.ggml.pre = "qwen2"`.
 *
 * Why `qwen2`: llama.cpp only loads pre-tokenizer names it knows, and `default`/`gpt-2`/`starcoder` set
 * `clean_spaces`, which rewrites `c ? a : b` to `c? a : b` on detokenize. `qwen2` round-trips code exactly (checked:
 * this encoder and llama.cpp give the same ids on 2 MB of code, and llama.cpp's detokenize restores it byte for byte).
 *
 * Vocabulary layout: ids 0..specials-1 are the special tokens, then the 256 byte symbols in byte order, then one
 * token per merge in merge order. Special tokens are control tokens: `encode` produces them only with
 * `allowSpecial`, and training treats their occurrences as document boundaries, never as text to learn.
 */

/**
 * llama.cpp's `qwen2` pre-tokenizer regex (src/llama-vocab.cpp, `LLAMA_VOCAB_PRE_TYPE_QWEN2`), reproduced with the
 * `u` flag. Contractions, letters with one optional leading non-letter, single digits, punctuation runs with an
 * optional leading space and trailing newlines, newline runs, whitespace not followed by non-space, whitespace.
 */
export const QWEN2_PRETOKENIZE_PATTERN =
  /(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+/gu;

export interface BpeTokenizerData {
  /** Control tokens, in id order from 0. */
  specialTokens: string[];
  /** vocab[id] in byte-to-unicode form; vocab[0..specialTokens.length-1] are the special tokens' texts. */
  vocab: string[];
  /** Merges in priority order (rank 0 first), each a pair of vocab strings. */
  merges: [string, string][];
}

export interface BpeTokenizer {
  readonly data: BpeTokenizerData;
  readonly vocabSize: number;
  /**
   * Token ids of `text`. With `allowSpecial` (default false) occurrences of special-token texts become their ids;
   * without it they are ordinary text.
   */
  encode(text: string, options?: { allowSpecial?: boolean }): number[];
  /** The text of `ids` (bytes joined across tokens, then decoded as UTF-8; specials as their text). */
  decode(ids: readonly number[]): string;
  /** The decoded text of one token (special tokens as their text). */
  tokenText(id: number): string;
}

export interface TrainBpeTokenizerOptions {
  /** Total vocabulary size, specials and the 256 byte symbols included. */
  vocabSize: number;
  /** Control tokens, given ids 0.. in this order. */
  specialTokens: readonly string[];
  /** Called every 256 merges and at the end with the number of merges done. */
  onProgress?: (merges: number) => void;
}

// ---------------------------------------------------------------------------------------------------------------
// GPT-2 byte-to-unicode alphabet: printable bytes map to themselves, the rest to U+0100 upwards, in byte order.

const BYTE_TO_CHAR: string[] = [];
const CHAR_TO_BYTE = new Map<string, number>();
{
  let next = 0;
  for (let byte = 0; byte < 256; byte++) {
    const printable =
      (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || (byte >= 0xae && byte <= 0xff);
    const char = String.fromCodePoint(printable ? byte : 256 + next++);
    BYTE_TO_CHAR[byte] = char;
    CHAR_TO_BYTE.set(char, byte);
  }
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/** The pre-tokens of `text` (every character belongs to exactly one). */
export function preTokenize(text: string): string[] {
  const words: string[] = [];
  let end = 0;
  for (const match of text.matchAll(QWEN2_PRETOKENIZE_PATTERN)) {
    // The alternatives cover every code point; a gap would only come from a lone surrogate. Keep it as its own word.
    if (match.index > end) words.push(text.slice(end, match.index));
    words.push(match[0]);
    end = match.index + match[0].length;
  }
  if (end < text.length) words.push(text.slice(end));
  return words;
}

/** Splits `text` on occurrences of `specials` (longest first at each position): [plainText, specialIndex, plainText, …]. */
function splitOnSpecials(text: string, specials: readonly string[]): (string | number)[] {
  if (specials.length === 0) return [text];
  const parts: (string | number)[] = [];
  const ordered = specials.map((token, index) => ({ token, index })).sort((a, b) => b.token.length - a.token.length);
  let start = 0;
  let position = 0;
  while (position < text.length) {
    // Every special in the embedded vocabulary starts with '<'; the indexOf scan keeps this fast for any set.
    let found = -1;
    let foundAt = text.length;
    for (const { token, index } of ordered) {
      const at = text.indexOf(token, position);
      if (at !== -1 && (at < foundAt || (at === foundAt && token.length > (specials[found]?.length ?? 0)))) {
        found = index;
        foundAt = at;
      }
    }
    if (found === -1) break;
    if (foundAt > start) parts.push(text.slice(start, foundAt));
    parts.push(found);
    position = foundAt + specials[found]!.length;
    start = position;
  }
  if (start < text.length) parts.push(text.slice(start));
  return parts;
}

/** A pair of token ids as one number key (ids < 2^21). */
const pairKey = (left: number, right: number): number => left * 2097152 + right;

// ---------------------------------------------------------------------------------------------------------------
// Encoder

export function createBpeTokenizer(data: BpeTokenizerData): BpeTokenizer {
  const { specialTokens, vocab, merges } = data;
  for (let index = 0; index < specialTokens.length; index++) {
    if (vocab[index] !== specialTokens[index]) {
      throw new Error(
        `BPE vocabulary: id ${index} is ${JSON.stringify(vocab[index])}, expected the special token ` +
          `${JSON.stringify(specialTokens[index])}`,
      );
    }
  }
  const idOf = new Map<string, number>();
  vocab.forEach((token, id) => {
    if (idOf.has(token))
      throw new Error(
        `BPE vocabulary: token ${JSON.stringify(token)} appears twice (ids ${idOf.get(token)} and ${id}); GGUF vocabularies must be unique`,
      );
    idOf.set(token, id);
  });
  const byteIds = new Int32Array(256);
  for (let byte = 0; byte < 256; byte++) {
    const id = idOf.get(BYTE_TO_CHAR[byte]!);
    if (id === undefined || id < specialTokens.length)
      throw new Error(`BPE vocabulary: byte symbol ${byte} (${JSON.stringify(BYTE_TO_CHAR[byte])}) is missing`);
    byteIds[byte] = id;
  }
  // pair → (rank << 21 | merged id) packed as rank * 2^21 + id; the lowest rank merges first.
  const mergeOf = new Map<number, number>();
  merges.forEach(([left, right], rank) => {
    const leftId = idOf.get(left);
    const rightId = idOf.get(right);
    const mergedId = idOf.get(left + right);
    if (leftId === undefined || rightId === undefined || mergedId === undefined) {
      throw new Error(
        `BPE merge ${rank} (${JSON.stringify(left)} ${JSON.stringify(right)}) names a token not in the vocabulary`,
      );
    }
    const key = pairKey(leftId, rightId);
    if (!mergeOf.has(key)) mergeOf.set(key, rank * 2097152 + mergedId);
  });

  const wordCache = new Map<string, number[]>();
  const maxCacheSize = 200_000;

  function encodeWord(word: string): number[] {
    const cached = wordCache.get(word);
    if (cached) return cached;
    const bytes = utf8Encoder.encode(word);
    let symbols: number[] = Array.from(bytes, (byte) => byteIds[byte]!);
    // Repeatedly merge the lowest-ranked adjacent pair, all its non-overlapping occurrences left to right.
    while (symbols.length > 1) {
      let best = Infinity;
      for (let index = 0; index + 1 < symbols.length; index++) {
        const merge = mergeOf.get(pairKey(symbols[index]!, symbols[index + 1]!));
        if (merge !== undefined && merge < best) best = merge;
      }
      if (best === Infinity) break;
      const mergedId = best % 2097152;
      const rank = (best - mergedId) / 2097152;
      const [left, right] = merges[rank]!;
      const leftId = idOf.get(left)!;
      const rightId = idOf.get(right)!;
      const next: number[] = [];
      for (let index = 0; index < symbols.length; index++) {
        if (index + 1 < symbols.length && symbols[index] === leftId && symbols[index + 1] === rightId) {
          next.push(mergedId);
          index++;
        } else next.push(symbols[index]!);
      }
      symbols = next;
    }
    if (wordCache.size >= maxCacheSize) wordCache.clear();
    wordCache.set(word, symbols);
    return symbols;
  }

  function encodePlain(text: string, ids: number[]): void {
    for (const word of preTokenize(text)) for (const id of encodeWord(word)) ids.push(id);
  }

  const tokenBytes: Uint8Array[] = vocab.map((token, id) => {
    if (id < specialTokens.length) return utf8Encoder.encode(token);
    const bytes = new Uint8Array(token.length);
    let length = 0;
    for (const char of token) {
      const byte = CHAR_TO_BYTE.get(char);
      if (byte === undefined)
        throw new Error(
          `BPE vocabulary: token ${id} (${JSON.stringify(token)}) has a character outside the byte alphabet`,
        );
      bytes[length++] = byte;
    }
    return bytes.subarray(0, length);
  });

  return {
    data,
    vocabSize: vocab.length,
    encode(text, { allowSpecial = false } = {}) {
      const ids: number[] = [];
      if (!allowSpecial) {
        encodePlain(text, ids);
        return ids;
      }
      for (const part of splitOnSpecials(text, specialTokens)) {
        if (typeof part === 'number') ids.push(part);
        else encodePlain(part, ids);
      }
      return ids;
    },
    decode(ids) {
      let total = 0;
      for (const id of ids) total += tokenBytesOf(id).length;
      const bytes = new Uint8Array(total);
      let offset = 0;
      for (const id of ids) {
        const piece = tokenBytesOf(id);
        bytes.set(piece, offset);
        offset += piece.length;
      }
      return utf8Decoder.decode(bytes);
    },
    tokenText(id) {
      return utf8Decoder.decode(tokenBytesOf(id));
    },
  };

  function tokenBytesOf(id: number): Uint8Array {
    const bytes = tokenBytes[id];
    if (bytes === undefined) throw new RangeError(`token id ${id} is outside the vocabulary (0..${vocab.length - 1})`);
    return bytes;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Trainer

/** A max-heap of (count, pair) with lazy deletion: stale entries are re-checked against the live count on pop. */
class PairHeap {
  private counts: number[] = [];
  private pairs: number[] = [];

  get size(): number {
    return this.counts.length;
  }

  push(count: number, pair: number): void {
    this.counts.push(count);
    this.pairs.push(pair);
    let index = this.counts.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if (!this.before(index, parent)) break;
      this.swap(index, parent);
      index = parent;
    }
  }

  pop(): { count: number; pair: number } | undefined {
    if (this.counts.length === 0) return undefined;
    const top = { count: this.counts[0]!, pair: this.pairs[0]! };
    const lastCount = this.counts.pop()!;
    const lastPair = this.pairs.pop()!;
    if (this.counts.length > 0) {
      this.counts[0] = lastCount;
      this.pairs[0] = lastPair;
      let index = 0;
      for (;;) {
        const left = 2 * index + 1;
        const right = left + 1;
        let best = index;
        if (left < this.counts.length && this.before(left, best)) best = left;
        if (right < this.counts.length && this.before(right, best)) best = right;
        if (best === index) break;
        this.swap(index, best);
        index = best;
      }
    }
    return top;
  }

  /** Higher count first; ties go to the smaller pair key, so training is deterministic. */
  private before(a: number, b: number): boolean {
    const countA = this.counts[a]!;
    const countB = this.counts[b]!;
    return countA > countB || (countA === countB && this.pairs[a]! < this.pairs[b]!);
  }

  private swap(a: number, b: number): void {
    [this.counts[a], this.counts[b]] = [this.counts[b]!, this.counts[a]!];
    [this.pairs[a], this.pairs[b]] = [this.pairs[b]!, this.pairs[a]!];
  }
}

/**
 * Learns `vocabSize - specialTokens.length - 256` merges from `texts`. Words (pre-tokens) are counted once, then
 * each merge touches only the words that contain its pair: pair counts are kept incrementally, and a lazy heap
 * yields the most frequent pair. Occurrences of special tokens in the texts split documents and are not learned.
 */
export function trainBpeTokenizer(texts: Iterable<string>, options: TrainBpeTokenizerOptions): BpeTokenizer {
  const { vocabSize, specialTokens, onProgress } = options;
  const baseSize = specialTokens.length + 256;
  if (!Number.isInteger(vocabSize) || vocabSize < baseSize) {
    throw new RangeError(
      `vocabSize ${vocabSize} is too small: it must be an integer ≥ ${baseSize} (${specialTokens.length} special ` +
        `tokens + 256 byte symbols)`,
    );
  }
  if (new Set(specialTokens).size !== specialTokens.length)
    throw new Error(`special tokens must be distinct: ${JSON.stringify(specialTokens)}`);

  // Count words.
  const wordCounts = new Map<string, number>();
  for (const text of texts) {
    for (const part of splitOnSpecials(text, specialTokens)) {
      if (typeof part === 'number') continue;
      for (const word of preTokenize(part)) wordCounts.set(word, (wordCounts.get(word) ?? 0) + 1);
    }
  }

  const vocab: string[] = [...specialTokens];
  for (let byte = 0; byte < 256; byte++) vocab.push(BYTE_TO_CHAR[byte]!);
  const taken = new Set(vocab);
  const merges: [string, string][] = [];

  // Words as symbol arrays (ids), with their counts.
  const words: Int32Array[] = [];
  const counts: number[] = [];
  for (const [word, count] of wordCounts) {
    const bytes = utf8Encoder.encode(word);
    if (bytes.length < 2) continue; // a single byte can never merge
    const symbols = new Int32Array(bytes.length);
    for (let index = 0; index < bytes.length; index++) symbols[index] = specialTokens.length + bytes[index]!;
    words.push(symbols);
    counts.push(count);
  }
  wordCounts.clear();
  const wordLengths = words.map((word) => word.length);

  const pairCounts = new Map<number, number>();
  const pairWords = new Map<number, number[]>(); // may hold stale or duplicate word indices; checked on use
  for (let wordIndex = 0; wordIndex < words.length; wordIndex++) {
    const word = words[wordIndex]!;
    const count = counts[wordIndex]!;
    for (let index = 0; index + 1 < word.length; index++) {
      const key = pairKey(word[index]!, word[index + 1]!);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      let list = pairWords.get(key);
      if (!list) pairWords.set(key, (list = []));
      if (list[list.length - 1] !== wordIndex) list.push(wordIndex);
    }
  }
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const addPair = (key: number, delta: number): void => {
    const count = (pairCounts.get(key) ?? 0) + delta;
    if (count <= 0) pairCounts.delete(key);
    else pairCounts.set(key, count);
  };

  const wanted = vocabSize - baseSize;
  while (merges.length < wanted) {
    const top = heap.pop();
    if (!top) break; // nothing left to merge: the vocabulary is smaller than asked
    const live = pairCounts.get(top.pair) ?? 0;
    if (live !== top.count) {
      if (live > 0) heap.push(live, top.pair);
      continue;
    }
    const leftId = Math.floor(top.pair / 2097152);
    const rightId = top.pair % 2097152;
    const mergedText = vocab[leftId]! + vocab[rightId]!;
    if (taken.has(mergedText)) {
      // Only possible when the result spells a special token; never learn it.
      pairCounts.delete(top.pair);
      continue;
    }
    const mergedId = vocab.length;
    vocab.push(mergedText);
    taken.add(mergedText);
    merges.push([vocab[leftId]!, vocab[rightId]!]);

    const touched = new Set<number>();
    for (const wordIndex of pairWords.get(top.pair) ?? []) {
      const word = words[wordIndex]!;
      const length = wordLengths[wordIndex]!;
      const count = counts[wordIndex]!;
      let contains = false;
      for (let index = 0; index + 1 < length; index++) {
        if (word[index] === leftId && word[index + 1] === rightId) {
          contains = true;
          break;
        }
      }
      if (!contains) continue;
      for (let index = 0; index + 1 < length; index++) addPair(pairKey(word[index]!, word[index + 1]!), -count);
      let write = 0;
      for (let read = 0; read < length; read++) {
        if (read + 1 < length && word[read] === leftId && word[read + 1] === rightId) {
          word[write++] = mergedId;
          read++;
        } else word[write++] = word[read]!;
      }
      wordLengths[wordIndex] = write;
      for (let index = 0; index + 1 < write; index++) {
        const key = pairKey(word[index]!, word[index + 1]!);
        addPair(key, count);
        if (word[index] === mergedId || word[index + 1] === mergedId) {
          touched.add(key);
          let list = pairWords.get(key);
          if (!list) pairWords.set(key, (list = []));
          if (list[list.length - 1] !== wordIndex) list.push(wordIndex);
        }
      }
    }
    pairWords.delete(top.pair);
    pairCounts.delete(top.pair);
    for (const key of touched) {
      const count = pairCounts.get(key);
      if (count) heap.push(count, key);
    }
    if (onProgress && merges.length % 256 === 0) onProgress(merges.length);
  }
  onProgress?.(merges.length);
  return createBpeTokenizer({ specialTokens: [...specialTokens], vocab, merges });
}
