/**
 * The prompt for one completion: the text before and after the cursor cut to their token shares (whole lines, nearest
 * kept), repository context in what is left, then laid out for the model: in the family's FIM format with its
 * repo/file tokens where it has them, else with the context as comments at the top of the prefix.
 */
import type { ContextCollector, RecentEdit, SourceFile, TokenCounter } from '../context/index.js';
import type { FimContextFile, FimFormat } from '../models/index.js';
import type { CompletionSite } from './completion-mode.js';

/** The fields of a `CompletionRequest` the prompt reads (declared here so the prompt does not import the engine). */
export interface PromptRequest {
  text: string;
  path?: string;
  files?: readonly SourceFile[];
  extraContext?: readonly SourceFile[];
  recentEdits?: readonly RecentEdit[];
}

export interface PromptBudget {
  countTokens: TokenCounter;
  /** Prompt tokens in all (prefix + suffix + context). */
  promptTokens: number;
  /** Shares of `promptTokens` for the prefix and the suffix; context gets the rest and what they leave unused. */
  prefixShare: number;
  suffixShare: number;
}

export interface CompletionPrompt {
  prefix: string;
  suffix: string;
  /** Context in prompt order: the client's chunks, then collected definitions and windows. */
  files: FimContextFile[];
  warnings: string[];
}

/** What to ask the model: a rendered FIM prompt for `complete`, or prefix and suffix for the backend's own `infill`. */
export type ModelCall =
  | { kind: 'complete'; prompt: string; stop: string[]; warnings: string[] }
  | { kind: 'infill'; prefix: string; suffix: string; warnings: string[] };

/**
 * Characters looked at per budget token before splitting a long document into lines: no code tokenizer averages
 * fewer than one token per 16 characters, so the lines that fit lie inside this window and a 100k-line file costs the
 * same as a short one.
 */
const CHARS_PER_TOKEN_BOUND = 16;

/** Keeps the last lines of `text` that fit `budget` tokens (the cursor line always). */
function keepTail(text: string, budget: number, count: TokenCounter): string {
  const window = budget * CHARS_PER_TOKEN_BOUND;
  const parts = (text.length > window ? text.slice(text.length - window) : text).split('\n');
  // The first line of a cut window may be partial: it is never kept unless it is the only one.
  if (text.length > window && parts.length > 1) parts.shift();
  let used = 0;
  let index = parts.length - 1;
  for (; index >= 0; index -= 1) {
    used += count(`${parts[index]}\n`);
    if (used > budget && index < parts.length - 1) break;
  }
  return parts.slice(index + 1).join('\n');
}

/** Keeps the first lines of `text` that fit `budget` tokens. */
function keepHead(text: string, budget: number, count: TokenCounter): string {
  const window = budget * CHARS_PER_TOKEN_BOUND;
  const parts = (text.length > window ? text.slice(0, window) : text).split('\n');
  if (text.length > window && parts.length > 1) parts.pop();
  let used = 0;
  let index = 0;
  for (; index < parts.length; index += 1) {
    used += count(`${parts[index]}\n`);
    if (used > budget && index > 0) break;
  }
  return parts.slice(0, index).join('\n');
}

function commentPrefixFor(language: string | undefined): string | undefined {
  if (language === 'python') return '#';
  if (language === 'javascript' || language === 'typescript' || language === 'tsx') return '//';
  return undefined;
}

export async function gatherPrompt(
  request: PromptRequest,
  site: CompletionSite,
  language: string | undefined,
  budget: PromptBudget,
  collector: ContextCollector,
): Promise<CompletionPrompt> {
  const { countTokens, promptTokens, prefixShare, suffixShare } = budget;
  const prefix = keepTail(site.prefix, Math.floor(promptTokens * prefixShare), countTokens);
  const suffix = keepHead(site.suffix, Math.floor(promptTokens * suffixShare), countTokens);
  const left = Math.max(0, promptTokens - countTokens(prefix) - countTokens(suffix));
  const files: FimContextFile[] = [];
  let used = 0;
  for (const extra of request.extraContext ?? []) {
    const cost = countTokens(`${extra.path}\n${extra.text}\n`);
    if (used + cost > left) break;
    files.push({ path: extra.path, content: extra.text });
    used += cost;
  }
  if (((request.files?.length ?? 0) > 0 || (request.recentEdits?.length ?? 0) > 0) && left - used > 0) {
    const context = await collector.collect(
      {
        current: { path: request.path ?? '', text: request.text },
        ...(language === undefined ? {} : { language }),
        visibleText: prefix + suffix,
        cursorWindow: prefix.split('\n').slice(-20).join('\n'),
        importText: request.text,
        files: request.files ?? [],
        ...(request.recentEdits === undefined ? {} : { recentEdits: request.recentEdits }),
      },
      left - used,
    );
    for (const snippet of context.snippets) files.push({ path: snippet.path, content: snippet.text });
  }
  return { prefix, suffix, files, warnings: [] };
}

