/**
 * Question: how much faster does `codeloop eval` score a large HumanEval sample set than openai/human-eval's own
 * harness, with identical pass@k? Target (issue 3): ≥ 20× on ≥ 10,000 samples, human-eval at timeout 3 s with 2
 * workers, codeloop with OS isolation.
 *
 *   npm run build && node dist/bench/eval-throughput.js --human-eval PATH [--data-dir DIR] [--per-task 100]
 *       [--unique] [--timeouts 0] [--concurrency 2] [--skip-reference] [--skip-floor]
 *
 * PATH is a local copy of openai/human-eval (not committed; its dependencies are Debian's python3-numpy, python3-tqdm
 * and python3-fire). The sample set is built in the run, per HumanEval task, `--per-task` samples cycling through:
 * the canonical solution, Qwen2.5-Coder-1.5B's greedy output (reference-outputs/, when present), and mutations of the
 * canonical solution (an operator, comparison, constant or boolean flipped: most fail, some survive the tests).
 * Variants that loop forever (a pre-pass runs each once with a 1 s limit) are left out, because every endless loop costs
 * both harnesses the same 3 s and says nothing about their speed; `--timeouts R` puts a fraction R of them back. With
 * `--unique`, each sample also gets a distinct trailing comment, so no two programs are identical and codeloop's
 * de-duplication of identical programs cannot help; without it, repeated programs are executed once by codeloop (a
 * feature the issue asks for) and every time by human-eval. `--timeouts R` turns a fraction R of samples into endless
 * loops (each costs 3 s in both harnesses).
 *
 * Both harnesses score the same file; the bench checks that pass@k and every sample's passed flag agree, and prints
 * wall times and their ratio.
 *
 * A third cell, the fork floor, bounds what any harness that runs each program in its own process can reach here: a
 * warm Python that, in 2 worker processes, forks once per sample and `exec`s human-eval's program (prompt + completion
 * + test + check) in the child, with no isolation, no output capture, no verdict and no result file. Its speed-up over
 * human-eval is the ceiling for fork-per-program execution on this machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { createExecutor } from '../src/sandbox/index.js';
import { buildProgram, loadDataset } from '../src/tasks/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs from dist/bench/

interface Problem {
  task_id: string;
  prompt: string;
  canonical_solution: string;
}

/** Text edits that turn a correct solution into a plausible wrong one (applied to the first match). */
const MUTATIONS: [string, string][] = [
  [' + ', ' - '],
  [' < ', ' <= '],
  [' > ', ' >= '],
  [' == ', ' != '],
  ['True', 'False'],
  [' - 1', ' - 2'],
  ['[0]', '[-1]'],
  [' and ', ' or '],
  ['return ', 'return not '],
  ['range(', 'range(1 + '],
];

function parse(): {
  humanEval: string;
  dataDir: string;
  perTask: number;
  unique: boolean;
  timeouts: number;
  concurrency: number;
  skipReference: boolean;
  skipFloor: boolean;
} {
  const { values } = parseArgs({
    options: {
      'human-eval': { type: 'string' },
      'data-dir': {
        type: 'string',
        default: process.env.CODELOOP_DATA_DIR ?? join(REPO_ROOT, '..', 'shared', 'datasets'),
      },
      'per-task': { type: 'string', default: '100' },
      unique: { type: 'boolean', default: false },
      timeouts: { type: 'string', default: '0' },
      concurrency: { type: 'string', default: '2' },
      'skip-reference': { type: 'boolean', default: false },
      'skip-floor': { type: 'boolean', default: false },
    },
  });
  const humanEval = values['human-eval'];
  if (humanEval === undefined || !existsSync(join(humanEval, 'human_eval', 'evaluation.py'))) {
    throw new Error(
      '--human-eval PATH must be a local copy of github.com/openai/human-eval (with human_eval/evaluation.py).',
    );
  }
  return {
    humanEval,
    dataDir: values['data-dir'],
    perTask: Number(values['per-task']),
    unique: values.unique,
    timeouts: Number(values.timeouts),
    concurrency: Number(values.concurrency),
    skipReference: values['skip-reference'],
    skipFloor: values['skip-floor'],
  };
}

