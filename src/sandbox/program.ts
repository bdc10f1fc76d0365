import { createRequire } from 'node:module';
import { UsageError } from '../core/index.js';
import type { ExecutionLimits, ExecutionRequest } from './types.js';
import type { SupervisorJob } from './worker.js';

const MiB = 1024 * 1024;
/** Address space Node needs before the program allocates anything (MiB); see prepareProgram. */
const NODE_BASE_ADDRESS_SPACE_MIB = 1024;
/** The program's whole environment: built here, never inherited (no secrets, no NODE_EXTRA_CA_CERTS). */
const JOB_ENV = { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: '/work', TMPDIR: '/tmp', LANG: 'C.UTF-8' };

/** How the host prepares one request for the supervisor. */
export interface ProgramContext {
  /** Node inside the sandbox (the host's own binary, bound read-only). */
  nodePath: string;
  /** The sandbox limits memory with a cgroup (so Node needs no address-space cap). */
  cgroupMemory: boolean;
  /** Where the runtime folder (node-preload.cjs) is, as the program sees it. */
  runtimeDir: string;
}

/** A request turned into a supervisor job, or a compile error found on the host (TypeScript transpile). */
export type PreparedProgram = { job: Omit<SupervisorJob, 'id'> } | { compileError: string };

function encode(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64');
}

function checkFileName(name: string): void {
  if (
    name === '' ||
    name.startsWith('/') ||
    name.split('/').some((part) => part === '..' || part === '') ||
    name.includes('\0')
  ) {
    throw new UsageError(
      `File name ${JSON.stringify(name)} is not a plain relative path: use names like "helper.py" or "lib/util.js".`,
    );
  }
}

/**
 * Turns a request into a supervisor job. A `typeCheck` TypeScript request must have been checked and compiled first
 * (`createTypeChecker`, on the host): the executor passes the JavaScript that tsc emitted as a `javascript` request.
 */
export function prepareProgram(
  request: ExecutionRequest,
  limits: ExecutionLimits,
  context: ProgramContext,
): PreparedProgram {
  if (request.language === 'typescript' && request.typeCheck)
    throw new Error(
      'internal: a type-checked TypeScript request reaches prepareProgram only as the JavaScript tsc emitted',
    );
  const extension = { python: 'py', javascript: 'js', typescript: 'js' }[request.language];
  const main = `main.${extension}`;
  const files: Record<string, string> = {};
  for (const [name, content] of Object.entries(request.files ?? {})) {
    checkFileName(name);
    files[name] = encode(content);
  }
  const base = {
    main,
    files,
    ...(request.stdin === undefined ? {} : { stdin: encode(request.stdin) }),
    ...(request.args ? { args: request.args } : {}),
    limits: {
      wallMs: limits.wallMs,
      cpuSeconds: limits.cpuSeconds,
      fileSizeBytes: limits.fileSizeMiB * MiB,
      openFiles: limits.openFiles,
      processes: limits.processes,
      addressSpaceBytes: 0,
      scratchBytes: limits.scratchMiB * MiB,
      outputBytes: limits.outputBytes,
    },
  };
  if (request.language === 'python') {
    files[main] = encode(request.code);
    const env = { ...JOB_ENV, PYTHONDONTWRITEBYTECODE: '1' };
    const harness = request.harness === 'human-eval' ? { harness: 'human-eval' as const } : {};
    return {
      job: {
        ...base,
        mode: 'python',
        ...harness,
        env,
        limits: { ...base.limits, addressSpaceBytes: limits.memoryMiB * MiB },
      },
    };
  }

  let code = request.code;
  if (request.language === 'typescript') {
    const transpiled = transpileTypeScript(code);
    if ('compileError' in transpiled) return transpiled;
    code = transpiled.code;
  }
  const heapMiB = Math.max(64, limits.memoryMiB);
  const argv = [
    context.nodePath,
    `--max-old-space-size=${heapMiB}`,
    '--require',
    `${context.runtimeDir}/node-preload.cjs`,
    main,
    ...(request.args ?? []),
  ];
  files[main] = encode(code);
  // Without a cgroup the address space is the only memory bound Node can have. Node 20 maps ~800 MiB of address space
  // before running any code (measured: it does not start under 800 MiB), so the cap is the limit plus 1 GiB; a Buffer
  // bomb then fails with "Array buffer allocation failed". WebAssembly memories (which reserve ~10 GiB) cannot be
  // created at all in this mode.
  const addressSpaceBytes = context.cgroupMemory ? 0 : (limits.memoryMiB + NODE_BASE_ADDRESS_SPACE_MIB) * MiB;
  return {
    job: {
      ...base,
      mode: 'exec',
      argv,
      env: JOB_ENV,
      limits: { ...base.limits, addressSpaceBytes },
    },
  };
}

type TypeScriptModule = typeof import('typescript');
let typescript: TypeScriptModule | null = null;

/** The pinned TypeScript compiler (the `typescript` dependency), loaded on first use: it takes ~100 ms to load. */
export function pinnedTypeScript(): TypeScriptModule {
  typescript ??= createRequire(import.meta.url)('typescript') as TypeScriptModule;
  return typescript;
}

/**
 * Strips types with the pinned TypeScript compiler (no type-check): fast, and a syntax error is a compile error.
 * Runs on the host: parsing untrusted text executes none of it.
 */
export function transpileTypeScript(code: string): { code: string } | { compileError: string } {
  const ts = pinnedTypeScript();
  let output: import('typescript').TranspileOutput;
  try {
    output = ts.transpileModule(code, {
      reportDiagnostics: true,
      fileName: 'main.ts',
      compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS, esModuleInterop: true },
    });
  } catch (error) {
    // The compiler recurses on the syntax tree: text nested deeply enough (50,000 `!` before a literal) overflows the
    // host's stack. That is this program's failure to compile, never the end of the whole run.
    if (error instanceof RangeError)
      return { compileError: `main.ts: the TypeScript compiler failed: ${error.message}` };
    throw error;
  }
  const errors = (output.diagnostics ?? []).filter((diagnostic) => diagnostic.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const messages = errors.map((diagnostic) => {
      const where =
        diagnostic.file && diagnostic.start !== undefined
          ? diagnostic.file.getLineAndCharacterOfPosition(diagnostic.start)
          : null;
      return `main.ts${where ? `(${where.line + 1},${where.character + 1})` : ''}: error TS${diagnostic.code}: ${ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n')}`;
    });
    return { compileError: messages.join('\n') };
  }
  return { code: output.outputText };
}
