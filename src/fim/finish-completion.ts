/**
 * The post-processing pipeline run on a generation's whole text: the post-process rules, the suffix merge, then the
 * syntax check (with a syntax parser per language, loaded once).
 */
import { loadSyntaxParser, syntaxLanguageFor, type SyntaxParser } from '../context/index.js';
import type { CompletionMode, CompletionSite } from './completion-mode.js';
import { postProcessText } from './post-process.js';
import { mergeSuffixOverlap } from './suffix-merge.js';
import { checkCompletionSyntax } from './syntax-check.js';

/** A syntax parser per language, loaded on first use (undefined where none is available). */
export function createParserCache(): (language: string | undefined) => Promise<SyntaxParser | undefined> {
  const parsers = new Map<string, Promise<SyntaxParser | undefined>>();
  const parserFor = (language: string | undefined): Promise<SyntaxParser | undefined> => {
    const key = language ?? '';
    let parser = parsers.get(key);
    if (parser === undefined) {
      const syntax = syntaxLanguageFor(language);
      parser = syntax === undefined ? Promise.resolve(undefined) : loadSyntaxParser(syntax).catch(() => undefined);
      parsers.set(key, parser);
    }
    return parser;
  };
  return parserFor;
}

/** What `finishCompletion` needs from the engine. */
export interface FinishSettings {
  specialTokens: readonly string[];
  disabledRules: ReadonlySet<string>;
  parserFor: (language: string | undefined) => Promise<SyntaxParser | undefined>;
}

export async function finishCompletion(
  settings: FinishSettings,
  raw: string,
  site: CompletionSite,
  mode: CompletionMode,
  language: string | undefined,
  minIndent: number | undefined,
): Promise<{ text: string; replaceLength: number; rules: string[] }> {
  const { specialTokens, disabledRules, parserFor } = settings;
  const step = postProcessText(raw, {
    site,
    mode,
    specialTokens,
    disabledRules,
    ...(minIndent === undefined ? {} : { minIndent }),
  });
  const rules = [...step.rules];
  let text = step.text;
  const merged = disabledRules.has('suffix-merge')
    ? { text, replaceLength: 0 }
    : mergeSuffixOverlap(text, mode === 'single-line' ? site.lineSuffix : site.suffix);
  if (merged.replaceLength > 0) rules.push('suffix-merge');
  text = merged.text;
  const parser = await parserFor(language);
  if (parser !== undefined && text.trim() !== '') {
    const checked = checkCompletionSyntax(parser, site.prefix, text, site.suffix.slice(merged.replaceLength));
    const rule =
      checked.verdict === 'truncated'
        ? 'syntax-truncated'
        : checked.verdict === 'block-end'
          ? 'syntax-block-end'
          : checked.verdict === 'rejected'
            ? 'syntax-rejected'
            : undefined;
    if (rule === undefined || !disabledRules.has(rule)) {
      if (rule !== undefined) rules.push(rule);
      text = checked.text;
    }
  }
  if (text.trim() === '') return { text: '', replaceLength: 0, rules };
  // The syntax step may have cut the re-typed tail away; then nothing after the cursor is replaced.
  return { text, replaceLength: text === merged.text ? merged.replaceLength : 0, rules };
}
