export {
  approximateTokenCount,
  createContextCollector,
  type CollectedContext,
  type ContextCollector,
  type ContextCollectorOptions,
  type ContextRequest,
  type ContextSnippet,
  type RecentEdit,
  type TokenCounter,
} from './collect-context.js';
export {
  identifierSet,
  jaccard,
  rankSimilarWindows,
  WindowIndex,
  type SimilarWindow,
  type SimilarWindowsOptions,
  type SourceFile,
} from './similar-windows.js';
export {
  candidateModulePaths,
  createImportDefinitionFinder,
  findImportedSymbols,
  importHeader,
  pathIndex,
  resolveModule,
  topLevelDefinitions,
  type DefinitionSnippet,
  type ImportedSymbol,
} from './import-definitions.js';
export {
  loadSyntaxParser,
  syntaxLanguageFor,
  SYNTAX_LANGUAGES,
  type SyntaxLanguage,
  type SyntaxNode,
  type SyntaxParser,
  type SyntaxTree,
} from './syntax-parser.js';
