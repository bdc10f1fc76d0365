/**
 * The shape of a FIM format and the one renderer every family shares. A family is data (its tokens, orders, stop
 * strings, quirks, sources); `defineFimFormat` turns that data into a `FimFormat` whose `render` lays the prompt out
 * the way the family's reference implementation does. Each family's file cites where its layout comes from.
 */
import { UsageError } from '../../core/index.js';

/** Every family this registry knows. Pass one as `override` to `detectFimFormat`. */
export type FimFamily =
  | 'starcoder'
  | 'starcoder2'
  | 'santacoder'
  | 'qwen2.5-coder'
  | 'deepseek-coder'
  | 'codellama'
  | 'codestral'
  | 'codegemma'
  | 'granite'
  | 'seed-coder'
  | 'codeloop-embedded';

/**
 * Where prefix (P) and suffix (S) go. `psm`: `PRE P SUF S MID` (FIM paper, the common default).
 * `spm`: `SUF S PRE P MID` (suffix sentinel first: Seed-Coder, Codestral without MID, llama.cpp `--spm-infill`).
 * `spm-v2`: `PRE SUF S MID P` (the FIM paper's SPM as bigcode's Megatron-LM trains it and Meta's CodeLlama
 * `suffix_first` formats it; MultiPL-E calls it SPMv2).
 */
export type FimOrder = 'psm' | 'spm' | 'spm-v2';

/**
 * Token texts exactly as the vocabulary spells them (tokenizer.json `added_tokens[].content`, GGUF
 * `tokenizer.ggml.tokens`). CodeLlama's pieces carry SentencePiece's `▁`; how that renders is in the family's notes.
 */
export interface FimTokens {
  prefix: string;
  suffix: string;
  /** Absent when the reference layout has no middle sentinel (Codestral ends the prompt after the prefix). */
  middle?: string;
  /** What the model emits when the middle is complete. */
  endOfText: string;
  /** Padding used in training; llama.cpp ends generation on it too. */
  pad?: string;
  /** Opens the repository name in repo-level context (`<repo_name>`, `<|repo_name|>`, `<reponame>`). */
  repoName?: string;
  /** Opens each file in repo-level context (`<file_sep>`, `<|file_sep|>`, `<|file_separator|>`). */
  fileSeparator?: string;
  /** Opens a file name in single-file metadata (StarCoder, Granite `<filename>`). */
  fileName?: string;
}

export interface FimBos {
  /** The BOS token's text. */
  token: string;
  /**
   * Whether the family's reference tokenizer prepends it (HF `add_bos_token`, GGUF `tokenizer.ggml.add_bos_token`).
   * Undefined when not verified. `render` never puts BOS in the prompt: servers and `llama_tokenize` add it themselves.
   */
  addedByTokenizer?: boolean;
}

/** A file of repository context, in the order it should appear (stable context first, most relevant last). */
export interface FimContextFile {
  /** Repository-relative path; `''` renders the file without a path line. */
  path: string;
  content: string;
}

export interface FimRenderInput {
  /** Text before the cursor. */
  prefix: string;
  /** Text after the cursor. */
  suffix: string;
  /** Other files for repo-level context; rendered only by families with a repository layout (see `repoContext`). */
  files?: readonly FimContextFile[];
  /** Repository name for the repo-level header; omitted when undefined. */
  repoName?: string;
  /** Path of the file being completed; used in the repo-level layout. */
  filePath?: string;
  /** One of the format's `orders`. Default: the format's `order`. */
  order?: FimOrder;
}

/**
 * One piece of the prompt. `special` pieces must become the single token `token` (look its id up in the vocabulary);
 * `text` pieces must be tokenized as plain text: special-token parsing off and no SentencePiece dummy-prefix space
 * (the space a family's reference adds is already in `text`). Concatenating every `text` gives `prompt`.
 */
export type FimPromptSegment = { type: 'special'; token: string; text: string } | { type: 'text'; text: string };

export interface FimRenderResult {
  /** The prompt as one string, for servers that take text (special tokens spelled out). BOS not included. */
  prompt: string;
  /** Strings that end generation, as they appear in decoded text. */
  stop: string[];
  /** The same prompt, split for token-level use (llama backend). */
  segments: FimPromptSegment[];
  /** Input the format could not honour (context files without a repository layout, sentinel text in user code, …). */
  warnings: string[];
}

/** How a family lays out repository context: `qwen` (Qwen2.5-Coder README), `starcoder2` (arXiv 2402.19173 §5.1). */
export type FimRepoLayout = 'qwen' | 'starcoder2';