/** A small deterministic PRNG (mulberry32), so the sample set is the same in every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Each task's variants: canonical, Qwen's output, mutations; without those that run into a 1 s limit. */
async function variantsByTask(
  problems: Problem[],
  qwen: Map<string, string>,
  dataDir: string,
): Promise<{ variants: Map<string, string[]>; endless: number }> {
  const dataset = await loadDataset('humaneval', { dataDir });
  const executor = await createExecutor({ concurrency: availableParallelism() });
  const variants = new Map<string, string[]>();
  let endless = 0;
  try {
    await Promise.all(
      problems.map(async (problem) => {
        const task = dataset.tasks.find((candidate) => candidate.id === problem.task_id);
        if (task === undefined) throw new Error(`${problem.task_id} is not in the humaneval dataset`);
        const candidates = [problem.canonical_solution];
        const reference = qwen.get(problem.task_id);
        if (reference !== undefined) candidates.push(reference);
        for (const [from, to] of MUTATIONS) {
          if (problem.canonical_solution.includes(from)) candidates.push(problem.canonical_solution.replace(from, to));
        }
        const kept: string[] = [];
        for (const completion of candidates) {
          const result = await executor.run({
            language: 'python',
            code: buildProgram(task, completion),
            harness: 'completion',
            limits: { wallMs: 1_000 },
          });
          if (result.verdict === 'timed-out') endless++;
          else kept.push(completion);
        }
        variants.set(problem.task_id, kept);
      }),
    );
  } finally {
    await executor.close();
  }
  return { variants, endless };
}

