/**
 * The baseline the embedded model is compared with: a count-based n-gram model over the same tokens, with
 * interpolated absolute discounting (Ney, Essen & Kneser 1994): P(w|h) = max(c(h,w) − D, 0)/c(h) +
 * D·N1+(h·)/c(h) · P(w|h'), down to a unigram interpolated with uniform. D per order from count-of-counts,
 * D = n1 / (n1 + 2·n2). Counts live in open-addressing tables keyed by a 53-bit hash of the n-gram (exact for
 * n ≤ 4 at a 4k vocabulary; for n = 5 a collision is possible but rare: ~10⁻² expected over 10⁷ entries).
 */

/** Open-addressing hash table: float64 keys (integers < 2⁵³), uint32 values. */
class CountTable {
  private keys: Float64Array;
  private values: Uint32Array;
  private used: Uint8Array;
  size = 0;

  constructor(capacity = 1 << 16) {
    this.keys = new Float64Array(capacity);
    this.values = new Uint32Array(capacity);
    this.used = new Uint8Array(capacity);
  }

  private slot(key: number): number {
    const mask = this.keys.length - 1;
    let i = (Math.imul((key % 4294967296) ^ Math.floor(key / 4294967296), 0x9e3779b1) >>> 0) & mask;
    while (this.used[i] && this.keys[i] !== key) i = (i + 1) & mask;
    return i;
  }

  /** Adds `amount`; returns true when the key is new. */
  add(key: number, amount = 1): boolean {
    if (this.size * 2 >= this.keys.length) this.grow();
    const i = this.slot(key);
    const fresh = !this.used[i];
    if (fresh) {
      this.used[i] = 1;
      this.keys[i] = key;
      this.size++;
    }
    this.values[i]! += amount;
    return fresh;
  }

  get(key: number): number {
    const i = this.slot(key);
    return this.used[i] ? this.values[i]! : 0;
  }

  forEachValue(callback: (value: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.used[i]) callback(this.values[i]!);
  }

  private grow(): void {
    const { keys, values, used } = this;
    this.keys = new Float64Array(keys.length * 2);
    this.values = new Uint32Array(keys.length * 2);
    this.used = new Uint8Array(keys.length * 2);
    this.size = 0;
    for (let i = 0; i < keys.length; i++) if (used[i]) this.add(keys[i]!, values[i]!);
  }
}

const MOD = 2 ** 53;

function mix32(a: number, b: number, seed: number): number {
  let h = Math.imul(a ^ seed, 0x85ebca6b) ^ Math.imul(b + seed, 0xc2b2ae35);
  h ^= h >>> 13;
  h = Math.imul(h, 0x27d4eb2f);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * Key of tokens[start..end), order-tagged so different orders never share a key: exact while it stays below 2⁵³
 * (n ≤ 4 at a 4k vocabulary), then a 53-bit hash of the exact prefix key and the remaining tokens.
 */
function ngramKey(tokens: ArrayLike<number>, start: number, end: number, vocabSize: number): number {
  let key = end - start;
  let i = start;
  for (; i < end; i++) {
    const next = key * (vocabSize + 1) + tokens[i]! + 1;
    if (next >= MOD) break;
    key = next;
  }
  if (i === end) return key;
  let hi = Math.floor(key / 67108864) | 0; // key = hi·2²⁶ + lo, both exact
  let lo = key % 67108864;
  for (; i < end; i++) {
    const t = tokens[i]!;
    const h1 = mix32(hi, lo ^ Math.imul(t + 1, 0x9e3779b1), 0x1b873593);
    const h2 = mix32(lo, hi ^ Math.imul(t + 1, 0x7feb352d), 0x68e31da4);
    hi = h1;
    lo = h2;
  }
  return MOD - 1 - ((hi >>> 0) * 2097152 + (lo >>> 11)) / 2; // < 2⁵³, and far above every exact key
}

export interface NgramModelOptions {
  order: number;
  vocabSize: number;
}

export class NgramModel {
  readonly order: number;
  readonly vocabSize: number;
  /** counts[n]: count of each n-gram (n = 1..order). */
  private counts: CountTable[];
  /** totals[n]: Σ_w c(h, w) for each (n−1)-token context h; types[n]: distinct continuations of h. */
  private totals: CountTable[];
  private types: CountTable[];
  private discounts: number[] = [];
  private tokenCount = 0;

  constructor({ order, vocabSize }: NgramModelOptions) {
    this.order = order;
    this.vocabSize = vocabSize;
    this.counts = Array.from({ length: order + 1 }, () => new CountTable());
    this.totals = Array.from({ length: order + 1 }, () => new CountTable());
    this.types = Array.from({ length: order + 1 }, () => new CountTable());
  }

  /** Counts every n-gram of `tokens` (a stream; documents separated by <|endoftext|> are simply part of it). */
  train(tokens: ArrayLike<number>): void {
    const V = this.vocabSize;
    for (let i = 0; i < tokens.length; i++) {
      for (let n = 1; n <= this.order && n <= i + 1; n++) {
        const start = i + 1 - n;
        const fresh = this.counts[n]!.add(ngramKey(tokens, start, i + 1, V));
        const context = ngramKey(tokens, start, i, V);
        this.totals[n]!.add(context);
        if (fresh) this.types[n]!.add(context);
      }
    }
    this.tokenCount += tokens.length;
    this.discounts = this.counts.map((table, n) => {
      if (n === 0) return 0;
      let n1 = 0;
      let n2 = 0;
      table.forEachValue((value) => {
        if (value === 1) n1++;
        else if (value === 2) n2++;
      });
      return n1 + 2 * n2 > 0 ? Math.min(0.95, Math.max(0.05, n1 / (n1 + 2 * n2))) : 0.5;
    });
  }

  /** P(tokens[i] | up to order−1 previous tokens within [contextStart, i)). */
  probability(tokens: ArrayLike<number>, i: number, contextStart = 0): number {
    const V = this.vocabSize;
    let p = 1 / V;
    for (let n = 1; n <= this.order; n++) {
      const start = i + 1 - n;
      if (start < contextStart) break;
      const context = ngramKey(tokens, start, i, V);
      const total = this.totals[n]!.get(context);
      if (total === 0) break; // unseen context: longer ones are unseen too
      const count = this.counts[n]!.get(ngramKey(tokens, start, i + 1, V));
      const D = this.discounts[n]!;
      const backoff = (D * Math.max(1, this.types[n]!.get(context))) / total;
      p = Math.max(count - D, 0) / total + backoff * p;
    }
    return p;
  }

  /** Greedy next token after `tokens` (argmax of `probability` over the vocabulary), never a token in `exclude`. */
  greedyNext(tokens: number[], exclude: ReadonlySet<number>): number {
    let best = -1;
    let bestP = -1;
    const extended = [...tokens.slice(-(this.order - 1)), 0];
    const at = extended.length - 1;
    for (let w = 0; w < this.vocabSize; w++) {
      if (exclude.has(w)) continue;
      extended[at] = w;
      const p = this.probability(extended, at);
      if (p > bestP) {
        bestP = p;
        best = w;
      }
    }
    return best;
  }

  get trainedTokens(): number {
    return this.tokenCount;
  }
}
