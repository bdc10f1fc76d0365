/**
 * Question: how much faster is codeloop's warm type-checker (src/sandbox/type-check.ts) than MultiPL-E's command,
 * `tsc --target esnext main.ts` run cold once per program in an empty folder, and does it agree with it exactly?
 *
 * Programs: the 159 real MultiPL-E HumanEval-TS programs Qwen2.5-Coder-1.5B wrote (reference-outputs), plus each of
 * them with a type error added, so both outcomes are exercised. For every program both must agree on "errors or not",
 * print the same error lines, and emit the same JavaScript (tsc's main.js). The cold command runs on a subset (it
 * takes seconds a program); the ratio is per program.
 *
 * Usage: npm run build && node dist/bench/type-check-throughput.js [--data-dir ../shared/datasets] [--cold N]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createTypeChecker } from '../src/sandbox/type-check.js';

const { values } = parseArgs({
  options: { 'data-dir': { type: 'string', default: '../shared/datasets' }, cold: { type: 'string', default: '24' } },
});
const dataDir = values['data-dir'] ?? '../shared/datasets';
const coldCount = Number(values.cold);
const details = JSON.parse(
  readFileSync(
    join(dataDir, 'reference-outputs', 'qwen2.5-coder-1.5b-base', 'multipl-e', 'humaneval-ts-details.json'),
    'utf8',
  ),
) as Record<string, [[number, { code: string }]]>;
const programs = Object.values(details).flatMap((entries) => {
  const code = entries[0]![1].code;
  return [code, `${code}\nconst codeloopBenchTypeError: number = "not a number";\n`];
});

const tscPath = join(dirname(createRequire(import.meta.url).resolve('typescript')), 'tsc.js');
const folder = mkdtempSync(join(tmpdir(), 'codeloop-tsc-bench-'));

/** MultiPL-E's command in an empty folder, with a clean environment (no NODE_EXTRA_CA_CERTS). */
function coldTsc(code: string): { errors: string; js: string } {
  rmSync(join(folder, 'main.js'), { force: true });
  writeFileSync(join(folder, 'main.ts'), code);
  const result = spawnSync(process.execPath, [tscPath, '--target', 'esnext', 'main.ts'], {
    cwd: folder,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  const errors = result.status === 0 ? '' : result.stdout.trim();
  return {
    errors,
    js: errors === '' && existsSync(join(folder, 'main.js')) ? readFileSync(join(folder, 'main.js'), 'utf8') : '',
  };
}

const checker = createTypeChecker(1);
try {
  await checker.check('let warm = 1;\n', { timeoutMs: 60_000 }); // parses the lib files once, as a long run pays once
  const warmStart = performance.now();
  const warm = [];
  for (const code of programs) warm.push(await checker.check(code, { timeoutMs: 15_000 }));
  const warmMs = (performance.now() - warmStart) / programs.length;

  const coldStart = performance.now();
  const cold = programs.slice(0, coldCount).map(coldTsc);
  const coldMs = (performance.now() - coldStart) / cold.length;

  let disagreements = 0;
  for (const [index, reference] of cold.entries()) {
    const mine = warm[index]!;
    const same =
      'js' in mine ? reference.errors === '' && reference.js === mine.js : reference.errors === mine.compileError;
    if (!same) {
      disagreements++;
      console.log(
        `disagreement on program ${index}:\n  tsc: ${reference.errors || '(no errors)'}\n  codeloop: ` +
          `${'js' in mine ? '(no errors)' : mine.compileError}`,
      );
    }
  }
  const failing = warm.filter((result) => 'compileError' in result).length;
  console.log(
    `machine: ${cpus()[0]?.model ?? 'unknown'} x${cpus().length}, load average ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}`,
  );
  console.log(`programs: ${programs.length} (${failing} with type errors)`);
  console.log(`warm checker: ${warmMs.toFixed(1)} ms/program over all ${programs.length}`);
  console.log(`cold tsc (MultiPL-E's command): ${coldMs.toFixed(0)} ms/program over the first ${cold.length}`);
  console.log(
    `speed-up: ${(coldMs / warmMs).toFixed(1)}x; agreement with tsc (errors, messages, emitted JS): ` +
      `${cold.length - disagreements}/${cold.length}`,
  );
  if (disagreements > 0) process.exitCode = 1;
} finally {
  await checker.close();
  rmSync(folder, { recursive: true, force: true });
}
