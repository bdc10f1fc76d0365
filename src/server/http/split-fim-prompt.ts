/**
 * Reads a FIM prompt a client rendered itself back into prefix, suffix and context. Continue's `openai` provider
 * (`supportsFim()` false by default) and its `llama.cpp` provider send autocomplete as one `prompt` with the model's
 * FIM template applied (`<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>`, `[SUFFIX]S[PREFIX]P`, `<PRE> P <SUF>S <MID>`,
 * other files before the prefix sentinel, separated by `<|file_sep|>` / `<file_sep>`) and no `suffix`. Treated as a
 * plain prompt, the cursor would sit after the middle sentinel and the engine would render a FIM prompt around
 * that. The sentinels come from the format registry (FIM_FORMATS).
 */
import { FIM_FORMATS, type FimFormat } from '../../fim/index.js';

export interface SplitFimPrompt {
  prefix: string;
  suffix: string;
  /** Files given before the prefix (repository context), in prompt order. */
  context: { path: string; text: string }[];
  /** The current file's path, when the layout names it (`<|file_sep|>path\n` right before the prefix). */
  path?: string;
  /** The family whose sentinels were found. */
  family: string;
}

/** SentencePiece spells CodeLlama's sentinels `▁<PRE>`; in rendered text they are `<PRE>`. */
const spelled = (token: string | undefined): string | undefined => token?.replace(/^▁/, '');

/** A path line as the repository layouts write it: no spaces, with a dot or a slash. */
const PATH_LINE = /^[^\s<>|]*[./][^\s<>|]*$/;

function readContext(text: string, format: FimFormat): Pick<SplitFimPrompt, 'context' | 'path'> {
  const separator = format.tokens.fileSeparator;
  let rest = text;
  if (format.tokens.repoName !== undefined && rest.startsWith(format.tokens.repoName)) {
    const lineEnd = rest.indexOf('\n');
    rest = lineEnd === -1 ? '' : rest.slice(lineEnd + 1);
  }
  if (separator === undefined || !rest.includes(separator)) return { context: rest.trim() === '' ? [] : [{ path: '', text: rest }] };
  const parts = rest.split(separator);
  const files = parts.slice(1).map((part) => {
    const lineEnd = part.indexOf('\n');
    const firstLine = lineEnd === -1 ? part : part.slice(0, lineEnd);
    return PATH_LINE.test(firstLine.trim()) ? { path: firstLine.trim(), text: lineEnd === -1 ? '' : part.slice(lineEnd + 1) } : { path: '', text: part };
  });
  // The last part, right before the prefix sentinel, is the current file's header (its path and nothing else).
  const last = files.at(-1);
  const current = last !== undefined && last.text.trim() === '' ? files.pop() : undefined;
  const context = files.filter((file) => file.text.trim() !== '').map((file) => ({ path: file.path, text: file.text.replace(/\n$/, '') }));
  return { context, ...(current !== undefined && current.path !== '' ? { path: current.path } : {}) };
}

/** Splits `prompt` at the first family whose prefix and suffix sentinels it holds; undefined when none does. */
export function splitFimPrompt(prompt: string): SplitFimPrompt | undefined {
  const seen = new Set<string>();
  for (const format of FIM_FORMATS) {
    const prefixToken = spelled(format.tokens.prefix);
    const suffixToken = spelled(format.tokens.suffix);
    const middleToken = spelled(format.tokens.middle);
    if (prefixToken === undefined || suffixToken === undefined) continue;
    const key = `${prefixToken}\u0000${suffixToken}\u0000${middleToken ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const prefixAt = prompt.indexOf(prefixToken);
    const suffixAt = prompt.indexOf(suffixToken);
    if (prefixAt === -1 || suffixAt === -1) continue;
    const middleAt = middleToken === undefined ? -1 : prompt.lastIndexOf(middleToken);
    let prefix: string;
    let suffix: string;
    let contextEnd: number;
    if (prefixAt < suffixAt) {
      const afterSuffix = suffixAt + suffixToken.length;
      const middle = middleAt >= afterSuffix ? middleAt : prompt.length;
      const afterMiddle = middleAt >= afterSuffix && middleToken !== undefined ? prompt.slice(middleAt + middleToken.length) : '';
      if (suffixAt === prefixAt + prefixToken.length && afterMiddle !== '') {
        // SPM v2: PRE SUF suffix MID prefix.
        [prefix, suffix] = [afterMiddle, prompt.slice(afterSuffix, middle)];
      } else {
        // PSM: PRE prefix SUF suffix MID.
        [prefix, suffix] = [prompt.slice(prefixAt + prefixToken.length, suffixAt), prompt.slice(afterSuffix, middle)];
      }
      contextEnd = prefixAt;
    } else {
      // SPM: SUF suffix PRE prefix [MID].
      const afterPrefix = prefixAt + prefixToken.length;
      const middle = middleAt >= afterPrefix ? middleAt : prompt.length;
      [prefix, suffix] = [prompt.slice(afterPrefix, middle), prompt.slice(suffixAt + suffixToken.length, prefixAt)];
      contextEnd = suffixAt;
    }
    if (format.family === 'codellama') {
      // `<PRE> {prefix} <SUF>{suffix} <MID>`: the template's spaces are not the user's.
      prefix = prefix.replace(/^ /, '').replace(/ $/, '');
      suffix = suffix.replace(/ $/, '');
    }
    // Families share sentinels (StarCoder and StarCoder2, Qwen and CodeGemma): the context is read with the layout of
    // the one whose file separator the prompt uses.
    const context = prompt.slice(0, contextEnd);
    const layout = FIM_FORMATS.find((other) => spelled(other.tokens.prefix) === prefixToken && spelled(other.tokens.suffix) === suffixToken && other.tokens.fileSeparator !== undefined && context.includes(other.tokens.fileSeparator)) ?? format;
    return { prefix, suffix, ...readContext(context, layout), family: layout.family };
  }
  return undefined;
}
