/**
 * The text-level rules that turn what a model generated into what an editor shows. Each rule is a small function over
 * the completion and its site, returns the new text, and is named in `rules` when it changed something, so a
 * completion can be explained and each rule's uplift measured (the quality harness switches them off). Each rule
 * names the editor or server it follows; the golden tests cite the user reports they fix.
 */
import {
  leadingWhitespace,
  nextNonBlankLine,
  previousNonBlankLine,
  type CompletionMode,
  type CompletionSite,
} from './completion-mode.js';

export interface PostProcessInput {
  site: CompletionSite;
  mode: CompletionMode;
  /** Special-token texts of the model's format (sentinels, end of text); generation is cut at the first one. */
  specialTokens?: readonly string[];
  /** llama.cpp `n_indent`: the completion ends before the first new line indented less than this many columns. */
  minIndent?: number;
  /**
   * The model is still generating: the open last line may grow, so it is not yet taken as the re-typed suffix line
   * (`return r` on its way to `return r2`). Default false: the text is final.
   */
  generating?: boolean;
  /** Rules (names from `POST_PROCESS_RULES`) that are switched off: they neither fire nor change the text. Default none. */
  disabledRules?: ReadonlySet<string>;
}

/**
 * Every rule name a completion's `rules` can list, in pipeline order. The text rules are here; the engine adds the
 * suffix merge and the syntax verdicts. Each can be switched off (`disabledRules`) to measure its uplift.
 */
export const POST_PROCESS_RULES = [
  'strip-think',
  'strip-special-tokens',
  'strip-markdown-fence',
  'drop-leading-space',
  'drop-retyped-indent',
  'convert-indent-unit',
  'repetition',
  'stop-at-suffix-line',
  'stop-at-n-indent',
  'single-line',
  'stop-at-blank-line',
  'stop-at-dedent',
  'stop-after-block-close',
  'suffix-merge',
  'syntax-truncated',
  'syntax-block-end',
  'syntax-rejected',
] as const;

export type PostProcessRule = (typeof POST_PROCESS_RULES)[number];

const NO_RULES: ReadonlySet<string> = new Set();

export interface TextStep {
  text: string;
  /** Names of the rules that changed the text, in order. */
  rules: string[];
  /** True when a stop rule cut the text (the model can stop generating). */
  stopped: boolean;
}

const lines = (text: string): string[] => text.split('\n');

/**
 * Removes what is not code: reasoning blocks (`<think>…</think>`, Qwen3), anything from the first special token on
 * (a sentinel in the output means the model finished the middle), and markdown fences around the code.
 */