export interface FimFormat {
  readonly family: FimFamily;
  /** Human name, e.g. `Qwen2.5-Coder`. */
  readonly displayName: string;
  /** Which models use this format. */
  readonly covers: string;
  readonly tokens: Readonly<FimTokens>;
  /** The order `render` uses by default. */
  readonly order: FimOrder;
  /** Orders the family was trained with. */
  readonly orders: readonly FimOrder[];
  /** Strings that end generation, in decoded form. */
  readonly stop: readonly string[];
  readonly bos: Readonly<FimBos> | undefined;
  /** The repository layout `render` uses for `files`/`repoName`; undefined when the family has none documented. */
  readonly repoContext: FimRepoLayout | undefined;
  /**
   * Token texts that together identify the family in a vocabulary; each entry lists accepted spellings.
   * `detectFimFormat` matches on these, never on a model name.
   */
  readonly signature: readonly (readonly string[])[];
  /** Primary sources for the tokens and layout. */
  readonly sources: readonly string[];
  /** Quirks a caller must know (spacing, unverified details). */
  readonly notes: readonly string[];
  /** Lays out a FIM prompt the way the family's reference implementation does. */
  render(input: FimRenderInput): FimRenderResult;
}

/** SentencePiece families whose reference decodes to spaces a plain template would not have. */
export interface SentencePieceQuirks {
  /**
   * Sentinel pieces are `▁<PRE>`, `▁<SUF>`, …: each decodes to a space plus the tag, except at the very start of the
   * text (CodeLlama: `<PRE> {pre} <SUF>{suf} <MID>`).
   */
  spacedSentinels: boolean;
  /** The reference encodes the prefix with SentencePiece's dummy-prefix space (`encode(pre)`), so it renders as `' ' + prefix`. */
  prefixDummySpace: boolean;
}

export interface FimFormatSpec extends Omit<FimFormat, 'render' | 'signature' | 'notes' | 'repoContext' | 'bos'> {
  signature: readonly (string | readonly string[])[];
  notes?: readonly string[];
  repoContext?: FimRepoLayout;
  bos?: FimBos;
  sentencePiece?: SentencePieceQuirks;
}

/** Builds a `FimFormat` from a family's data. */
export function defineFimFormat(spec: FimFormatSpec): FimFormat {
  const { sentencePiece, ...rest } = spec;
  if (!spec.orders.includes(spec.order))
    throw new Error(`${spec.family}: default order ${spec.order} is not in its orders`);
  const format: FimFormat = {
    ...rest,
    bos: spec.bos,
    repoContext: spec.repoContext,
    notes: spec.notes ?? [],
    signature: spec.signature.map((entry) => (typeof entry === 'string' ? [entry] : entry)),
    render: (input) => renderFimPrompt(format, sentencePiece, input),
  };
  return Object.freeze(format);
}

class PromptBuilder {
  readonly segments: FimPromptSegment[] = [];

  constructor(private readonly quirks: SentencePieceQuirks | undefined) {}

  special(token: string): void {
    let text = token;
    if (this.quirks?.spacedSentinels) {
      const bare = token.replace(/^▁/, '');
      text = this.segments.length === 0 ? bare : ` ${bare}`;
    }
    this.segments.push({ type: 'special', token, text });
  }

  text(text: string): void {
    if (text !== '') this.segments.push({ type: 'text', text });
  }
}

