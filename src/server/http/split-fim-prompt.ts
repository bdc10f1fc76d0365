/**
 * Reads a FIM prompt a client rendered itself back into prefix, suffix and context. Continue's `openai` provider
 * (`supportsFim()` false by default) and its `llama.cpp` provider send autocomplete as one `prompt` with the model's
 * FIM template applied (`<|fim_prefix|>P<|fim_suffix|>S<|fim_middle|>`, `[SUFFIX]S[PREFIX]P`, `<PRE> P <SUF>S <MID>`,
 * other files before the prefix sentinel, separated by `<|file_sep|>` / `<file_sep>`) and no `suffix`. Treated as a
 * plain prompt, the cursor would sit after the middle sentinel and the engine would render a FIM prompt around
 * that. The sentinels come from the format registry (FIM_FORMATS).
 */
import { FIM_FORMATS, type FimFormat } from '../../models/index.js';

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
  if (separator === undefined || !rest.includes(separator))
    return { context: rest.trim() === '' ? [] : [{ path: '', text: rest }] };
  const parts = rest.split(separator);
  const files = parts.slice(1).map((part) => {
    const lineEnd = part.indexOf('\n');
    const firstLine = lineEnd === -1 ? part : part.slice(0, lineEnd);
    return PATH_LINE.test(firstLine.trim())
      ? { path: firstLine.trim(), text: lineEnd === -1 ? '' : part.slice(lineEnd + 1) }
      : { path: '', text: part };
  });
  // The last part, right before the prefix sentinel, is the current file's header (its path and nothing else).
  const last = files.at(-1);
  const current = last !== undefined && last.text.trim() === '' ? files.pop() : undefined;
  const context = files
    .filter((file) => file.text.trim() !== '')
    .map((file) => ({ path: file.path, text: file.text.replace(/\n$/, '') }));
  return { context, ...(current !== undefined && current.path !== '' ? { path: current.path } : {}) };
}

/** Tokens that open a file or repository header line right before a FIM part (`<|file_sep|>path\n<|fim_prefix|>`). */
const HEADER_TOKENS = [
  ...new Set(
    FIM_FORMATS.flatMap((format) => [format.tokens.fileSeparator, format.tokens.repoName]).filter(
      (token): token is string => token !== undefined,
    ),
  ),
];

/**
 * Where the sentinel `token` that opens the FIM part is, before `end`: the first occurrence at the start of the prompt
 * or right after a file/repo header line, since the code after it may spell the sentinel too (`TOKENS =
 * ["<|fim_prefix|>", …]`); else (with `fallback`) the last occurrence. -1 when there is none.
 */
function openingAt(prompt: string, token: string, end: number, fallback = true): number {
  for (let at = prompt.indexOf(token); at !== -1 && at < end; at = prompt.indexOf(token, at + 1)) {
    const before = prompt.slice(0, at);
    if (before.trim() === '') return at;
    const header = HEADER_TOKENS.map((header) => before.lastIndexOf(header)).find(
      (index) => index !== -1 && /^[^\n]*\n?$/.test(before.slice(index)),
    );
    if (header !== undefined) return at;
  }
  return fallback ? prompt.lastIndexOf(token, end - token.length) : -1;
}

/**
 * Splits `prompt` at the first family whose template it is; undefined when none is. Only a prompt that ends with the
 * family's middle sentinel (after trailing whitespace; PSM and SPM) is read as a rendered FIM prompt, a prompt that
 * merely mentions sentinels is not: the suffix starts after the last suffix sentinel before the end, and the prefix
 * after the sentinel that opens the FIM part (see `openingAt`). Families without a middle sentinel (Codestral's
 * `[SUFFIX]S[PREFIX]P`) must start with the suffix sentinel; SPM v2 (`PRE SUF S MID P`) needs the two adjacent.
 */
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
    const body = prompt.trimEnd();
    let prefix: string;
    let suffix: string;
    let contextEnd: number;
    if (middleToken !== undefined && body.endsWith(middleToken)) {
      const middleAt = body.length - middleToken.length;
      const suffixLast = body.lastIndexOf(suffixToken, middleAt - suffixToken.length);
      const prefixLast = body.lastIndexOf(prefixToken, middleAt - prefixToken.length);
      if (suffixLast === -1 || prefixLast === -1) continue;
      if (prefixLast < suffixLast) {
        // PSM: PRE prefix SUF suffix MID.
        const prefixAt = openingAt(body, prefixToken, suffixLast);
        if (prefixAt === -1) continue;
        [prefix, suffix] = [
          body.slice(prefixAt + prefixToken.length, suffixLast),
          body.slice(suffixLast + suffixToken.length, middleAt),
        ];
        contextEnd = prefixAt;
      } else {
        // SPM: SUF suffix PRE prefix MID.
        const suffixAt = openingAt(body, suffixToken, prefixLast);
        if (suffixAt === -1) continue;
        [prefix, suffix] = [
          body.slice(prefixLast + prefixToken.length, middleAt),
          body.slice(suffixAt + suffixToken.length, prefixLast),
        ];
        contextEnd = suffixAt;
      }
    } else if (middleToken !== undefined) {
      // SPM v2: PRE SUF suffix MID prefix.
      const openAt = openingAt(prompt, prefixToken + suffixToken, prompt.length, false);
      const middleAt = openAt === -1 ? -1 : prompt.indexOf(middleToken, openAt);
      if (middleAt === -1) continue;
      [prefix, suffix] = [
        prompt.slice(middleAt + middleToken.length),
        prompt.slice(openAt + prefixToken.length + suffixToken.length, middleAt),
      ];
      contextEnd = openAt;
    } else {
      // SPM without a middle sentinel: SUF suffix PRE prefix, from the start of the prompt.
      if (!prompt.startsWith(suffixToken)) continue;
      const prefixAt = prompt.indexOf(prefixToken, suffixToken.length);
      if (prefixAt === -1) continue;
      [prefix, suffix] = [prompt.slice(prefixAt + prefixToken.length), prompt.slice(suffixToken.length, prefixAt)];
      contextEnd = 0;
    }
    if (format.family === 'codellama') {
      // `<PRE> {prefix} <SUF>{suffix} <MID>`: the template's spaces are not the user's.
      prefix = prefix.replace(/^ /, '').replace(/ $/, '');
      suffix = suffix.replace(/ $/, '');
    }
    // Families share sentinels (StarCoder and StarCoder2, Qwen and CodeGemma): the context is read with the layout of
    // the one whose file separator the prompt uses.
    const context = prompt.slice(0, contextEnd);
    const layout =
      FIM_FORMATS.find(
        (other) =>
          spelled(other.tokens.prefix) === prefixToken &&
          spelled(other.tokens.suffix) === suffixToken &&
          other.tokens.fileSeparator !== undefined &&
          context.includes(other.tokens.fileSeparator),
      ) ?? format;
    return { prefix, suffix, ...readContext(context, layout), family: layout.family };
  }
  return undefined;
}
