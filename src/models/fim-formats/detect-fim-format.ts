/**
 * Decides a model's FIM format from its tokenizer: which special tokens the vocabulary holds and which ids GGUF
 * metadata names as FIM tokens. Never from the model's name: names lie (CodeQwen1.5 is called "Qwen" but has
 * StarCoder's sentinels; fine-tunes keep their base's tokenizer under any name).
 */
import { FimFormatError } from './fim-format-error.js';
import type { FimFormat } from './fim-format.js';
import { FIM_FORMATS, getFimFormat } from './fim-formats.js';

/** One vocabulary entry. `special`: the tokenizer treats it as a special/control token (undefined when unknown). */
export interface FimTokenInfo {
  id: number;
  text: string;
  special?: boolean;
}

export interface DetectFimFormatOptions {
  /**
   * The vocabulary: entries with ids, or token texts where the index is the id. Default: GGUF `tokenizer.ggml.tokens`
   * from `metadata` (with `tokenizer.ggml.token_type` 3/4 read as special).
   */
  tokens?: readonly (FimTokenInfo | string)[];
  /**
   * GGUF key/values. Read: `tokenizer.ggml.fim_{pre,suf,mid,pad,rep,sep}_token_id` (and the older
   * `tokenizer.ggml.{prefix,suffix,middle}_token_id`), `eos_token_id`, `eot_token_id`, `tokens`, `token_type`.
   * Name keys such as `general.name` are ignored on purpose.
   */
  metadata?: Readonly<Record<string, unknown>>;
  /** A family name (see `FIM_FAMILIES`) that wins over detection; its mismatches with the tokens become warnings. */
  override?: string;
}

export interface DetectFimFormatResult {
  format: FimFormat;
  /** Which tokens or metadata decided it, with ids. */
  reason: string;
  /** Things that may make infill go wrong: sentinels not marked special, metadata that disagrees, missing tokens. */
  warnings: string[];
}

type NamedRole = 'prefix' | 'suffix' | 'middle' | 'pad' | 'repoName' | 'fileSeparator';

/** GGUF keys naming FIM token ids (llama.cpp src/llama-arch.cpp LLM_KV_TOKENIZER_FIM_*; the second key is the older alias). */
const GGUF_FIM_KEYS: Record<NamedRole, readonly string[]> = {
  prefix: ['tokenizer.ggml.fim_pre_token_id', 'tokenizer.ggml.prefix_token_id'],
  suffix: ['tokenizer.ggml.fim_suf_token_id', 'tokenizer.ggml.suffix_token_id'],
  middle: ['tokenizer.ggml.fim_mid_token_id', 'tokenizer.ggml.middle_token_id'],
  pad: ['tokenizer.ggml.fim_pad_token_id'],
  repoName: ['tokenizer.ggml.fim_rep_token_id'],
  fileSeparator: ['tokenizer.ggml.fim_sep_token_id'],
};

/** GGUF token types (llama.cpp `llama_token_type`): 3 = control, 4 = user-defined (added tokens). */
const GGUF_SPECIAL_TOKEN_TYPES = new Set([3, 4]);

/** Special tokens that look like FIM or repository markers, for error messages. */
const FIM_LOOKING =
  /^(?:▁?<(?:PRE|SUF|MID|EOT)>|<[^<>\s]*(?:fim|repo_?name|file_?sep|file_separator|filename|code_(?:prefix|suffix|middle))[^<>\s]*>|<\|(?:prefix|suffix|middle)\|>|\[(?:PREFIX|SUFFIX|MIDDLE)\])$/;

class Vocabulary {
  private readonly byText = new Map<string, FimTokenInfo>();
  private readonly byId = new Map<number, FimTokenInfo>();

  constructor(readonly entries: readonly FimTokenInfo[]) {
    for (const entry of entries) {
      if (!this.byText.has(entry.text)) this.byText.set(entry.text, entry);
      this.byId.set(entry.id, entry);
    }
  }

  text(text: string): FimTokenInfo | undefined {
    return this.byText.get(text);
  }

  id(id: number): FimTokenInfo | undefined {
    return this.byId.get(id);
  }

  /** The first spelling of `alternatives` the vocabulary has. */
  find(alternatives: readonly string[]): FimTokenInfo | undefined {
    for (const text of alternatives) {
      const entry = this.byText.get(text);
      if (entry !== undefined) return entry;
    }
    return undefined;
  }
}

