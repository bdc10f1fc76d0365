/**
 * Repository context for a completion, packed under a token budget. Three sources: the text around the user's recent
 * edits (taken first: what was just changed is the best hint of what comes next), definitions of the symbols the
 * current file imports (tree-sitter) and the windows of open/recent files most like the code at the cursor (Jaccard).
 * Anything the prompt already shows from the current file is dropped, and the result has a deterministic order that
 * does not depend on scores: definitions, then similar windows, then recent edits (the part that changes most, next
 * to the current file), each sorted by path and line. Scores pick *which* snippets fit;
 * the order stays put while the user types, so a server's prompt/KV cache of the context survives keystrokes (Continue
 * shuffles its snippets with Math.random on every request, which defeats that cache).
 */
import { createImportDefinitionFinder, type ImportDefinitionFinder } from './import-definitions.js';
import { importHeader } from './import-definitions.js';
import { rankSimilarWindows, WindowIndex, type SourceFile } from './similar-windows.js';
import { loadSyntaxParser, syntaxLanguageFor } from './syntax-parser.js';

/** Counts tokens of a text in the model's tokenizer (or an estimate). Context needs no model: the caller passes this. */
export type TokenCounter = (text: string) => number;

/** About 3.5 characters per token, the ratio of BPE code tokenizers on source code; use the model's counter when you can. */
export const approximateTokenCount: TokenCounter = (text) => Math.ceil(text.length / 3.5);

/** The text around one edit, after it (what the editor shows there now). */
export interface RecentEdit {
  /** Repository-relative path (or URI) of the edited file; may be the current file. */
  path: string;
  /** The edited lines and a few around them, as they read after the edit. */
  text: string;
  /** 0-based line of `text`'s first line in its file. Default 0. */
  startLine?: number;
}

export interface ContextRequest {
  /** The file being completed (its whole current text). */
  current: SourceFile;
  /** LSP language id or name (`python`, `typescript`); default: from the path's extension. */
  language?: string;
  /** What the prompt shows of the current file (prefix and suffix windows); snippets it already contains are dropped. */
  visibleText: string;
  /** The code around the cursor that windows are ranked against (e.g. the last lines of the prefix). */
  cursorWindow: string;
  /** The text whose imports are followed (only its top-level import statements are parsed). Default: `current.text`. */
  importText?: string;
  /** Open and recently used files, most recent first. The current file may be among them; it is skipped. */
  files: readonly SourceFile[];
  /** The user's recent edits, most recent first. Taken before the other sources, under the same budget and dedup. */
  recentEdits?: readonly RecentEdit[];
}

export interface ContextSnippet {
  kind: 'definition' | 'similar' | 'recent-edit';
  path: string;
  /** 0-based first line in its file. */
  startLine: number;
  text: string;
  /** Similarity to the cursor window for `similar`; 1 for definitions and recent edits. */
  score: number;
  /** Tokens it costs in the prompt (text plus its path line). */
  tokens: number;
}

export interface CollectedContext {
  /** In prompt order: definitions, then similar windows, then recent edits, each sorted by path then line. */
  snippets: ContextSnippet[];
  /** Tokens the snippets cost. */
  tokens: number;
  /** Snippets left out because the prompt already shows them. */
  duplicates: number;
  /** Snippets left out for lack of budget. */
  overBudget: number;
}

export interface ContextCollectorOptions {
  countTokens?: TokenCounter;
  /** Lines per similar window. Default 20. */
  windowLines?: number;
  /** Most similar windows kept. Default 4 (Copilot's neighbouring-tabs count). */
  maxWindows?: number;
  /** A snippet is a duplicate when at least this share of its non-blank lines is visible in the prompt. Default 0.8. */
  duplicateShare?: number;
  /** Lines kept of a long definition. Default 40. */
  definitionLines?: number;
  /** Most recent edits kept (the most recent first). Default 8. */
  maxRecentEdits?: number;
}

export interface ContextCollector {
  /** Collects context for `request` within `budgetTokens` tokens. */
  collect(request: ContextRequest, budgetTokens: number): Promise<CollectedContext>;
}

