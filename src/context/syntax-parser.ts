/**
 * Tree-sitter parsers for the languages codeloop completes, loaded once per process from the grammars' wasm files
 * (npm: web-tree-sitter, tree-sitter-python, tree-sitter-javascript, tree-sitter-typescript). Loading is async (the
 * wasm runtime and each grammar compile once, ~tens of ms); parsing afterwards is synchronous and fast, which is what
 * the completion path needs.
 */
import { createRequire } from 'node:module';
import { Language, Parser, type Node, type Tree } from 'web-tree-sitter';
import { UsageError } from '../core/index.js';

/** Languages with a grammar here. `tsx` is TypeScript with JSX. */
export type SyntaxLanguage = 'python' | 'javascript' | 'typescript' | 'tsx';

export const SYNTAX_LANGUAGES: readonly SyntaxLanguage[] = ['python', 'javascript', 'typescript', 'tsx'];

const GRAMMAR_FILES: Record<SyntaxLanguage, string> = {
  python: 'tree-sitter-python/tree-sitter-python.wasm',
  javascript: 'tree-sitter-javascript/tree-sitter-javascript.wasm',
  typescript: 'tree-sitter-typescript/tree-sitter-typescript.wasm',
  tsx: 'tree-sitter-typescript/tree-sitter-tsx.wasm',
};

/** LSP language ids and file extensions that map to a grammar. */
const LANGUAGE_ALIASES: Record<string, SyntaxLanguage> = {
  python: 'python',
  py: 'python',
  pyi: 'python',
  javascript: 'javascript',
  js: 'javascript',
  mjs: 'javascript',
  cjs: 'javascript',
  jsx: 'javascript',
  javascriptreact: 'javascript',
  typescript: 'typescript',
  ts: 'typescript',
  mts: 'typescript',
  cts: 'typescript',
  typescriptreact: 'tsx',
  tsx: 'tsx',
};

/**
 * The grammar for an LSP language id (`python`, `typescriptreact`) or, failing that, a file path's extension; undefined
 * when codeloop has no grammar for it (the caller then skips syntax-aware steps).
 */
export function syntaxLanguageFor(languageId: string | undefined, path?: string): SyntaxLanguage | undefined {
  const byId = languageId === undefined ? undefined : LANGUAGE_ALIASES[languageId.toLowerCase()];
  if (byId !== undefined) return byId;
  const extension = path?.match(/\.([A-Za-z0-9]+)$/)?.[1]?.toLowerCase();
  return extension === undefined ? undefined : LANGUAGE_ALIASES[extension];
}

/** A loaded grammar: parse text synchronously. */
export interface SyntaxParser {
  readonly language: SyntaxLanguage;
  /** Parses `text`; the caller must `delete()` the tree when done (wasm memory is not garbage-collected). */
  parse(text: string): Tree;
}

const require = createRequire(import.meta.url);
let runtime: Promise<void> | undefined;
const loaded = new Map<SyntaxLanguage, Promise<SyntaxParser>>();

/** Loads (once) and returns the parser for `language`. */
export function loadSyntaxParser(language: SyntaxLanguage): Promise<SyntaxParser> {
  if (!SYNTAX_LANGUAGES.includes(language)) {
    throw new UsageError(`No tree-sitter grammar for '${String(language)}'; known: ${SYNTAX_LANGUAGES.join(', ')}.`);
  }
  let parser = loaded.get(language);
  if (parser === undefined) {
    parser = (async () => {
      runtime ??= Parser.init();
      await runtime;
      const grammar = await Language.load(require.resolve(GRAMMAR_FILES[language]));
      const instance = new Parser();
      instance.setLanguage(grammar);
      return {
        language,
        parse(text: string): Tree {
          const tree = instance.parse(text);
          if (tree === null)
            throw new Error(`tree-sitter returned no tree for ${language} text of ${text.length} characters`);
          return tree;
        },
      };
    })();
    // A failed load is not cached, so a later call can retry (e.g. after the grammar package is installed).
    parser.catch(() => loaded.delete(language));
    loaded.set(language, parser);
  }
  return parser;
}

export type { Node as SyntaxNode, Tree as SyntaxTree };