/** Decides the FIM format; throws `FimFormatError` when no family or more than one fits, listing what was found. */
export function detectFimFormat(options: DetectFimFormatOptions): DetectFimFormatResult {
  const metadata = options.metadata ?? {};
  const warnings: string[] = [];
  const vocabulary = readVocabulary(options.tokens, metadata, warnings);

  if (options.override !== undefined) return detectWithOverride(options.override, vocabulary, metadata, warnings);

  if (vocabulary === undefined) {
    throw new FimFormatError(
      'fim-format-unknown',
      'Cannot tell the FIM format: no tokenizer tokens were given (neither `tokens` nor GGUF tokenizer.ggml.tokens). ' +
        `Pass the vocabulary, or name the format (\`--fim-format FAMILY\`, \`fimFormat\`) with one of: ${FIM_FORMATS.map((format) => format.family).join(', ')}.`,
      { found: [], candidates: [] },
    );
  }

  const named = readNamedTokens(metadata, vocabulary, warnings);
  const textMatches = FIM_FORMATS.filter((format) => signatureTokens(format, vocabulary) !== undefined);
  let format: FimFormat;
  let reason: string;

  if (named.prefix !== undefined && named.suffix !== undefined) {
    const { prefix, suffix, middle } = named;
    const byMetadata = FIM_FORMATS.filter(
      (candidate) =>
        spellings(candidate, candidate.tokens.prefix).includes(prefix.text) &&
        spellings(candidate, candidate.tokens.suffix).includes(suffix.text) &&
        (middle === undefined ||
          candidate.tokens.middle === undefined ||
          spellings(candidate, candidate.tokens.middle).includes(middle.text)),
    );
    const namedList = [prefix, suffix, middle]
      .filter((entry) => entry !== undefined)
      .map(describe)
      .join(', ');
    if (byMetadata.length === 0) {
      throw unknownError(
        `GGUF metadata names the FIM tokens ${namedList}, which no known format uses.`,
        vocabulary,
        named,
      );
    }
    const complete = mostSpecific(byMetadata.filter((candidate) => textMatches.includes(candidate)));
    if (complete.length === 1 && complete[0] !== undefined) {
      format = complete[0];
    } else if (complete.length === 0 && byMetadata.length === 1 && byMetadata[0] !== undefined) {
      format = byMetadata[0];
      const missing = format.signature
        .filter((entry) => vocabulary.find(entry) === undefined)
        .map((entry) => `'${entry[0]}'`);
      warnings.push(
        `The vocabulary lacks ${missing.join(', ')} of ${format.displayName}'s tokens; generation may not stop where it should.`,
      );
    } else {
      throw ambiguousError(
        complete.length > 0 ? complete : byMetadata,
        vocabulary,
        `GGUF metadata names ${namedList}, and `,
      );
    }
    const rest = (signatureTokens(format, vocabulary) ?? []).filter(
      (entry) => ![prefix.id, suffix.id, middle?.id].includes(entry.id),
    );
    reason =
      `GGUF metadata names the FIM tokens ${namedList}` +
      (rest.length > 0
        ? `; with ${rest.map(describe).join(', ')} they are ${format.displayName}'s (${format.family})`
        : `: ${format.displayName} (${format.family})`);
    const others = textMatches.filter((candidate) => candidate.tokens.prefix !== format.tokens.prefix);
    if (others.length > 0) {
      warnings.push(
        `The vocabulary also holds the tokens of ${others.map((other) => other.family).join(', ')}; the GGUF ` +
          `metadata decided for ${format.family}.`,
      );
    }
  } else {
    if (named.prefix !== undefined || named.suffix !== undefined || named.middle !== undefined) {
      warnings.push('GGUF metadata names only some FIM tokens (needs fim_pre and fim_suf); deciding from token texts.');
    }
    const candidates = mostSpecific(textMatches);
    if (candidates.length === 0) {
      throw unknownError('No known FIM format has all its tokens in this vocabulary.', vocabulary, named);
    }
    if (candidates.length > 1) throw ambiguousError(candidates, vocabulary, '');
    format = candidates[0] as FimFormat;
    const matched = signatureTokens(format, vocabulary) ?? [];
    const shadowed = textMatches.filter((candidate) => candidate !== format);
    reason =
      `special tokens ${matched.map(describe).join(', ')} are ${format.displayName}'s (${format.family})` +
      (shadowed.length > 0 ? `; more specific than ${shadowed.map((candidate) => candidate.family).join(', ')}` : '');
  }

  warnings.push(...tokenWarnings(format, vocabulary, named, metadata));
  return { format, reason, warnings };
}

