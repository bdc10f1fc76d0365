/**
 * Definitions of the symbols the current file imports, found with tree-sitter: the file's import statements name the
 * symbols and their module, the module is resolved to a workspace file, and that file's top-level definition of each
 * symbol is returned. This is the "imports → definitions" context of Continue and Tabby, without a language server.
 */
import type { SourceFile } from './similar-windows.js';
import type { SyntaxLanguage, SyntaxNode, SyntaxParser } from './syntax-parser.js';

export interface ImportedSymbol {
  /** The name as defined in the module (`join` in `from os.path import join as j`). */
  name: string;
  /** The module as written: `os.path`, `.utils`, `./util.js`. */
  module: string;
}

export interface DefinitionSnippet {
  path: string;
  /** The symbol it defines. */
  name: string;
  /** 0-based first line. */
  startLine: number;
  text: string;
}

/**
 * The top-level import statements of a file, one after another: lines at column 0 starting with `import`/`from`
 * (or `export … from`), continued while brackets are open. Parsing only these keeps the import lookup off the
 * keystroke path: the header does not change while the user types in a function body, so its parse is cached.
 */
export function importHeader(text: string, maxLines = 400): string {
  const kept: string[] = [];
  let depth = 0;
  // Imports live at the top of a file by convention (PEP 8; ES modules hoist them): the first lines are enough.
  let head = 0;
  for (let count = 0; count < maxLines && head !== -1; count += 1) head = text.indexOf('\n', head + 1);
  for (const line of (head === -1 ? text : text.slice(0, head)).split('\n')) {
    if (depth > 0 || /^(import\b|from\s+\S+\s+import\b|export\s.*\bfrom\s)/.test(line)) {
      kept.push(line);
      for (const character of line) {
        if (character === '(' || character === '{' || character === '[') depth += 1;
        else if ((character === ')' || character === '}' || character === ']') && depth > 0) depth -= 1;
      }
    }
  }
  return kept.join('\n');
}

/** Imports of `text` (parsed with `parser`) that name symbols; `import x` / namespace imports are skipped. */
export function findImportedSymbols(parser: SyntaxParser, text: string): ImportedSymbol[] {
  const tree = parser.parse(text);
  try {
    const symbols: ImportedSymbol[] = [];
    for (const statement of tree.rootNode.namedChildren) {
      if (statement === null) continue;
      if (parser.language === 'python') symbols.push(...pythonImports(statement));
      else symbols.push(...ecmaImports(statement));
    }
    return symbols;
  } finally {
    tree.delete();
  }
}

function pythonImports(statement: SyntaxNode): ImportedSymbol[] {
  if (statement.type !== 'import_from_statement') return [];
  const moduleNode = statement.childForFieldName('module_name');
  if (moduleNode === null) return [];
  const module = moduleNode.text;
  const symbols: ImportedSymbol[] = [];
  for (const nameNode of statement.childrenForFieldName('name')) {
    if (nameNode === null) continue;
    const name = nameNode.type === 'aliased_import' ? nameNode.childForFieldName('name')?.text : nameNode.text;
    if (name !== undefined) symbols.push({ name, module });
  }
  return symbols;
}