/** Put into a special-token text after its first `<` or `[` (past CodeLlama's `▁`), so no tokenizer reads it as the token. */
const ZERO_WIDTH_SPACE = '\u200b';

/**
 * `text` with every occurrence of the `specials` (sentinels, end of text, BOS) broken by a zero-width space. A rendered
 * prompt is one string, and the llama backend tokenizes it with special tokens parsed (as do servers that take a
 * rendered prompt): a `<|fim_middle|>` or `<|endoftext|>` written in the user's code would otherwise become the control
 * token and end or derail the completion. llama.cpp's own /infill tokenizes user text with specials off instead.
 */
export function neutralizeSpecialTokens(text: string, specials: readonly string[]): string {
  const tokens = specials.filter((token) => token.length > 1).sort((a, b) => b.length - a.length);
  if (tokens.length === 0 || !tokens.some((token) => text.includes(token))) return text;
  const pattern = new RegExp(tokens.map((token) => token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return text.replace(pattern, (token) => {
    const at = Math.max(1, token.search(/[<[]/) + 1);
    return token.slice(0, at) + ZERO_WIDTH_SPACE + token.slice(at);
  });
}

/** The format's sentinel and stop texts, once each: what ends or derails a middle when the model writes it. */
export function formatControlTexts(format: FimFormat): string[] {
  return [
    ...new Set([
      ...Object.values(format.tokens).filter((token): token is string => token !== undefined),
      ...format.stop,
    ]),
  ];
}

/** The texts of `format` that its model's tokenizer reads as control tokens: the control texts and the BOS. */
function specialTextsOf(format: FimFormat): string[] {
  return [
    ...new Set(
      [...formatControlTexts(format), format.bos?.token].filter(
        (token): token is string => token !== undefined && token !== '',
      ),
    ),
  ];
}

export function layoutPrompt(
  prompt: CompletionPrompt,
  options: { format?: FimFormat; language: string | undefined; path: string | undefined; repoName: string | undefined },
): ModelCall {
  const { format, language, path, repoName } = options;
  const warnings: string[] = [];
  if (format === undefined)
    return {
      kind: 'infill',
      prefix: withCommentContext(prompt.prefix, prompt.files, language, warnings),
      suffix: prompt.suffix,
      warnings,
    };
  const specials = specialTextsOf(format);
  const clean = (text: string): string => neutralizeSpecialTokens(text, specials);
  prompt = {
    ...prompt,
    prefix: clean(prompt.prefix),
    suffix: clean(prompt.suffix),
    files: prompt.files.map((file) => ({ ...file, path: clean(file.path), content: clean(file.content) })),
  };
  const repoLayout = format.repoContext !== undefined;
  const rendered = format.render({
    prefix: repoLayout ? prompt.prefix : withCommentContext(prompt.prefix, prompt.files, language, warnings),
    suffix: prompt.suffix,
    ...(repoLayout && prompt.files.length > 0 ? { files: prompt.files, filePath: clean(path ?? '') } : {}),
    ...(repoLayout && repoName !== undefined ? { repoName: clean(repoName), filePath: clean(path ?? '') } : {}),
  });
  return {
    kind: 'complete',
    prompt: rendered.prompt,
    stop: rendered.stop,
    warnings: [...warnings, ...rendered.warnings],
  };
}

/** Context as line comments at the top of the prefix (Tabby's and Copilot's layout for models without repo tokens). */
function withCommentContext(
  prefix: string,
  files: readonly FimContextFile[],
  language: string | undefined,
  warnings: string[],
): string {
  if (files.length === 0) return prefix;
  const comment = commentPrefixFor(language);
  if (comment === undefined) {
    warnings.push(
      `${files.length} context snippet(s) left out: no comment syntax known for language ` +
        `${JSON.stringify(language ?? '')} to put them in the prefix.`,
    );
    return prefix;
  }
  const header = files
    .map((file) =>
      [`${comment} Path: ${file.path}`, ...file.content.split('\n').map((line) => `${comment} ${line}`)].join('\n'),
    )
    .join('\n');
  return `${header}\n${prefix}`;
}