function detectWithOverride(
  override: string,
  vocabulary: Vocabulary | undefined,
  metadata: Readonly<Record<string, unknown>>,
  warnings: string[],
): DetectFimFormatResult {
  const format = getFimFormat(override);
  if (vocabulary !== undefined) {
    for (const entry of format.signature) {
      if (vocabulary.find(entry) === undefined) {
        warnings.push(
          `Override ${format.family}: the vocabulary has no token '${entry[0]}'; that text will be tokenized as ` +
            `plain text and the model will not see a FIM prompt.`,
        );
      }
    }
    try {
      const detected = detectFimFormat({ tokens: vocabulary.entries, metadata });
      if (detected.format !== format) {
        warnings.push(`Override ${format.family} differs from what the tokenizer says: ${detected.reason}.`);
      }
    } catch (error) {
      if (!(error instanceof FimFormatError)) throw error;
    }
  }
  return { format, reason: `override: ${format.family} (given explicitly)`, warnings };
}

function readVocabulary(
  tokens: readonly (FimTokenInfo | string)[] | undefined,
  metadata: Readonly<Record<string, unknown>>,
  warnings: string[],
): Vocabulary | undefined {
  const tokenTypes = metadata['tokenizer.ggml.token_type'];
  const types = Array.isArray(tokenTypes) ? (tokenTypes as unknown[]) : undefined;
  const specialFromType = (index: number): boolean | undefined => {
    const type = types?.[index];
    return typeof type === 'number' ? GGUF_SPECIAL_TOKEN_TYPES.has(type) : undefined;
  };
  const source =
    tokens ??
    (Array.isArray(metadata['tokenizer.ggml.tokens']) ? (metadata['tokenizer.ggml.tokens'] as unknown[]) : undefined);
  if (source === undefined) return undefined;
  const entries: FimTokenInfo[] = [];
  let skipped = 0;
  source.forEach((entry: unknown, index) => {
    if (typeof entry === 'string') {
      const special = specialFromType(index);
      entries.push(special === undefined ? { id: index, text: entry } : { id: index, text: entry, special });
    } else if (isTokenInfo(entry)) {
      entries.push(entry);
    } else {
      skipped += 1;
    }
  });
  if (skipped > 0)
    warnings.push(`${skipped} vocabulary entries were neither strings nor {id, text} objects and were ignored.`);
  return new Vocabulary(entries);
}

function isTokenInfo(value: unknown): value is FimTokenInfo {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record['id'] === 'number' && typeof record['text'] === 'string';
}

function readNamedTokens(
  metadata: Readonly<Record<string, unknown>>,
  vocabulary: Vocabulary,
  warnings: string[],
): Partial<Record<NamedRole, FimTokenInfo>> {
  const named: Partial<Record<NamedRole, FimTokenInfo>> = {};
  for (const [role, keys] of Object.entries(GGUF_FIM_KEYS) as [NamedRole, readonly string[]][]) {
    for (const key of keys) {
      if (!(key in metadata)) continue;
      const id = readTokenId(metadata[key]);
      const entry = id === undefined ? undefined : vocabulary.id(id);
      if (entry === undefined) {
        warnings.push(`GGUF ${key} = ${String(metadata[key])} is not a token id of this vocabulary; ignored.`);
      } else {
        named[role] = entry;
      }
      break;
    }
  }
  return named;
}

function readTokenId(value: unknown): number | undefined {
  if (typeof value === 'bigint')
    return value >= 0n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  return undefined;
}

/** The vocabulary entries that make up `format`'s signature, or undefined when one is missing. */
function signatureTokens(format: FimFormat, vocabulary: Vocabulary): FimTokenInfo[] | undefined {
  const found: FimTokenInfo[] = [];
  for (const entry of format.signature) {
    const token = vocabulary.find(entry);
    if (token === undefined) return undefined;
    found.push(token);
  }
  return found;
}

/** The accepted spellings of one of `format`'s tokens (CodeLlama: `▁<PRE>` or `<PRE>`). */
function spellings(format: FimFormat, token: string | undefined): readonly string[] {
  if (token === undefined) return [];
  return format.signature.find((entry) => entry.includes(token)) ?? [token];
}

/** Drops formats whose signature is a strict subset of another candidate's (StarCoder inside StarCoder2). */
function mostSpecific(candidates: readonly FimFormat[]): FimFormat[] {
  const key = (entry: readonly string[]): string => [...entry].sort().join('\u0000');
  const isStrictSubset = (small: FimFormat, large: FimFormat): boolean => {
    const largeKeys = new Set(large.signature.map(key));
    return (
      small.signature.length < large.signature.length && small.signature.every((entry) => largeKeys.has(key(entry)))
    );
  };
  return candidates.filter(
    (candidate) => !candidates.some((other) => other !== candidate && isStrictSubset(candidate, other)),
  );
}

