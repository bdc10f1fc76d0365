/**
 * Completion cache, keyed by the text before and after the cursor. Besides exact hits it serves *typed-ahead* hits:
 * when the user has typed the first characters of a cached completion, the rest is served without asking the model
 * (Tabby's "forwarding" entries, Copilot's typing-as-suggested). Entries are compared on the full prefix and suffix;
 * the map key is only their nearby text, so a lookup costs a few short-string hashes however long the file is.
 */

export interface CachedCompletion {
  text: string;
  replaceLength: number;
}

export interface CacheHit<T extends CachedCompletion> {
  entry: T;
  /** Characters the user typed since the entry was stored (0 for an exact hit). */
  typed: number;
}

interface Slot<T> {
  prefix: string;
  suffix: string;
  variant: string;
  value: T;
}

const KEY_CHARS = 256;
const keyOf = (prefix: string, suffix: string, variant: string): string =>
  `${variant}\u0000${prefix.slice(-KEY_CHARS)}\u0000${suffix.slice(0, KEY_CHARS)}`;

export class CompletionCache<T extends CachedCompletion> {
  readonly #slots = new Map<string, Slot<T>[]>();
  #size = 0;

  /**
   * @param capacity entries kept, least recently used dropped first. Default 250 (llama.vscode's LRU size).
   * @param maxTypedAhead longest typed-ahead text looked back over (characters). Default 64.
   */
  constructor(
    readonly capacity = 250,
    readonly maxTypedAhead = 64,
  ) {}

  get size(): number {
    return this.#size;
  }

  /**
   * @param variant the request settings the value depends on besides the text (mode, maxTokens, n_indent): a value
   * is only served to a lookup with the same variant. Default `''`.
   */
  set(prefix: string, suffix: string, value: T, variant = ''): void {
    const key = keyOf(prefix, suffix, variant);
    const slots = (this.#slots.get(key) ?? []).filter(
      (slot) => slot.prefix !== prefix || slot.suffix !== suffix || slot.variant !== variant,
    );
    this.#size -= (this.#slots.get(key)?.length ?? 0) - slots.length;
    slots.push({ prefix, suffix, variant, value });
    this.#size += 1;
    this.#slots.delete(key);
    this.#slots.set(key, slots);
    while (this.#size > this.capacity) {
      const oldest = this.#slots.keys().next().value as string;
      const list = this.#slots.get(oldest) ?? [];
      list.shift();
      this.#size -= 1;
      if (list.length === 0) this.#slots.delete(oldest);
    }
  }

  /** An exact or typed-ahead hit for the cursor at the end of `prefix`, or undefined. */
  get(prefix: string, suffix: string, variant = ''): CacheHit<T> | undefined {
    const limit = Math.min(this.maxTypedAhead, prefix.length);
    for (let typed = 0; typed <= limit; typed += 1) {
      const earlier = prefix.slice(0, prefix.length - typed);
      const key = keyOf(earlier, suffix, variant);
      const slots = this.#slots.get(key);
      const slot = slots?.find(
        (candidate) => candidate.prefix === earlier && candidate.suffix === suffix && candidate.variant === variant,
      );
      if (slot === undefined) continue;
      const typedText = prefix.slice(earlier.length);
      // The whole suggestion typed (or more) is a miss: the user is past it.
      if (!slot.value.text.startsWith(typedText) || typedText.length >= slot.value.text.length) continue;
      this.#slots.delete(key);
      this.#slots.set(key, slots ?? []);
      return { entry: slot.value, typed };
    }
    return undefined;
  }

  clear(): void {
    this.#slots.clear();
    this.#size = 0;
  }
}
