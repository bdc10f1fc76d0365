import { readFileSync } from 'node:fs';
import { basename, dirname, extname, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import { createExecutor, LANGUAGES, type ExecutionResult, type Harness, type Language } from '../sandbox/index.js';
import type { Command } from './command.js';
import { numberFlag } from './flags.js';

const usage = `Usage: codeloop run FILE [options]

Runs one program in the sandbox and prints its verdict. Exit code 0 when the program passed, 1 when it did not,
2 for a usage error, 3 when the sandbox itself failed (infra-error).

Options:
  --lang python|javascript|typescript   language (default: from the file extension .py/.js/.cjs/.ts)
  --timeout S                           wall-clock limit in seconds (default: 3 for Python, 5 for JS/TS)
  --memory MB                           memory limit in MiB (default: 1024)
  --stdin FILE                          file to feed on standard input
  --file PATH                           another file the program needs (a module it imports, a data file), put
                                        next to it at its path relative to FILE's folder (else by its name);
                                        repeat for more. Only FILE and these files are in the sandbox
  --type-check                          TypeScript: type-check with tsc first; type errors are compile errors
  --harness exit-code|completion|human-eval
                                        how success is decided (default exit-code; completion: ran to its last line;
                                        human-eval: as openai/human-eval's check_correctness runs it)
  --json                                print the result as one JSON object
  --unsafe-no-sandbox                   run with NO OS isolation (only on a throw-away machine)`;

const EXTENSIONS: Record<string, Language> = {
  '.py': 'python',
  '.js': 'javascript',
  '.cjs': 'javascript',
  '.ts': 'typescript',
};

/** A file's text, or a UsageError naming the path, the flag that gave it and why it cannot be read. */
function readInput(path: string, flag: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new UsageError(`${flag} ${path}: cannot read it (${reason}); check the path.`, { cause: error });
  }
}

/** When a program failed to import a module: only FILE (and --file files) are in the sandbox. */
export function missingModuleHint(output: string): string | undefined {
  const python = /ModuleNotFoundError: No module named '([^']+)'/.exec(output);
  const node = /Cannot find module '(\.{1,2}\/[^']+)'/.exec(output);
  const name = python?.[1] ?? node?.[1];
  if (name === undefined) return undefined;
  return `only FILE is in the sandbox: if ${JSON.stringify(name)} is a file of yours, bring it with --file PATH (repeat for more files).`;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'run one program in the sandbox and print its verdict',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        lang: { type: 'string' },
        timeout: { type: 'string' },
        memory: { type: 'string' },
        stdin: { type: 'string' },
        file: { type: 'string', multiple: true },
        'type-check': { type: 'boolean', default: false },
        harness: { type: 'string', default: 'exit-code' },
        json: { type: 'boolean', default: false },
        'unsafe-no-sandbox': { type: 'boolean', default: false },
      },
    });
    const [file, ...args] = positionals;
    if (file === undefined) throw new UsageError('FILE is missing: give the path of a .py, .js or .ts program.');
    const language = (values.lang ?? EXTENSIONS[extname(file)]) as Language | undefined;
    if (language === undefined || !LANGUAGES.includes(language)) {
      throw new UsageError(
        `Cannot tell the language of ${file}${values.lang ? ` (--lang ${values.lang})` : ''}: pass --lang ${LANGUAGES.join('|')}.`,
      );
    }
    const harnesses = ['exit-code', 'completion', 'human-eval'];
    if (!harnesses.includes(values.harness))
      throw new UsageError(`--harness ${values.harness} is not one of ${harnesses.join(', ')}.`);
    const code = readInput(file, 'FILE');
    const stdin = values.stdin === undefined ? undefined : readInput(values.stdin, '--stdin');
    const files: Record<string, string> = {};
    for (const path of values.file ?? []) {
      const inside = relative(dirname(resolve(file)), resolve(path));
      const name = inside.startsWith('..') || inside === '' ? basename(path) : inside;
      if (name === basename(file) && dirname(name) === '.')
        throw new UsageError(`--file ${path} would replace the program ${file} itself; drop it.`);
      files[name] = readInput(path, '--file');
    }
    // Limits in the flags' own units, checked against the sandbox's ranges (wallMs 10 ms to 1 h, memory 16 MiB to 64 GiB).
    const timeoutSeconds = numberFlag('--timeout', values.timeout, { min: 0.01, max: 3600 });
    const wallMs = timeoutSeconds === undefined ? undefined : Math.round(timeoutSeconds * 1000);
    const memoryMiB = numberFlag('--memory', values.memory, { integer: true, min: 16, max: 65_536 });
    const warnings: string[] = [];
    const executor = await createExecutor({
      concurrency: 1,
      isolation: values['unsafe-no-sandbox'] ? 'unsafe-none' : 'auto',
      onWarning: (message) => warnings.push(message),
    });
    if (values['unsafe-no-sandbox'])
      process.stderr.write(
        'codeloop run: WARNING: --unsafe-no-sandbox: the program runs with NO isolation, as your user, with your files and network.\n',
      );
    let result: ExecutionResult;
    try {
      result = await executor.run({
        language,
        code,
        args,
        harness: values.harness as Harness,
        typeCheck: values['type-check'],
        ...(stdin === undefined ? {} : { stdin }),
        ...(Object.keys(files).length === 0 ? {} : { files }),
        limits: { ...(wallMs ? { wallMs } : {}), ...(memoryMiB ? { memoryMiB } : {}) },
      });
    } finally {
      await executor.close();
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ ...result, warnings })}\n`);
    } else {
      if (result.stdout) process.stdout.write(result.stdout.endsWith('\n') ? result.stdout : `${result.stdout}\n`);
      if (result.stderr) process.stderr.write(result.stderr.endsWith('\n') ? result.stderr : `${result.stderr}\n`);
      const memory = result.peakMemoryKiB === null ? '' : `, peak ${(result.peakMemoryKiB / 1024).toFixed(1)} MiB`;
      process.stderr.write(
        `${result.verdict}: ${result.reason} (${result.durationMs.toFixed(0)} ms${memory}; isolation ${result.isolation})\n`,
      );
      const hint = missingModuleHint(`${result.reason}\n${result.stderr}`);
      if (hint !== undefined) process.stderr.write(`hint: ${hint}\n`);
    }
    return result.verdict === 'passed' ? 0 : result.verdict === 'infra-error' ? 3 : 1;
  },
};
