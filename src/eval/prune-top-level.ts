import { pinnedTypeScript } from '../sandbox/index.js';
import type { TaskLanguage } from '../tasks/index.js';

/**
 * One top-level statement of a program, with the text it spans (leading comments and trailing blank lines included,
 * so that the kept statements concatenate back into well-formed code).
 */
export interface TopLevelStatement {
  text: string;
  /**
   * `import`: always kept. `definition`: a function, class or assignment (and, in TypeScript, an interface, type or
   * enum), kept when reachable. `other`: anything else (calls, prints, asserts, loops, `if __name__ == "__main__":`),
   * dropped.
   */
  kind: 'import' | 'definition' | 'other';
  /** Names a definition binds (for `a, b = …`, both). */
  names: string[];
}

/** Identifiers in `text`, strings and comments included: over-approximating keeps a definition rather than losing it. */
export function identifiers(text: string): Set<string> {
  return new Set(text.match(/[A-Za-z_$][\w$]*/g) ?? []);
}

// ---- Python -------------------------------------------------------------------------------------------------------

/** Lines at column 0 that continue the compound statement before them instead of starting a new one. */
const PYTHON_CLAUSE = /^(else|elif|except|finally)\b/;

/**
 * Splits Python source into its top-level statements by scanning for lines at column 0 outside strings, brackets and
 * backslash continuations (comments and blank lines never start a statement; decorators join their def or class).
 * Returns null when the scan ends inside a string or bracket: the code does not parse, and is better left as it is.
 */
