/**
 * Question: how many sandboxed executions per second does this machine sustain, compared with spawning the same
 * programs with no sandbox at all? The target is >= 400 sandboxed Python executions/s on 2 cores for small
 * programs.
 *
 *   npm run build && node dist/bench/sandbox-throughput.js [--data-dir DIR] [--seconds S] [--concurrency N]
 *       [--language python|javascript|typescript]
 *
 * For each language and program kind, two cells run back to back on the same programs and concurrency: the sandbox
 * (`executor.run`) and a plain baseline (`spawn` of python3 / node on a temp file, with a clean env). Each cell warms up,
 * then keeps `concurrency * 4` executions in flight for a fixed time and counts completions (the executor queues
 * internally; the baseline spawns them all at once). Verdicts are counted too: a bench that silently measures failures
 * is worthless, so a cell whose verdicts differ from the expected one is flagged below the table.
 *
 * Programs:
 * - trivial: `add(1, 2) == 3` with an assert, per language.
 * - typical, Python: HumanEval prompt + canonical solution + test + `check(entry_point)`, harness `completion`; all pass.
 *   The same programs again with harness `human-eval` (what `codeloop eval` uses for HumanEval and MBPP).
 * - typical, JS/TS: MultiPL-E has no canonical solutions, so we use the full programs (prompt + completion + tests) that
 *   Qwen2.5-Coder-1.5B got right in its published MultiPL-E run (reference-outputs/, 77 JS / 76 TS, ~1 KB each, the
 *   size of a HumanEval Python program); every one should pass. Without that folder we fall back to MultiPL-E prompt +
 *   `return undefined;` + tests, which should all fail with an AssertionError (about the same size).
 * TypeScript runs without a type-check in both cells (the sandbox transpiles on the host, so does the baseline).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  createExecutor,
  transpileTypeScript,
  type Executor,
  type Harness,
  type Language,
} from '../src/sandbox/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs from dist/bench/
/** Spent before each measured window, so worker start-up, JIT and page cache are not in the count (s). */
const WARM_UP_SECONDS = 1;
/** Plain spawns get this env: NODE_EXTRA_CA_CERTS and friends make Node start slower, and the sandbox cleans its env. */
const PLAIN_ENV = { PATH: '/usr/bin:/bin' };
const PYTHON = '/usr/bin/python3';

const TRIVIAL: Record<Language, string> = {
  python: 'def add(a, b):\n    return a + b\n\nassert add(1, 2) == 3\n',
  javascript:
    "const assert = require('node:assert');\n\nfunction add(a, b) {\n  return a + b;\n}\n\nassert.strictEqual(add(1, 2), 3);\n",
  typescript:
    "declare var require: any;\nconst assert = require('node:assert');\n\nfunction add(a: number, b: number): number {\n  return a + b;\n}\n\nassert.strictEqual(add(1, 2), 3);\n",
};

interface Cell {
  language: Language;
  kind: string;
  programs: string[];
  harness: Harness;
  /** The verdict every program should get; anything else is reported. */
  expected: string;
}

interface Outcome {
  verdict: string;
  /** One line on why, kept for the first execution of each verdict. */
  reason: string;
}

interface Measurement {
  perSecond: number;
  completed: number;
  verdicts: Map<string, number>;
  reasons: Map<string, string>;
}