export function cleanModelText(
  text: string,
  specialTokens: readonly string[] = [],
  disabled: ReadonlySet<string> = NO_RULES,
): { text: string; rules: string[] } {
  const rules: string[] = [];
  let out = text;
  const withoutThink = out.replace(/<think>[\s\S]*?(<\/think>\s*|$)/g, '');
  if (withoutThink !== out && !disabled.has('strip-think')) {
    out = withoutThink;
    rules.push('strip-think');
  }
  let cut = -1;
  for (const token of specialTokens) {
    const at = out.indexOf(token);
    if (at !== -1 && (cut === -1 || at < cut)) cut = at;
  }
  if (cut !== -1 && !disabled.has('strip-special-tokens')) {
    out = out.slice(0, cut);
    rules.push('strip-special-tokens');
  }
  if (disabled.has('strip-markdown-fence')) return { text: out, rules };
  const fenced = out.match(/^\s*```[\w+#.-]*[ \t]*\n([\s\S]*?)(\n```[\s\S]*|$)/);
  if (fenced !== null) {
    out = fenced[1] ?? '';
    rules.push('strip-markdown-fence');
  } else {
    const closing = out.search(/(^|\n)```\s*($|\n)/);
    if (closing !== -1) {
      out = out.slice(0, closing);
      rules.push('strip-markdown-fence');
    }
  }
  return { text: out, rules };
}

/**
 * Indentation fixes. (1) After a space the model often starts with one more (Tabby #3261): drop it. (2) On an indented
 * blank line the model re-types the indentation the line already has (Tabby #3263): the first line is re-indented to
 * the block's body indent. (3) Spaces in a tab-indented file, or tabs in a space-indented one, are converted to the
 * document's unit (Tabby #3782, #911).
 */
export function normalizeIndentation(
  text: string,
  site: CompletionSite,
  disabled: ReadonlySet<string> = NO_RULES,
): { text: string; rules: string[] } {
  const rules: string[] = [];
  const { linePrefix, indentUnit } = site;
  let out = text;
  const lineIsBlank = linePrefix.trim() === '';
  if (!lineIsBlank && /[ \t]$/.test(linePrefix) && out.startsWith(' ') && !disabled.has('drop-leading-space')) {
    out = out.slice(1);
    rules.push('drop-leading-space');
  }
  if (lineIsBlank && linePrefix !== '' && /^[ \t]+\S/.test(out) && !disabled.has('drop-retyped-indent')) {
    const opener = previousNonBlankLine(site.prefix) ?? '';
    const body = leadingWhitespace(opener) + (/(:|\{|\(|\[|=>)\s*$/.test(opener) ? indentUnit : '');
    const first = leadingWhitespace(out);
    const total = columns(linePrefix + first, indentUnit);
    if (total > columns(body, indentUnit) && columns(linePrefix, indentUnit) >= columns(body, indentUnit)) {
      out = out.slice(first.length);
      rules.push('drop-retyped-indent');
    }
  }
  const converted = disabled.has('convert-indent-unit') ? out : convertIndentUnit(out, indentUnit);
  if (converted !== out) {
    out = converted;
    rules.push('convert-indent-unit');
  }
  return { text: out, rules };
}

/** Width of leading whitespace, a tab counting as one indent unit. */
function columns(whitespace: string, indentUnit: string): number {
  const tabWidth = indentUnit === '\t' ? 4 : indentUnit.length;
  let width = 0;
  for (const character of whitespace) width += character === '\t' ? tabWidth : 1;
  return width;
}

function convertIndentUnit(text: string, indentUnit: string): string {
  const parts = lines(text);
  if (indentUnit === '\t') {
    // Spaces in groups of 4 (or 2 when that is all the completion uses) become tabs.
    const spaced = parts
      .slice(1)
      .map(leadingWhitespace)
      .filter((indent) => indent !== '' && !indent.includes('\t'));
    if (spaced.length === 0) return text;
    const step = spaced.every((indent) => indent.length % 4 === 0)
      ? 4
      : spaced.every((indent) => indent.length % 2 === 0)
        ? 2
        : 0;
    if (step === 0) return text;
    return parts
      .map((line, index) =>
        index === 0
          ? line
          : line.replace(
              /^ +/,
              (spaces) => '\t'.repeat(Math.floor(spaces.length / step)) + ' '.repeat(spaces.length % step),
            ),
      )
      .join('\n');
  }
  if (!parts.slice(1).some((line) => line.startsWith('\t'))) return text;
  return parts
    .map((line, index) => (index === 0 ? line : line.replace(/^\t+/, (tabs) => indentUnit.repeat(tabs.length))))
    .join('\n');
}

/** A line that only closes brackets (`}`, `});`, `]`, `end`), which may end a block at the opener's indent. */
const CLOSING_LINE = /^\s*([)\]}]+[;,)]*|end)\s*$/;

/**
 * Where the completion stops. Single-line: the first line (a completion at the end of a line may start on the next
 * one). Multi-line: at the top level, before the first blank line after the first line (Continue `noDoubleNewLine`,
 * Tabby `\n\n`; inside an indented block a blank line does not stop, the block's end does),
 * before a line indented below the block (Tabby `limitScopeByIndentation`; one closing-bracket line is kept when the
 * suffix does not already close the block), before a line equal to the next non-empty suffix line (Cody PR #3032; the
 * first line too, which leaves nothing),
 * and before a line indented less than `minIndent` (llama.cpp `n_indent`).
 */
export function truncateAtStops(text: string, input: PostProcessInput): TextStep {
  const { site, mode, minIndent, generating = false, disabledRules = NO_RULES } = input;
  const on = (rule: string): boolean => !disabledRules.has(rule);
  const rules: string[] = [];
  const parts = lines(text);
  const startsOnNextLine = parts[0]?.trim() === '' && parts.length > 1 && site.lineSuffix.trim() === '';
  const firstIndex = startsOnNextLine ? 1 : 0;

  // The first line is compared with the next suffix line too, as typed on the cursor line (Cody #264 on line one).
  const followingLine = site.lineSuffix.trim() === '' ? nextNonBlankLine(site.suffix) : undefined;
  const firstTyped = (firstIndex === 0 ? site.linePrefix : '') + (parts[firstIndex] ?? '');
  if (
    on('stop-at-suffix-line') &&
    followingLine !== undefined &&
    (parts[firstIndex] ?? '').trim() !== '' &&
    firstTyped.trim() === followingLine.trim() &&
    (parts.length > firstIndex + 1 || (!generating && firstTyped.length >= followingLine.length))
  ) {
    rules.push('stop-at-suffix-line');
    return { text: '', rules, stopped: true };
  }

  if (mode === 'single-line') {
    const nextLine = parts[firstIndex] ?? '';
    if (
      on('stop-at-n-indent') &&
      startsOnNextLine &&
      minIndent !== undefined &&
      nextLine.trim() !== '' &&
      leadingWhitespace(nextLine).length < minIndent
    ) {
      rules.push('stop-at-n-indent');
      return { text: '', rules, stopped: true };
    }
    const keep = firstIndex + 1;
    if (parts.length > keep && on('single-line')) {
      rules.push('single-line');
      return { text: parts.slice(0, keep).join('\n'), rules, stopped: true };
    }
    return { text, rules, stopped: false };
  }

  const firstLine = parts[firstIndex] ?? '';
  // The block's indent: the first completed line's, counting the indentation already typed on the cursor line; a
  // completion that starts after code on the cursor line belongs to that line's block.
  const blockIndent =
    firstIndex === 1
      ? leadingWhitespace(firstLine).length
      : site.linePrefix.trim() === ''
        ? leadingWhitespace(site.linePrefix + firstLine).length
        : leadingWhitespace(site.linePrefix).length;
  const openerIndent = leadingWhitespace(previousNonBlankLine(site.prefix + '\n') ?? '').length;
  const nextSuffixLine = nextNonBlankLine(site.suffix) ?? (site.lineSuffix.trim() === '' ? undefined : site.lineSuffix);
  for (let index = firstIndex + 1; index < parts.length; index += 1) {
    const line = parts[index] ?? '';
    const complete = index < parts.length - 1;
    const cut = (rule: string, at = index): TextStep => {
      rules.push(rule);
      return { text: parts.slice(0, at).join('\n'), rules, stopped: true };
    };
    if (line.trim() === '') {
      // Inside a block a blank line separates statements of the same body (the dedent and block-end rules bound it);
      // at the top level it ends the statement being completed.
      if (complete && blockIndent === 0 && on('stop-at-blank-line')) return cut('stop-at-blank-line');
      continue;
    }
    if (!complete && !/\S/.test(line)) continue;
    const indent = leadingWhitespace(line).length;
    if (
      on('stop-at-suffix-line') &&
      nextSuffixLine !== undefined &&
      line.trim() === nextSuffixLine.trim() &&
      (complete || (!generating && line.length >= nextSuffixLine.length))
    )
      return cut('stop-at-suffix-line');
    if (on('stop-at-n-indent') && minIndent !== undefined && indent < minIndent && line.trim() !== '')
      return cut('stop-at-n-indent');
    if (indent < blockIndent) {
      const closesBlock =
        CLOSING_LINE.test(line) && indent >= Math.min(openerIndent, blockIndent - 1) && indent <= openerIndent;
      if (closesBlock) {
        const suffixCloses =
          nextSuffixLine !== undefined &&
          CLOSING_LINE.test(nextSuffixLine) &&
          leadingWhitespace(nextSuffixLine).length === indent;
        if (suffixCloses) {
          if (on('stop-at-dedent')) return cut('stop-at-dedent');
          continue;
        }
        if (!complete || !on('stop-after-block-close')) continue;
        return cut('stop-after-block-close', index + 1);
      }
      // An incomplete last line's indent is final once it has a non-blank character.
      if (on('stop-at-dedent')) return cut('stop-at-dedent');
    }
  }
  return { text, rules, stopped: false };
}

/**
 * Repetition guard: a line repeated three times in a row, a block of two or more lines repeated twice (Continue's
 * "3 identical lines", Tabby's repetitive-block filter), and a pattern repeated within a line (Tabby: a 3+ character
 * pattern five times, a 10+ character pattern three times) are cut back to their first occurrence.
 */
export function guardRepetition(text: string, linePrefix = ''): TextStep {
  const parts = lines(text);
  // On an indented blank line the first line's indentation is in the document, not in the text: compare whole lines.
  const indent = linePrefix.trim() === '' ? linePrefix : '';
  if (indent !== '' && parts.length > 1) parts[0] = indent + (parts[0] ?? '');
  const strip = (kept: string[]): string => {
    const joined = kept.join('\n');
    return indent !== '' && joined.startsWith(indent) ? joined.slice(indent.length) : joined;
  };
  for (let index = 0; index < parts.length; index += 1) {
    const line = parts[index] ?? '';
    if (line.trim() !== '' && parts[index + 1] === line && parts[index + 2] === line) {
      return { text: strip(parts.slice(0, index + 1)), rules: ['repetition'], stopped: true };
    }
    for (let size = 2; size <= 6 && index + 2 * size <= parts.length; size += 1) {
      const block = parts.slice(index, index + size);
      if (block.join('').replace(/\s/g, '').length < 10) continue;
      if (block.every((entry, offset) => parts[index + size + offset] === entry)) {
        return { text: strip(parts.slice(0, index + size)), rules: ['repetition'], stopped: true };
      }
    }
    const repeated = line.match(/(\S.{2,8}?)\1{4,}|(\S.{9,}?)\2{2,}/);
    if (repeated !== null && repeated.index !== undefined) {
      const unit = repeated[1] ?? repeated[2] ?? '';
      const kept = line.slice(0, repeated.index + unit.length);
      return { text: strip([...parts.slice(0, index), kept]), rules: ['repetition'], stopped: true };
    }
  }
  return { text, rules: [], stopped: false };
}

/** The text rules in order: clean, indentation, stops, repetition. Syntax checks and the suffix merge come after. */
export function postProcessText(raw: string, input: PostProcessInput): TextStep {
  const disabled = input.disabledRules ?? NO_RULES;
  const cleaned = cleanModelText(raw, input.specialTokens, disabled);
  const indented = normalizeIndentation(cleaned.text, input.site, disabled);
  const repeated = disabled.has('repetition')
    ? { text: indented.text, rules: [], stopped: false }
    : guardRepetition(indented.text, input.site.linePrefix);
  const stopped = truncateAtStops(repeated.text, input);
  let text = stopped.text;
  const rules = [...cleaned.rules, ...indented.rules, ...repeated.rules, ...stopped.rules];
  if (input.mode === 'multi-line' || text.includes('\n')) {
    const trimmed = text.replace(/[ \t]+$/gm, '').replace(/\n+$/, '');
    if (trimmed !== text) text = trimmed;
  }
  return {
    text,
    rules,
    stopped: stopped.stopped || repeated.stopped || cleaned.rules.includes('strip-special-tokens'),
  };
}