function ecmaImports(statement: SyntaxNode): ImportedSymbol[] {
  if (statement.type !== 'import_statement') return [];
  const source = statement.childForFieldName('source');
  if (source === null) return [];
  const module = source.text.replace(/^['"`]|['"`]$/g, '');
  const symbols: ImportedSymbol[] = [];
  const clause = statement.namedChildren.find((child) => child?.type === 'import_clause');
  for (const part of clause?.namedChildren ?? []) {
    if (part === null) continue;
    if (part.type === 'identifier') symbols.push({ name: 'default', module });
    if (part.type === 'named_imports') {
      for (const specifier of part.namedChildren) {
        const name = specifier?.type === 'import_specifier' ? specifier.childForFieldName('name')?.text : undefined;
        if (name !== undefined) symbols.push({ name, module });
      }
    }
  }
  return symbols;
}

const dirname = (path: string): string => (path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '');

/** Normalises `a/./b/../c` to `a/c`. */
function normalisePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return parts.join('/');
}

/** Workspace paths a module specifier can mean, most likely first. */
export function candidateModulePaths(language: SyntaxLanguage, module: string, fromPath: string): string[] {
  const here = dirname(fromPath);
  if (language === 'python') {
    const dots = module.match(/^\.*/)?.[0].length ?? 0;
    const rest = module.slice(dots).replace(/\./g, '/');
    let base = rest;
    if (dots > 0) {
      let directory = here;
      for (let level = 1; level < dots; level += 1) directory = dirname(directory);
      base = normalisePath(`${directory}/${rest}`);
    }
    return [`${base}.py`, `${base}/__init__.py`, `${base}.pyi`].map((path) => path.replace(/^\//, ''));
  }
  if (!module.startsWith('.')) return [];
  const joined = normalisePath(`${here}/${module}`);
  // TypeScript ESM imports name the emitted `.js` file; the source is `.ts`/`.tsx`.
  const stem = joined.replace(/\.(m|c)?js$/, '');
  const extensions = ['.ts', '.tsx', '.js', '.mjs', '.jsx', '.d.ts'];
  return [
    joined,
    ...extensions.map((extension) => stem + extension),
    ...extensions.map((extension) => `${joined}/index${extension}`),
  ];
}

/** Files by normalised path, for `resolveModule`. */
export function pathIndex(files: readonly SourceFile[]): Map<string, SourceFile> {
  return new Map(files.map((file) => [normalisePath(file.path), file]));
}

/** Finds the workspace file for a module: exact candidate paths first, then a path that ends with one. */
export function resolveModule(
  language: SyntaxLanguage,
  module: string,
  fromPath: string,
  files: readonly SourceFile[],
  byPath: ReadonlyMap<string, SourceFile> = pathIndex(files),
): SourceFile | undefined {
  const candidates = candidateModulePaths(language, module, fromPath);
  for (const candidate of candidates) {
    const file = byPath.get(candidate);
    if (file !== undefined) return file;
  }
  // Absolute Python imports are relative to a source root we do not know (src/, the repo root): match by suffix.
  if (language === 'python' && !module.startsWith('.')) {
    for (const candidate of candidates) {
      for (const [path, file] of byPath) if (path.endsWith(`/${candidate}`)) return file;
    }
  }
  return undefined;
}

interface TopLevelDefinition {
  name: string;
  startLine: number;
  text: string;
}

/** Top-level definitions (functions, classes, assignments, interfaces, types, enums) of a parsed file, by name. */
export function topLevelDefinitions(parser: SyntaxParser, text: string): Map<string, TopLevelDefinition> {
  const tree = parser.parse(text);
  const definitions = new Map<string, TopLevelDefinition>();
  const add = (name: string | undefined, node: SyntaxNode): void => {
    if (name !== undefined && !definitions.has(name))
      definitions.set(name, { name, startLine: node.startPosition.row, text: node.text });
  };
  try {
    for (const node of tree.rootNode.namedChildren) {
      if (node === null) continue;
      if (parser.language === 'python') {
        const definition = node.type === 'decorated_definition' ? node.childForFieldName('definition') : node;
        if (definition?.type === 'function_definition' || definition?.type === 'class_definition')
          add(definition.childForFieldName('name')?.text, node);
        if (node.type === 'expression_statement') {
          const assignment = node.namedChildren[0];
          const left = assignment?.type === 'assignment' ? assignment.childForFieldName('left') : undefined;
          if (left?.type === 'identifier') add(left.text, node);
        }
        continue;
      }
      const isExport = node.type === 'export_statement';
      const declaration = isExport
        ? (node.childForFieldName('declaration') ??
          node.namedChildren.find((child) => child !== null && child.type !== 'comment') ??
          null)
        : node;
      if (declaration === null || declaration === undefined) continue;
      if (isExport && node.children.some((child) => child?.type === 'default')) add('default', node);
      for (const name of ecmaDeclaredNames(declaration)) add(name, node);
    }
    return definitions;
  } finally {
    tree.delete();
  }
}

function ecmaDeclaredNames(declaration: SyntaxNode): string[] {
  switch (declaration.type) {
    case 'function_declaration':
    case 'generator_function_declaration':
    case 'class_declaration':
    case 'abstract_class_declaration':
    case 'interface_declaration':
    case 'type_alias_declaration':
    case 'enum_declaration': {
      const name = declaration.childForFieldName('name')?.text;
      return name === undefined ? [] : [name];
    }
    case 'lexical_declaration':
    case 'variable_declaration':
      return declaration.namedChildren.flatMap((child) => {
        const name = child?.type === 'variable_declarator' ? child.childForFieldName('name') : undefined;
        return name?.type === 'identifier' ? [name.text] : [];
      });
    default:
      return [];
  }
}

export interface ImportDefinitionsOptions {
  /** Longest definition kept, in lines; longer ones are cut (their head carries the signature). Default 40. */
  maxLines?: number;
}

/**
 * Finds the definitions the current file imports. Keeps a cache of parsed workspace files keyed by path and text, so
 * repeated calls while the user types re-parse only the current file.
 */
export function createImportDefinitionFinder(parser: SyntaxParser, options: ImportDefinitionsOptions = {}) {
  const { maxLines = 40 } = options;
  const cache = new Map<string, { text: string; definitions: Map<string, TopLevelDefinition> }>();
  let importsCache: { text: string; symbols: ImportedSymbol[] } | undefined;

  const definitionsOf = (file: SourceFile): Map<string, TopLevelDefinition> => {
    const hit = cache.get(file.path);
    if (hit !== undefined && hit.text === file.text) return hit.definitions;
    const definitions = topLevelDefinitions(parser, file.text);
    cache.set(file.path, { text: file.text, definitions });
    return definitions;
  };

  return {
    /** Definitions for the imports of `current` (whose header is `importText`: the prefix is enough), in import order. */
    find(current: SourceFile, importText: string, files: readonly SourceFile[]): DefinitionSnippet[] {
      if (importsCache?.text !== importText)
        importsCache = { text: importText, symbols: findImportedSymbols(parser, importText) };
      const snippets: DefinitionSnippet[] = [];
      const seen = new Set<string>();
      const byPath = pathIndex(files);
      for (const symbol of importsCache.symbols) {
        const file = resolveModule(parser.language, symbol.module, current.path, files, byPath);
        if (file === undefined || file.path === current.path) continue;
        const definition = definitionsOf(file).get(symbol.name);
        if (definition === undefined) continue;
        const key = `${file.path}:${definition.startLine}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const lines = definition.text.split('\n');
        snippets.push({
          path: file.path,
          name: symbol.name,
          startLine: definition.startLine,
          text: lines.length > maxLines ? lines.slice(0, maxLines).join('\n') : definition.text,
        });
      }
      return snippets;
    },
  };
}

export type ImportDefinitionFinder = ReturnType<typeof createImportDefinitionFinder>;