function readJsonl(path: string): Record<string, string>[] {
  const text = path.endsWith('.gz') ? gunzipSync(readFileSync(path)).toString('utf8') : readFileSync(path, 'utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, string>);
}

function typicalScripts(
  dataDir: string,
  language: 'javascript' | 'typescript',
): { programs: string[]; expected: string; kind: string } {
  const short = language === 'javascript' ? 'js' : 'ts';
  const details = join(dataDir, `reference-outputs/qwen2.5-coder-1.5b-base/multipl-e/humaneval-${short}-details.json`);
  if (existsSync(details)) {
    // {name: [[0, {passed, code, ...}]]}, `code` being the whole program Qwen's harness ran.
    const records = Object.values(
      JSON.parse(readFileSync(details, 'utf8')) as Record<string, [number, { passed: boolean; code: string }][]>,
    );
    const programs = records
      .flatMap((samples) => samples.map(([, sample]) => sample))
      .filter((sample) => sample.passed)
      .map((sample) => sample.code);
    return { programs, expected: 'passed', kind: 'typical (qwen-1.5b passing)' };
  }
  const problems = readJsonl(join(dataDir, `multipl-e/humaneval-${short}-reworded.jsonl`));
  return {
    programs: problems.map((problem) => `${problem.prompt}  return undefined;\n}\n\n${problem.tests}\n`),
    expected: 'failed',
    kind: 'typical (stub body)',
  };
}

function loadCells(dataDir: string): Cell[] {
  const humanEval = readJsonl(join(dataDir, 'humaneval/HumanEval.jsonl.gz'));
  const python = humanEval.map(
    (task) => `${task.prompt}${task.canonical_solution}\n${task.test}\n\ncheck(${task.entry_point})\n`,
  );
  const javascript = typicalScripts(dataDir, 'javascript');
  const typescript = typicalScripts(dataDir, 'typescript');
  return [
    { language: 'python', kind: 'trivial', programs: [TRIVIAL.python], harness: 'completion', expected: 'passed' },
    {
      language: 'python',
      kind: 'typical (humaneval canonical)',
      programs: python,
      harness: 'completion',
      expected: 'passed',
    },
    {
      language: 'python',
      kind: 'typical, human-eval harness',
      programs: python,
      harness: 'human-eval',
      expected: 'passed',
    },
    {
      language: 'javascript',
      kind: 'trivial',
      programs: [TRIVIAL.javascript],
      harness: 'exit-code',
      expected: 'passed',
    },
    {
      language: 'javascript',
      kind: javascript.kind,
      programs: javascript.programs,
      harness: 'exit-code',
      expected: javascript.expected,
    },
    {
      language: 'typescript',
      kind: 'trivial',
      programs: [TRIVIAL.typescript],
      harness: 'exit-code',
      expected: 'passed',
    },
    {
      language: 'typescript',
      kind: typescript.kind,
      programs: typescript.programs,
      harness: 'exit-code',
      expected: typescript.expected,
    },
  ];
}

/**
 * Calls `run(0), run(1), ...` with `inflight` calls pending at all times: a warm-up, then `seconds` of counted work.
 * The rate divides completions by the time until the last one finished, so the drain at the end is paid for.
 */
async function measure(
  label: string,
  run: (index: number) => Promise<Outcome>,
  seconds: number,
  inflight: number,
): Promise<Measurement> {
  let next = 0;
  async function window(durationMs: number) {
    const verdicts = new Map<string, number>();
    const reasons = new Map<string, string>();
    const start = performance.now();
    const end = start + durationMs;
    let completed = 0;
    const lane = async () => {
      while (performance.now() < end) {
        const outcome = await run(next++);
        completed++;
        verdicts.set(outcome.verdict, (verdicts.get(outcome.verdict) ?? 0) + 1);
        if (!reasons.has(outcome.verdict)) reasons.set(outcome.verdict, outcome.reason);
      }
    };
    await Promise.all(Array.from({ length: inflight }, lane));
    const elapsedSeconds = (performance.now() - start) / 1000;
    return { perSecond: completed / elapsedSeconds, completed, verdicts, reasons };
  }
  process.stderr.write(`  ${label} ...`);
  await window(WARM_UP_SECONDS * 1000);
  const result = await window(seconds * 1000);
  process.stderr.write(` ${result.perSecond.toFixed(1)}/s\n`);
  return result;
}

function sandboxed(executor: Executor, cell: Cell): (index: number) => Promise<Outcome> {
  return async (index) => {
    const code = cell.programs[index % cell.programs.length]!;
    const result = await executor.run({ language: cell.language, code, harness: cell.harness });
    return { verdict: result.verdict, reason: result.reason };
  };
}

/** The baseline: one program per temp file, `python3 FILE` or `node FILE` (TypeScript transpiled first), exit 0 = passed. */
function plain(cell: Cell, directory: string): (index: number) => Promise<Outcome> {
  const command = cell.language === 'python' ? PYTHON : process.execPath;
  return async (index) => {
    let code = cell.programs[index % cell.programs.length]!;
    if (cell.language === 'typescript') {
      // The very transpile step the sandbox uses, so both cells run the same JavaScript.
      const transpiled = transpileTypeScript(code);
      if ('compileError' in transpiled) return { verdict: 'compile-error', reason: transpiled.compileError };
      code = transpiled.code;
    }
    const file = join(directory, `${index}.${cell.language === 'python' ? 'py' : 'js'}`);
    await writeFile(file, code);
    const outcome = await new Promise<Outcome>((resolve, reject) => {
      const child = spawn(command, [file], { env: PLAIN_ENV, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stdout.resume();
      child.stderr.on('data', (chunk: Buffer) => {
        if (stderr.length < 4096) stderr += chunk.toString('utf8');
      });
      child.on('error', reject);
      child.on('close', (exitCode, signal) => {
        const errorLine =
          stderr
            .trim()
            .split('\n')
            .filter((line) => /Error|error/.test(line))[0] ?? '';
        if (exitCode === 0) resolve({ verdict: 'passed', reason: 'exited with code 0' });
        else if (signal) resolve({ verdict: 'crashed', reason: `killed by ${signal}` });
        else resolve({ verdict: 'failed', reason: `exited with code ${exitCode} ${errorLine}`.trim() });
      });
    });
    await unlink(file);
    return outcome;
  };
}

function formatVerdicts(verdicts: Map<string, number>): string {
  return [...verdicts].map(([verdict, count]) => `${verdict} ${count}`).join(', ');
}

function machineDescription(): string[] {
  const git = (args: string[]) =>
    execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...process.env, GIT_OPTIONAL_LOCKS: '0' },
    }).trim();
  let commit = 'unknown';
  try {
    commit = git(['rev-parse', '--short', 'HEAD']);
    // diff-index exits 1 when tracked files differ from HEAD (read-only; untracked files are not counted).
    try {
      git(['diff-index', '--quiet', 'HEAD', '--']);
    } catch {
      commit += ' (+ uncommitted changes)';
    }
  } catch {
    // not a git checkout
  }
  const cpuModel =
    /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model ?? 'unknown';
  return [
    `commit:      ${commit}`,
    `date:        ${new Date().toISOString()}`,
    `node:        ${process.version}`,
    `python:      ${execFileSync(PYTHON, ['--version'], { encoding: 'utf8' }).trim()}`,
    `cpu:         ${cpuModel}, ${availableParallelism()} cores available (${cpus().length} online)`,
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      'data-dir': { type: 'string' },
      seconds: { type: 'string', default: '5' },
      concurrency: { type: 'string', default: String(availableParallelism()) },
      language: { type: 'string' },
    },
  });
  const dataDir = values['data-dir'] ?? process.env.CODELOOP_DATA_DIR ?? join(REPO_ROOT, '../shared/datasets');
  const seconds = Number(values.seconds);
  const concurrency = Number(values.concurrency);
  if (!(seconds > 0)) throw new Error(`--seconds ${values.seconds} is not a positive number of seconds (default 5).`);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`--concurrency ${values.concurrency} is not a whole number >= 1.`);
  if (!existsSync(join(dataDir, 'humaneval/HumanEval.jsonl.gz'))) {
    throw new Error(
      `No humaneval/HumanEval.jsonl.gz under ${dataDir}: pass --data-dir (or set CODELOOP_DATA_DIR) to the datasets folder.`,
    );
  }
  const languages = ['python', 'javascript', 'typescript'];
  if (values.language !== undefined && !languages.includes(values.language))
    throw new Error(`--language ${values.language}: use one of ${languages.join(', ')} (default: all).`);
  const cells = loadCells(dataDir).filter((cell) => values.language === undefined || cell.language === values.language);
  const inflight = concurrency * 4;

  const executor = await createExecutor({
    concurrency,
    onWarning: (message) => process.stderr.write(`warning: ${message}\n`),
  });
  const directory = await mkdtemp(join(tmpdir(), 'codeloop-bench-'));
  const rows: { cell: Cell; sandbox: Measurement; baseline: Measurement }[] = [];
  try {
    process.stderr.write(
      `measuring ${cells.length * 2} cells, ${WARM_UP_SECONDS} s warm-up + ${seconds} s each, ${inflight} in flight\n`,
    );
    for (const cell of cells) {
      const label = `${cell.language} ${cell.kind}`;
      const sandbox = await measure(`${label} sandboxed`, sandboxed(executor, cell), seconds, inflight);
      const baseline = await measure(`${label} plain`, plain(cell, directory), seconds, inflight);
      rows.push({ cell, sandbox, baseline });
    }
  } finally {
    await executor.close();
    await rm(directory, { recursive: true, force: true });
  }

  console.log('sandbox throughput: sandboxed executions/s vs plain process spawns, same programs and concurrency\n');
  for (const line of machineDescription()) console.log(line);
  console.log(`isolation:   ${executor.isolation}`);
  console.log(
    `concurrency: ${concurrency} (${inflight} in flight), ${seconds} s per cell after ${WARM_UP_SECONDS} s warm-up`,
  );
  console.log(`data:        ${dataDir}\n`);
  const header = [
    'language',
    'program',
    'programs',
    'sandboxed/s',
    'plain/s',
    'ratio',
    'sandboxed verdicts',
    'plain verdicts',
  ];
  const table = rows.map(({ cell, sandbox, baseline }) => [
    cell.language,
    cell.kind,
    String(cell.programs.length),
    sandbox.perSecond.toFixed(1),
    baseline.perSecond.toFixed(1),
    (sandbox.perSecond / baseline.perSecond).toFixed(2),
    formatVerdicts(sandbox.verdicts),
    formatVerdicts(baseline.verdicts),
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...table.map((row) => row[column]!.length)));
  for (const row of [header, widths.map((width) => '-'.repeat(width)), ...table]) {
    console.log(
      row
        .map((value, column) => value.padEnd(widths[column]!))
        .join('  ')
        .trimEnd(),
    );
  }

  const surprises = rows.flatMap(({ cell, sandbox, baseline }) =>
    [['sandboxed', sandbox] as const, ['plain', baseline] as const].flatMap(([side, measurement]) =>
      [...measurement.verdicts.keys()]
        .filter((verdict) => verdict !== cell.expected)
        .map(
          (verdict) =>
            `  ${cell.language} ${cell.kind} ${side}: ${measurement.verdicts.get(verdict)} ${verdict} (expected ` +
            `${cell.expected}), e.g. ${measurement.reasons.get(verdict)}`,
        ),
    ),
  );
  console.log(
    surprises.length === 0 ? '\nall verdicts as expected' : `\nUNEXPECTED VERDICTS:\n${surprises.join('\n')}`,
  );
  const pythonTrivial = rows.find((row) => row.cell.language === 'python' && row.cell.kind === 'trivial')!;
  console.log(`\npython trivial sandboxed: ${pythonTrivial.sandbox.perSecond.toFixed(0)} exec/s (target >= 400)`);
}

await main();