function buildSamples(
  problems: Problem[],
  variantsOf: Map<string, string[]>,
  options: ReturnType<typeof parse>,
): string {
  const next = random(20261123);
  const lines: string[] = [];
  for (const problem of problems) {
    const variants = variantsOf.get(problem.task_id) ?? [problem.canonical_solution];
    for (let index = 0; index < options.perTask; index++) {
      let completion = variants[index % variants.length] as string;
      if (next() < options.timeouts) completion = '    while True:\n        pass\n';
      if (options.unique) completion += `\n# sample ${index}\n`;
      lines.push(JSON.stringify({ task_id: problem.task_id, completion }));
    }
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The fork floor (see the header): args SAMPLES PROBLEMS WORKERS; prints the wall seconds. Each child gets the
 * 3 s limit as a SIGALRM whose default action ends it, like a time-out. Samples are split round-robin over workers.
 */
const FORK_FLOOR = `import gzip, json, os, signal, sys, time
samples_path, problems_path, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
problems = {p["task_id"]: p for p in map(json.loads, gzip.open(problems_path, "rt"))}
programs = []
for line in open(samples_path):
    if line.strip():
        sample = json.loads(line)
        problem = problems[sample["task_id"]]
        programs.append(problem["prompt"] + sample["completion"] + "\\n" + problem["test"] + "\\n" + "check(%s)" % problem["entry_point"])
started = time.monotonic()
children = []
for worker in range(workers):
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        for program in programs[worker::workers]:
            child = os.fork()
            if child == 0:
                signal.setitimer(signal.ITIMER_REAL, 3.0)
                try:
                    exec(program, {})
                except BaseException:
                    os._exit(1)
                os._exit(0)
            os.waitpid(child, 0)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print(time.monotonic() - started)
`;

function passedFlags(path: string): boolean[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => (JSON.parse(line) as { passed: boolean }).passed);
}

async function main(): Promise<void> {
  const options = parse();
  const problemFile = join(options.dataDir, 'humaneval', 'HumanEval.jsonl.gz');
  const problems = gunzipSync(readFileSync(problemFile))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Problem);
  const qwen = new Map<string, string>();
  const qwenFile = join(
    options.dataDir,
    'reference-outputs',
    'qwen2.5-coder-1.5b-base',
    'evalplus',
    'humaneval',
    'generated.jsonl',
  );
  if (existsSync(qwenFile)) {
    for (const line of readFileSync(qwenFile, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const record = JSON.parse(line) as { task_id: string; completion: string };
      qwen.set(record.task_id, record.completion);
    }
  }
  const scratch = mkdtempSync(join(tmpdir(), 'codeloop-eval-bench-'));
  try {
    const samplesPath = join(scratch, 'samples.jsonl');
    const { variants, endless } = await variantsByTask(problems, qwen, options.dataDir);
    writeFileSync(samplesPath, buildSamples(problems, variants, options));
    const total = problems.length * options.perTask;
    const commit = execFileSync('git', ['-C', REPO_ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    console.log(
      `eval-throughput: ${total} samples (${options.perTask} per ` +
        `task${options.unique ? ', all programs distinct' : ', repeated programs'}, timeouts ${options.timeouts}; ` +
        `${endless} endless variants left out), commit ${commit}, ${cpus()[0]?.model ?? '?'} ` +
        `x${availableParallelism()}`,
    );

    // codeloop: a fresh --out, so nothing is reused from a journal.
    const out = join(scratch, 'codeloop-out');
    const codeloopStart = process.hrtime.bigint();
    const codeloop = spawnSync(
      process.execPath,
      [
        join(REPO_ROOT, 'bin', 'codeloop.js'),
        'eval',
        '--dataset',
        'humaneval',
        '--data-dir',
        options.dataDir,
        '--samples',
        samplesPath,
        '--out',
        out,
        '--k',
        '1,10,100',
        '--json',
        '--concurrency',
        String(options.concurrency),
      ],
      {
        encoding: 'utf8',
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' },
        maxBuffer: 1 << 26,
      },
    );
    const codeloopSeconds = Number(process.hrtime.bigint() - codeloopStart) / 1e9;
    if (codeloop.status !== 0) throw new Error(`codeloop eval failed (${codeloop.status}): ${codeloop.stderr}`);
    const metrics = JSON.parse(codeloop.stdout) as {
      passAtK: Record<string, number>;
      isolation: string;
      executions: { run: number };
      verdicts: Record<string, number>;
    };
    console.log(
      `codeloop eval: ${codeloopSeconds.toFixed(1)} s (${(total / codeloopSeconds).toFixed(1)} samples/s, ` +
        `${metrics.executions.run} programs executed, isolation ${metrics.isolation}) pass@k ` +
        `${JSON.stringify(metrics.passAtK)}`,
    );
    console.log(
      `  verdicts: ${Object.entries(metrics.verdicts)
        .filter(([, count]) => count > 0)
        .map(([verdict, count]) => `${verdict} ${count}`)
        .join(', ')}`,
    );
    if (options.skipReference) return;

    // human-eval: its own CLI, exactly as its README runs it, with 2 workers and a 3 s timeout.
    const referenceStart = process.hrtime.bigint();
    const reference = spawnSync(
      '/usr/bin/python3',
      [
        '-m',
        'human_eval.evaluate_functional_correctness',
        samplesPath,
        `--problem_file=${problemFile}`,
        '--n_workers=2',
        '--timeout=3.0',
        '--k="1,10,100"',
      ],
      {
        encoding: 'utf8',
        cwd: scratch,
        env: { PATH: '/usr/bin:/bin', PYTHONPATH: options.humanEval, HOME: scratch },
        maxBuffer: 1 << 26,
      },
    );
    const referenceSeconds = Number(process.hrtime.bigint() - referenceStart) / 1e9;
    if (reference.status !== 0)
      throw new Error(`human-eval failed (${reference.status}): ${reference.stderr.slice(-2000)}`);
    const printed = reference.stdout.trim().split('\n').at(-1) ?? '';
    console.log(
      `human-eval:    ${referenceSeconds.toFixed(1)} s (${(total / referenceSeconds).toFixed(1)} samples/s) pass@k ${printed}`,
    );

    if (!options.skipFloor) {
      const floorScript = join(scratch, 'fork-floor.py');
      writeFileSync(floorScript, FORK_FLOOR);
      const floor = spawnSync('/usr/bin/python3', ['-I', '-S', floorScript, samplesPath, problemFile, '2'], {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin' },
        maxBuffer: 1 << 26,
      });
      if (floor.status !== 0) throw new Error(`fork floor failed (${floor.status}): ${floor.stderr.slice(-2000)}`);
      const floorSeconds = Number(floor.stdout.trim());
      console.log(
        `fork floor:    ${floorSeconds.toFixed(1)} s (${(total / floorSeconds).toFixed(1)} samples/s: a bare fork + ` +
          `exec per sample in 2 processes, no isolation) = ${(referenceSeconds / floorSeconds).toFixed(1)}x ` +
          `human-eval, the ceiling of fork-per-program execution here`,
      );
    }

    const ours = passedFlags(join(out, 'samples.jsonl_results.jsonl'));
    const theirs = passedFlags(`${samplesPath}_results.jsonl`);
    const differing = ours.filter((passed, index) => passed !== theirs[index]).length;
    const theirPassAtK = JSON.parse(printed.replace(/np\.float64\(([^)]*)\)/g, '$1').replace(/'/g, '"')) as Record<
      string,
      number
    >;
    const samePassAtK = Object.entries(metrics.passAtK).every(
      ([k, value]) => Math.abs(value - (theirPassAtK[k] ?? Number.NaN)) < 1e-12,
    );
    console.log(`agreement: ${total - differing}/${total} samples, pass@k ${samePassAtK ? 'identical' : 'DIFFERENT'}`);
    console.log(`speed-up: ${(referenceSeconds / codeloopSeconds).toFixed(1)}x (target >= 20x)`);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

await main();