export function pythonStatements(code: string): TopLevelStatement[] | null {
  const lines = code.split(/(?<=\n)/);
  const chunks: { lines: string[]; decoratorOpen: boolean }[] = [];
  let quote: string | null = null;
  let depth = 0;
  let continued = false;
  for (const line of lines) {
    const topLevel = quote === null && depth === 0 && !continued;
    const current = chunks.at(-1);
    if (topLevel && /^[^\s#]/.test(line)) {
      if (current?.decoratorOpen) {
        current.lines.push(line);
        current.decoratorOpen = line.startsWith('@');
      } else if (current !== undefined && PYTHON_CLAUSE.test(line)) {
        current.lines.push(line);
      } else {
        chunks.push({ lines: [line], decoratorOpen: line.startsWith('@') });
      }
    } else if (current !== undefined) {
      current.lines.push(line);
    } else {
      // Comments and blank lines before the first statement.
      chunks.push({ lines: [line], decoratorOpen: false });
    }
    // Track strings, brackets and continuations to the end of this line.
    continued = false;
    for (let position = 0; position < line.length; position++) {
      const char = line[position] as string;
      if (quote !== null) {
        // A backslash escapes the next character, even in a raw string as far as where the string ends is concerned.
        if (char === '\\') position++;
        else if (line.startsWith(quote, position)) {
          position += quote.length - 1;
          quote = null;
        }
        continue;
      }
      if (char === '#') break;
      if (char === '\\' && /^\\\r?\n?$/.test(line.slice(position))) continued = true;
      else if ('([{'.includes(char)) depth++;
      else if (')]}'.includes(char)) depth = Math.max(0, depth - 1);
      else if (char === '"' || char === "'") {
        quote = line.startsWith(char.repeat(3), position) ? char.repeat(3) : char;
        position += quote.length - 1;
      }
    }
    // A one-quote string ends with its line unless the line ends in a backslash.
    if (quote !== null && quote.length === 1 && !/\\\r?\n$/.test(line)) quote = null;
  }
  if (quote !== null || depth > 0) return null;
  return chunks.map((chunk) => pythonStatement(chunk.lines.join('')));
}

function pythonStatement(text: string): TopLevelStatement {
  const first = text.split('\n').find((line) => /^[^\s#]/.test(line)) ?? '';
  if (/^(import|from)\s/.test(first)) return { text, kind: 'import', names: [] };
  // A decorated definition: its name is on the def or class line after the decorators.
  const header = first.startsWith('@')
    ? (text.split('\n').find((line) => /^(async\s+def|def|class)\s/.test(line)) ?? '')
    : first;
  const definition = /^(?:async\s+def|def|class)\s+([A-Za-z_]\w*)/.exec(header);
  if (definition?.[1] !== undefined) return { text, kind: 'definition', names: [definition[1]] };
  // `NAME = …`, `A, B = …`, `NAME: type = …` (not `==`).
  const assignment = /^([A-Za-z_]\w*(?:\s*,\s*[A-Za-z_]\w*)*)\s*(?::[^=\n]*)?=(?!=)/.exec(first);
  if (assignment?.[1] !== undefined)
    return { text, kind: 'definition', names: assignment[1].split(',').map((name) => name.trim()) };
  return { text, kind: 'other', names: [] };
}

// ---- JavaScript / TypeScript --------------------------------------------------------------------------------------

/**
 * Splits JavaScript or TypeScript into top-level statements with the pinned TypeScript parser (parsing runs none of
 * the code). `export` and `export default` are cut from declarations: the programs are run as scripts, where `export`
 * is a syntax error. Returns null when the code has syntax errors.
 */
export function scriptStatements(code: string, language: 'javascript' | 'typescript'): TopLevelStatement[] | null {
  const ts = pinnedTypeScript();
  let source: import('typescript').SourceFile;
  try {
    source = ts.createSourceFile(
      language === 'typescript' ? 'solution.ts' : 'solution.js',
      code,
      ts.ScriptTarget.Latest,
      true,
      language === 'typescript' ? ts.ScriptKind.TS : ts.ScriptKind.JS,
    );
  } catch (error) {
    // Text nested deeply enough overflows the parser's stack: as unusable as a syntax error, and never a crash.
    if (error instanceof RangeError) return null;
    throw error;
  }
  // Not in the public typings, but set by every parse since TypeScript 1.x.
  const diagnostics = (source as unknown as { parseDiagnostics?: unknown[] }).parseDiagnostics;
  if (diagnostics === undefined || diagnostics.length > 0) return null;
  const statements: TopLevelStatement[] = [];
  let start = 0;
  for (const [position, statement] of source.statements.entries()) {
    // Each statement runs to the start of the next one's leading comments, so comments travel with what follows them.
    const end =
      position + 1 < source.statements.length
        ? (source.statements[position + 1] as import('typescript').Statement).getFullStart()
        : code.length;
    let text = code.slice(start, end);
    start = end;
    const modifiers = ts.canHaveModifiers(statement) ? (ts.getModifiers(statement) ?? []) : [];
    for (const modifier of [...modifiers].reverse()) {
      if (modifier.kind !== ts.SyntaxKind.ExportKeyword && modifier.kind !== ts.SyntaxKind.DefaultKeyword) continue;
      const from = modifier.getStart() - statement.getFullStart();
      const to = modifier.getEnd() - statement.getFullStart();
      text = text.slice(0, from) + text.slice(to).replace(/^[ \t]+/, '');
    }
    if (ts.isImportDeclaration(statement) || ts.isImportEqualsDeclaration(statement)) {
      statements.push({ text, kind: 'import', names: [] });
    } else if (
      (ts.isFunctionDeclaration(statement) ||
        ts.isClassDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name !== undefined
    ) {
      statements.push({ text, kind: 'definition', names: [statement.name.text] });
    } else if (ts.isVariableStatement(statement)) {
      const names: string[] = [];
      const collect = (name: import('typescript').BindingName): void => {
        if (ts.isIdentifier(name)) names.push(name.text);
        else for (const element of name.elements) if (!ts.isOmittedExpression(element)) collect(element.name);
      };
      for (const declaration of statement.declarationList.declarations) collect(declaration.name);
      statements.push({ text, kind: 'definition', names });
    } else {
      statements.push({ text, kind: 'other', names: [] });
    }
  }
  return statements;
}

/** Top-level statements of `code` in `language`, or null when they cannot be told apart reliably. */
export function topLevelStatements(code: string, language: TaskLanguage): TopLevelStatement[] | null {
  return language === 'python' ? pythonStatements(code) : scriptStatements(code, language);
}

/**
 * EvalPlus's clean-up of a whole solution (evalplus `sanitize.py`, after extracting the code): keep every import and
 * the definitions reachable from `roots` through the names they mention; drop everything else, such as a `main`
 * block, example calls, prints and asserts that would run (or fail, or read stdin) before the tests. Unlike EvalPlus,
 * decorated definitions and functions without a `return` are kept (EvalPlus drops both, so `@lru_cache def fib` or an
 * in-place helper turn into a NameError), and a name defined twice keeps both definitions (Python's last-wins, not
 * EvalPlus's first-wins). Returns null, meaning "leave the code as it is", when the statements cannot be split or none
 * of `required` is defined.
 */
export function pruneTopLevel(
  code: string,
  language: TaskLanguage,
  roots: ReadonlySet<string>,
  required: ReadonlySet<string>,
): string | null {
  const statements = topLevelStatements(code, language);
  if (statements === null) return null;
  const definitions = statements.filter((statement) => statement.kind === 'definition');
  if (!definitions.some((statement) => statement.names.some((name) => required.has(name)))) return null;
  const reached = new Set<string>();
  const queue = [...roots];
  const kept = new Set<TopLevelStatement>();
  while (queue.length > 0) {
    const name = queue.pop() as string;
    if (reached.has(name)) continue;
    reached.add(name);
    for (const statement of definitions) {
      if (kept.has(statement) || !statement.names.includes(name)) continue;
      kept.add(statement);
      for (const used of identifiers(statement.text)) if (!reached.has(used)) queue.push(used);
    }
  }
  const text = statements
    .filter((statement) => statement.kind === 'import' || kept.has(statement))
    .map((statement) => statement.text)
    .join('');
  return `${text.replace(/^\n+/, '').trimEnd()}\n`;
}