function describe(entry: FimTokenInfo): string {
  return `'${entry.text}' (${entry.id})`;
}

function fimLookingTokens(vocabulary: Vocabulary, named: Partial<Record<NamedRole, FimTokenInfo>>): string[] {
  const found = new Map<number, FimTokenInfo>();
  for (const entry of Object.values(named)) if (entry !== undefined) found.set(entry.id, entry);
  for (const entry of vocabulary.entries) {
    if (entry.special !== false && FIM_LOOKING.test(entry.text)) found.set(entry.id, entry);
  }
  return [...found.values()].sort((a, b) => a.id - b.id).map(describe);
}

function listForMessage(items: readonly string[], limit = 20): string {
  if (items.length === 0) return 'none';
  const shown = items.slice(0, limit).join(', ');
  return items.length > limit ? `${shown} and ${items.length - limit} more` : shown;
}

const OVERRIDE_HINT = `If you know the model's format, name it (\`--fim-format FAMILY\` on the command line, \`fimFormat\` in the model options) with one of: ${FIM_FORMATS.map((format) => format.family).join(', ')}.`;

function unknownError(
  what: string,
  vocabulary: Vocabulary,
  named: Partial<Record<NamedRole, FimTokenInfo>>,
): FimFormatError {
  const found = fimLookingTokens(vocabulary, named);
  return new FimFormatError(
    'fim-format-unknown',
    `Cannot tell the FIM format: ${what} FIM-looking special tokens in the vocabulary (${vocabulary.entries.length} tokens): ` +
      `${listForMessage(found)}. ${OVERRIDE_HINT}`,
    { found, candidates: [] },
  );
}

function ambiguousError(candidates: readonly FimFormat[], vocabulary: Vocabulary, lead: string): FimFormatError {
  const lines = candidates.map((candidate) => {
    const tokens = candidate.signature.map((entry) => vocabulary.find(entry)).filter((entry) => entry !== undefined);
    return `${candidate.family} (${tokens.map(describe).join(', ')})`;
  });
  return new FimFormatError(
    'fim-format-ambiguous',
    `Cannot tell the FIM format: ${lead}the vocabulary holds the tokens of more than one format: ${lines.join('; ')}. ` +
      `Set GGUF tokenizer.ggml.fim_pre_token_id/fim_suf_token_id/fim_mid_token_id to the model's tokens, or name the format (\`--fim-format FAMILY\`, \`fimFormat\`) with one of: ` +
      `${candidates.map((candidate) => candidate.family).join(', ')}.`,
    { found: fimLookingTokens(vocabulary, {}), candidates: candidates.map((candidate) => candidate.family) },
  );
}

/** Warnings about the chosen format's tokens: not marked special, metadata that disagrees, an EOS the stop list lacks. */
function tokenWarnings(
  format: FimFormat,
  vocabulary: Vocabulary,
  named: Partial<Record<NamedRole, FimTokenInfo>>,
  metadata: Readonly<Record<string, unknown>>,
): string[] {
  const warnings: string[] = [];
  for (const entry of format.signature) {
    const token = vocabulary.find(entry);
    if (token?.special === false) {
      warnings.push(
        `${describe(token)} is not marked as a special token; a tokenizer that parses specials only among special ` +
          `tokens will split it (llama.cpp overrides this with a warning).`,
      );
    }
  }
  for (const role of ['pad', 'repoName', 'fileSeparator'] as const) {
    const namedToken = named[role];
    const expected = format.tokens[role];
    if (
      namedToken !== undefined &&
      (expected === undefined || !spellings(format, expected).includes(namedToken.text))
    ) {
      warnings.push(
        `GGUF ${GGUF_FIM_KEYS[role][0]} names ${describe(namedToken)}, but ${format.family} uses ${expected === undefined ? 'no such token' : `'${expected}'`}.`,
      );
    }
  }
  for (const key of ['tokenizer.ggml.eos_token_id', 'tokenizer.ggml.eot_token_id']) {
    const id = readTokenId(metadata[key]);
    const token = id === undefined ? undefined : vocabulary.id(id);
    if (token !== undefined && !format.stop.includes(token.text) && token.text !== format.tokens.endOfText) {
      warnings.push(
        `GGUF ${key} is ${describe(token)}, which is not among ${format.family}'s stop strings; add it as a stop ` +
          `string if generation runs on.`,
      );
    }
  }
  return warnings;
}
