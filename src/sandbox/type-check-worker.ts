/**
 * Worker thread of `createTypeChecker` (type-check.ts): type-checks one TypeScript program at a time the way
 * `tsc --target esnext main.ts` does in an empty folder (MultiPL-E's command), and emits its JavaScript.
 *
 * The compiler host is virtual: it serves `/work/main.ts` from the request and the pinned compiler's own `lib.*.d.ts`
 * files, and nothing else. So a program's `/// <reference path>` or `import` can never make the checker read a file
 * of the host (an error message would quote it); such references resolve to nothing, as they do in an empty folder.
 * The lib files are parsed once per thread and reused; only the program's own file is checked (the lib files have no
 * errors of their own), which is what makes a check take milliseconds instead of tsc's seconds.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';

type TypeScriptModule = typeof import('typescript');

export interface TypeCheckRequest {
  id: number;
  code: string;
  /** The request's other files (`helper.ts`, …), beside main.ts as the sandbox would have them. */
  files?: Record<string, string>;
}

export type TypeCheckResponse = { id: number; js: string } | { id: number; compileError: string };

const ts = createRequire(import.meta.url)('typescript') as TypeScriptModule;
const MAIN = '/work/main.ts';
const OUTPUT = '/work/main.js';
/** MultiPL-E's `tsc --target esnext`. No node_modules/@types folder exists in the virtual host, as in an empty folder. */
const OPTIONS: import('typescript').CompilerOptions = { target: ts.ScriptTarget.ESNext };
const libDirectory = dirname(ts.getDefaultLibFilePath(OPTIONS));
const libFiles = new Map<string, import('typescript').SourceFile | undefined>();

function libFile(
  fileName: string,
  languageVersion: import('typescript').ScriptTarget,
): import('typescript').SourceFile | undefined {
  if (!libFiles.has(fileName)) {
    let text: string | undefined;
    try {
      text = readFileSync(fileName, 'utf8');
    } catch {
      text = undefined;
    }
    libFiles.set(fileName, text === undefined ? undefined : ts.createSourceFile(fileName, text, languageVersion, true));
  }
  return libFiles.get(fileName);
}

function isLibFile(fileName: string): boolean {
  return (
    fileName.startsWith(`${libDirectory}/`) && /^lib\.[\w.]+\.d\.ts$/.test(fileName.slice(libDirectory.length + 1))
  );
}

/**
 * Whether a top-level name of a script merges with a declaration in a lib file (`interface Node {…}`, `const name`):
 * then tsc's errors may be reported inside the lib file, so the lib files must be checked too (seconds, not ms).
 */
function mergesWithLib(program: import('typescript').Program, source: import('typescript').SourceFile): boolean {
  if (ts.isExternalModule(source)) return false; // a module's declarations are its own
  const checker = program.getTypeChecker();
  const symbols = checker.getSymbolsInScope(
    source,
    ts.SymbolFlags.Type | ts.SymbolFlags.Value | ts.SymbolFlags.Namespace,
  );
  return symbols.some((symbol) => {
    const declarations = symbol.declarations ?? [];
    return (
      declarations.some((declaration) => declaration.getSourceFile() === source) &&
      declarations.some((declaration) => declaration.getSourceFile() !== source)
    );
  });
}

function check(code: string, files: Record<string, string>): { js: string } | { compileError: string } {
  let js = '';
  const virtual = new Map<string, string>([
    [MAIN, code],
    ...Object.entries(files).map(([name, text]): [string, string] => [`/work/${name}`, text]),
  ]);
  const host: import('typescript').CompilerHost = {
    getSourceFile: (fileName, languageVersion) => {
      const text = virtual.get(fileName);
      if (text !== undefined) return ts.createSourceFile(fileName, text, languageVersion, true);
      return isLibFile(fileName)
        ? libFile(fileName, typeof languageVersion === 'object' ? languageVersion.languageVersion : languageVersion)
        : undefined;
    },
    getDefaultLibFileName: (options) => join(libDirectory, ts.getDefaultLibFileName(options)),
    writeFile: (fileName, text) => {
      if (fileName === OUTPUT) js = text;
    },
    getCurrentDirectory: () => '/work',
    getDirectories: () => [],
    fileExists: (fileName) =>
      virtual.has(fileName) || (isLibFile(fileName) && libFile(fileName, ts.ScriptTarget.ESNext) !== undefined),
    readFile: (fileName) => virtual.get(fileName),
    directoryExists: (directory) => directory === '/work' || directory === libDirectory,
    getCanonicalFileName: (fileName) => fileName,
    useCaseSensitiveFileNames: () => true,
    getNewLine: () => '\n',
  };
  const program = ts.createProgram([MAIN], OPTIONS, host);
  const source = program.getSourceFile(MAIN)!;
  // As tsc's emitFilesAndReportErrors: syntax errors alone if there are any, then options and global ones, then
  // semantic ones; sorted and de-duplicated. Semantic errors of the lib files only arise when the program merges
  // declarations into theirs (they have none of their own), so only then are they checked.
  let diagnostics: readonly import('typescript').Diagnostic[] = program.getSyntacticDiagnostics();
  if (diagnostics.length === 0) diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  if (diagnostics.length === 0)
    diagnostics = mergesWithLib(program, source)
      ? program.getSemanticDiagnostics()
      : program.getSemanticDiagnostics(source);
  diagnostics = ts.sortAndDeduplicateDiagnostics(
    diagnostics.filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error),
  );
  if (diagnostics.length > 0) {
    // tsc's own format, with the path relative to the folder it ran in: `main.ts(3,5): error TS2322: …`.
    const lines = diagnostics.map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      if (diagnostic.file === undefined || diagnostic.start === undefined)
        return `error TS${diagnostic.code}: ${message}`;
      const { line, character } = diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start);
      // Paths as tsc prints them from /work; a lib file by its name (where TypeScript is installed differs anyway).
      const name = virtual.has(diagnostic.file.fileName)
        ? diagnostic.file.fileName.slice('/work/'.length)
        : basename(diagnostic.file.fileName);
      return `${name}(${line + 1},${character + 1}): error TS${diagnostic.code}: ${message}`;
    });
    return { compileError: lines.join('\n') };
  }
  program.emit(source);
  return { js };
}

parentPort?.on('message', (request: TypeCheckRequest) => {
  let response: TypeCheckResponse;
  try {
    response = { id: request.id, ...check(request.code, request.files ?? {}) };
  } catch (error) {
    // A crash of the compiler on this input: tsc would have exited non-zero too.
    response = {
      id: request.id,
      compileError: `the TypeScript compiler failed on this program: ${(error as Error).message}`,
    };
  }
  parentPort?.postMessage(response);
});