const nonBlankLines = (text: string): string[] =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

export function createContextCollector(options: ContextCollectorOptions = {}): ContextCollector {
  const {
    countTokens = approximateTokenCount,
    windowLines = 20,
    maxWindows = 4,
    duplicateShare = 0.8,
    definitionLines = 40,
    maxRecentEdits = 8,
  } = options;
  const finders = new Map<string, ImportDefinitionFinder>();
  const windowIndex = new WindowIndex();

  const finderFor = async (language: string | undefined, path: string): Promise<ImportDefinitionFinder | undefined> => {
    const syntax = syntaxLanguageFor(language, path);
    if (syntax === undefined) return undefined;
    let finder = finders.get(syntax);
    if (finder === undefined) {
      finder = createImportDefinitionFinder(await loadSyntaxParser(syntax), { maxLines: definitionLines });
      finders.set(syntax, finder);
    }
    return finder;
  };

  return {
    async collect(request, budgetTokens) {
      const { current, visibleText, cursorWindow } = request;
      const others = request.files.filter((file) => file.path !== current.path);
      const visible = new Set(nonBlankLines(visibleText));
      const isDuplicate = (text: string): boolean => {
        const lines = nonBlankLines(text);
        if (lines.length === 0) return true;
        const shown = lines.filter((line) => visible.has(line)).length;
        return shown / lines.length >= duplicateShare;
      };
      const cost = (path: string, text: string): number => countTokens(`${path}\n${text}\n`) + 1;

      const candidates: ContextSnippet[] = [];
      for (const edit of (request.recentEdits ?? []).slice(0, maxRecentEdits)) {
        candidates.push({
          kind: 'recent-edit',
          path: edit.path,
          startLine: edit.startLine ?? 0,
          text: edit.text,
          score: 1,
          tokens: cost(edit.path, edit.text),
        });
      }
      const finder = await finderFor(request.language, current.path);
      if (finder !== undefined) {
        for (const definition of finder.find(current, importHeader(request.importText ?? current.text), others)) {
          candidates.push({
            kind: 'definition',
            path: definition.path,
            startLine: definition.startLine,
            text: definition.text,
            score: 1,
            tokens: cost(definition.path, definition.text),
          });
        }
      }
      windowIndex.retain(new Set(others.map((file) => file.path)));
      for (const window of rankSimilarWindows(cursorWindow, others, { windowLines, index: windowIndex }).slice(
        0,
        maxWindows * 2,
      )) {
        candidates.push({
          kind: 'similar',
          path: window.path,
          startLine: window.startLine,
          text: window.text,
          score: window.score,
          tokens: cost(window.path, window.text),
        });
      }

      const chosen: ContextSnippet[] = [];
      let tokens = 0;
      let duplicates = 0;
      let overBudget = 0;
      let windows = 0;
      for (const candidate of candidates) {
        if (candidate.kind === 'similar' && windows >= maxWindows) break;
        if (isDuplicate(candidate.text) || chosen.some((other) => overlaps(other, candidate))) {
          duplicates += 1;
          continue;
        }
        if (tokens + candidate.tokens > budgetTokens) {
          overBudget += 1;
          continue;
        }
        chosen.push(candidate);
        tokens += candidate.tokens;
        if (candidate.kind === 'similar') windows += 1;
      }
      const kindOrder = { definition: 0, similar: 1, 'recent-edit': 2 } as const;
      chosen.sort(
        (a, b) =>
          kindOrder[a.kind] - kindOrder[b.kind] ||
          (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
          a.startLine - b.startLine,
      );
      return { snippets: chosen, tokens, duplicates, overBudget };
    },
  };
}

/** Same file and overlapping lines: the second adds little. */
function overlaps(a: ContextSnippet, b: ContextSnippet): boolean {
  if (a.path !== b.path) return false;
  const aEnd = a.startLine + a.text.split('\n').length;
  const bEnd = b.startLine + b.text.split('\n').length;
  return a.startLine < bEnd && b.startLine < aEnd;
}
