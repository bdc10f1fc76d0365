/**
 * Question: how much faster is the solve loop's per-test runner (one sandboxed execution runs a candidate against all
 * its tests and reports each) than the naive way to get per-test results (one execution per test: the solution plus
 * that one assertion)?
 *
 *   npm run build && node dist/bench/per-test-runner.js [--rounds N]
 *
 * Programs: the canonical solutions of the `examples` dataset's Python and JavaScript tasks, against their own tests
 * split into single tests (every one passes; a cell whose results are not all passing is flagged). TypeScript is left
 * out: its per-test path transpiles on the host exactly like JavaScript, and the naive path would need one tsc run
 * per test. Both cells use the same executor (concurrency 2) and run their executions two at a time; each cell is run
 * `rounds` times, alternating, and the total wall time of each is reported with the ratio naive / per-test.
 * (Not named `*-test.ts`: `node --test dist/` would run it as a test.)
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { runTests, solveTaskFromDataset, type TestResult } from '../src/loop/index.js';
import { createExecutor, type Executor } from '../src/sandbox/index.js';
import { loadExamples, type Task } from '../src/tasks/index.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '3' } } });
const rounds = Number(values.rounds);

interface Job {
  task: Task;
  solution: string;
}

/** The per-test runner: one execution per task. */
async function perTest(executor: Executor, jobs: Job[]): Promise<TestResult[]> {
  const results: TestResult[][] = await Promise.all(
    jobs.map(async ({ task, solution }) => {
      const solveTask = solveTaskFromDataset(task);
      const run = await runTests(executor, {
        language: task.language,
        solution,
        sources: solveTask.hiddenTests,
        ...(solveTask.entryPoint ? { entryPoint: solveTask.entryPoint } : {}),
      });
      return run.tests;
    }),
  );
  return results.flat();
}

/** The naive way: one program per test, solution + `candidate` bound + the assertion; exit code decides. */
function naivePrograms(job: Job, tests: TestResult[]): string[] {
  const { task, solution } = job;
  return tests
    .filter((test) => test.assertion.includes('candidate') && !/\binput\b/.test(test.assertion))
    .map((test) =>
      task.language === 'python'
        ? `${solution}\ncandidate = ${task.entryPoint}\n${test.assertion}\n`
        : `${solution}\nconst assert = require('node:assert');\nconst candidate = ${task.entryPoint};\n${test.assertion}\n`,
    );
}

async function naive(
  executor: Executor,
  jobs: Job[],
  programs: Map<string, string[]>,
): Promise<{ passed: number; total: number }> {
  const all = jobs.flatMap((job) =>
    (programs.get(job.task.id) ?? []).map((code) => ({ language: job.task.language, code })),
  );
  let passed = 0;
  await Promise.all(
    all.map(async (program) => {
      const result = await executor.run({ language: program.language, code: program.code });
      if (result.verdict === 'passed') passed++;
    }),
  );
  return { passed, total: all.length };
}

const tasks = (await loadExamples()).tasks.filter((task) => task.language !== 'typescript');
const jobs: Job[] = tasks.map((task) => ({ task, solution: task.prompt + (task.canonicalSolution ?? '') }));
const executor = await createExecutor({ concurrency: 2 });
try {
  // The per-task test lists, for the naive cell: each task's own split tests.
  const programs = new Map<string, string[]>();
  for (const job of jobs) {
    const own = await runTests(executor, {
      language: job.task.language,
      solution: job.solution,
      sources: solveTaskFromDataset(job.task).hiddenTests,
      ...(job.task.entryPoint ? { entryPoint: job.task.entryPoint } : {}),
    });
    programs.set(job.task.id, naivePrograms(job, own.tests));
  }
  let perTestMs = 0;
  let naiveMs = 0;
  let perTestTests = 0;
  let perTestPassed = 0;
  let naiveTotal = 0;
  let naivePassed = 0;
  for (let round = 0; round < rounds; round++) {
    let started = performance.now();
    const results = await perTest(executor, jobs);
    perTestMs += performance.now() - started;
    perTestTests = results.length;
    perTestPassed = results.filter((test) => test.status === 'passed').length;
    started = performance.now();
    const counts = await naive(executor, jobs, programs);
    naiveMs += performance.now() - started;
    naiveTotal = counts.total;
    naivePassed = counts.passed;
  }
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  console.log(
    `commit ${commit}; ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; load average ${loadavg()
      .map((value) => value.toFixed(1))
      .join(' ')}; isolation ${executor.isolation}`,
  );
  console.log(`tasks: ${jobs.length} (examples, Python + JavaScript), rounds: ${rounds}`);
  console.log(
    `per-test runner: ${jobs.length} executions for ${perTestTests} tests (${perTestPassed} passed), ` +
      `${(perTestMs / rounds).toFixed(0)} ms per round`,
  );
  console.log(
    `one execution per test: ${naiveTotal} executions (${naivePassed} passed), ${(naiveMs / rounds).toFixed(0)} ms per round`,
  );
  console.log(`ratio (one per test / per-test runner): ${(naiveMs / perTestMs).toFixed(2)}x`);
  if (perTestPassed !== perTestTests || naivePassed !== naiveTotal)
    console.log('WARNING: not every test passed; the figures measure failures too.');
} finally {
  await executor.close();
}