function renderFimPrompt(
  format: FimFormat,
  quirks: SentencePieceQuirks | undefined,
  input: FimRenderInput,
): FimRenderResult {
  const { prefix, suffix, files = [], repoName, filePath } = input;
  if (typeof prefix !== 'string' || typeof suffix !== 'string') {
    throw new UsageError(
      `${format.family}.render needs string prefix and suffix (got ${typeof prefix} and ${typeof suffix}).`,
    );
  }
  const order = input.order ?? format.order;
  if (!format.orders.includes(order)) {
    throw new UsageError(
      `${format.displayName} (${format.family}) was not trained with FIM order '${order}'; use one of: ${format.orders.join(', ')}.`,
    );
  }
  const warnings: string[] = [];
  const builder = new PromptBuilder(quirks);
  const { tokens } = format;

  // Repository context comes first, then the FIM part for the current file.
  const repoMode = files.length > 0 || repoName !== undefined;
  let pathHeader = '';
  if (repoMode && format.repoContext === undefined) {
    const what = [
      files.length > 0 ? `${files.length} context file(s)` : '',
      repoName !== undefined ? 'the repository name' : '',
    ]
      .filter(Boolean)
      .join(' and ');
    warnings.push(
      `${format.displayName} has no documented repository-context layout, so ${what} were left out of the prompt; ` +
        'put other files into the prefix yourself (e.g. as comments), or use a family with repo-level tokens.',
    );
  } else if (repoMode && format.repoContext === 'qwen') {
    // `<|repo_name|>{repo}\n<|file_sep|>{path}\n{content}\n…<|file_sep|>{current path}\n<|fim_prefix|>…`
    const repoToken = requireToken(format, 'repoName');
    const fileToken = requireToken(format, 'fileSeparator');
    if (repoName !== undefined) {
      builder.special(repoToken);
      builder.text(`${repoName}\n`);
    }
    for (const file of files) {
      builder.special(fileToken);
      builder.text(`${file.path}\n${file.content}\n`);
    }
    if (filePath === undefined) {
      warnings.push(
        `${format.displayName}'s repository layout names the current file after ${fileToken}; no filePath was given, ` +
          `so its path line is empty.`,
      );
    }
    builder.special(fileToken);
    builder.text(`${filePath ?? ''}\n`);
  } else if (repoMode && format.repoContext === 'starcoder2') {
    // `<repo_name>{repo}<file_sep>{path}\n{content}…<file_sep><fim_prefix>{current path}\n{prefix}<fim_suffix>…`
    const repoToken = requireToken(format, 'repoName');
    const fileToken = requireToken(format, 'fileSeparator');
    if (repoName !== undefined) {
      builder.special(repoToken);
      builder.text(repoName);
    }
    for (const file of files) {
      builder.special(fileToken);
      builder.text(file.path === '' ? file.content : `${file.path}\n${file.content}`);
    }
    builder.special(fileToken);
    // The path is part of the file's text, so it travels with the prefix in every order.
    pathHeader = filePath === undefined || filePath === '' ? '' : `${filePath}\n`;
  }

  const prefixText = quirks?.prefixDummySpace && prefix !== '' ? ` ${prefix}` : prefix;
  const fullPrefix = pathHeader + prefixText;
  const middle = (): void => {
    if (tokens.middle !== undefined) builder.special(tokens.middle);
  };
  if (order === 'psm') {
    builder.special(tokens.prefix);
    builder.text(fullPrefix);
    builder.special(tokens.suffix);
    builder.text(suffix);
    middle();
  } else if (order === 'spm') {
    builder.special(tokens.suffix);
    builder.text(suffix);
    builder.special(tokens.prefix);
    builder.text(fullPrefix);
    middle();
  } else {
    builder.special(tokens.prefix);
    builder.special(tokens.suffix);
    builder.text(suffix);
    middle();
    builder.text(fullPrefix);
  }

  warnings.push(...sentinelTextWarnings(format, input));
  const segments = builder.segments;
  return { prompt: segments.map((segment) => segment.text).join(''), stop: [...format.stop], segments, warnings };
}

function requireToken(format: FimFormat, role: 'repoName' | 'fileSeparator'): string {
  const token = format.tokens[role];
  if (token === undefined) throw new Error(`${format.family}: repository layout needs tokens.${role}`);
  return token;
}

/** Special-token texts of the family, in the spellings that could appear in decoded or typed text. */
function specialTexts(format: FimFormat): string[] {
  const texts = new Set<string>();
  for (const token of Object.values(format.tokens)) {
    if (token === undefined) continue;
    texts.add(token);
    texts.add(token.replace(/^▁/, ''));
  }
  for (const stop of format.stop) texts.add(stop);
  return [...texts];
}

/**
 * A prefix that contains `<|endoftext|>` is harmless when text is tokenized with special parsing off (segments), but a
 * server that parses special tokens in a text prompt will read it as the token and the model sees a broken prompt.
 */
function sentinelTextWarnings(format: FimFormat, input: FimRenderInput): string[] {
  const parts: [string, string][] = [
    ['prefix', input.prefix],
    ['suffix', input.suffix],
  ];
  if (input.repoName !== undefined) parts.push(['repoName', input.repoName]);
  if (input.filePath !== undefined) parts.push(['filePath', input.filePath]);
  for (const [index, file] of (input.files ?? []).entries()) parts.push([`files[${index}]`, file.path + file.content]);
  const warnings: string[] = [];
  const texts = specialTexts(format);
  for (const [name, value] of parts) {
    const hits = texts.filter((text) => value.includes(text));
    if (hits.length > 0) {
      warnings.push(
        `${name} contains the special-token text ${hits.map((hit) => `'${hit}'`).join(', ')}; a server that parses special ` +
          'tokens in the prompt will read it as a token. Send the segments (text tokenized with special parsing off) instead.',
      );
    }
  }
  return warnings;
}
