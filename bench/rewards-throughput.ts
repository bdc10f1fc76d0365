/**
 * Question: how fast does `codeloop rewards serve` score completions, what does the service cost on top of the same
 * executions through `codeloop eval`, how does it compare with Open-R1's one `python3 -c` process per test case, and
 * does its memory stay flat? Targets (issue 15): service overhead <= 10% over eval; RSS after 10,000 requests within
 * 1.5x of RSS after 1,000.
 *
 *   npm run build && node dist/bench/rewards-throughput.js --data-dir ../shared/datasets [--items 240]
 *       [--levels 1,16,64] [--workers 2] [--rss-requests 10000] [--skip-rss]
 *
 * Items: HumanEval Python (canonical solutions and one-operator mutations), MBPP Python (canonical solutions), and
 * MultiPL-E HumanEval TS/JS completions of Qwen2.5-Coder-1.5B (reference-outputs/, whose MultiPL-E verdicts the run
 * also compares with), 5% hostile programs (fork bomb, memory bomb, endless loop, output flood). Every completion gets
 * a distinct trailing comment, so eval's de-duplication of identical programs cannot help it.
 *
 * Cells, in one process and with one sandbox executor of --workers workers:
 * - service: an HTTP server on 127.0.0.1 (createRewardsService + startHttpServer), clients send one item per request,
 *   C at a time, for C in --levels: rewards/s, p50/p99 latency;
 * - library: the same items through scoreBatch (no HTTP): the service's own overhead;
 * - eval: the same completions through evaluateSamples (`codeloop eval`'s scoring, one execution per completion, the
 *   reference harness's program): what scoring costs without per-test results and without the trusted/untrusted split;
 * - open-r1: the Python items, one `python3 -c "prompt + completion + assert"` process per test case (no sandbox), as
 *   Open-R1's code_reward runs cases, --workers at a time;
 * - rss: the service process's RSS after 1,000 and after --rss-requests one-item requests (cheap Python items).
 */
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { evaluateSamples, type Sample } from '../src/eval/index.js';
import { scoreBatch, type RewardItem } from '../src/rewards/index.js';
import { createExecutor } from '../src/sandbox/index.js';
import { startHttpServer } from '../src/server/http/index.js';
import { createRewardsService } from '../src/server/rewards/index.js';
import { loadDataset, type Task } from '../src/tasks/index.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    items: { type: 'string', default: '240' },
    levels: { type: 'string', default: '1,16,64' },
    workers: { type: 'string', default: '2' },
    'rss-requests': { type: 'string', default: '10000' },
    'skip-rss': { type: 'boolean', default: false },
    'only-rss': { type: 'boolean', default: false },
  },
});
const dataDir = values['data-dir'] ?? process.env.CODELOOP_DATA_DIR;
if (!dataDir) throw new Error('pass --data-dir DIR (the shared datasets folder)');
const itemCount = Number(values.items);
const levels = values.levels.split(',').map(Number);
const workers = Number(values.workers);
const rssRequests = Number(values['rss-requests']);

interface BenchItem {
  task: Task;
  completion: string;
  kind: 'humaneval' | 'mbpp' | 'multipl-e' | 'hostile';
  /** MultiPL-E's verdict for this completion (reference-outputs), where known. */
  reference?: boolean;
}

const MUTATIONS: [string, string][] = [
  [' + ', ' - '],
  [' < ', ' <= '],
  [' == ', ' != '],
  ['True', 'False'],
  ['return ', 'return not '],
];

const HOSTILE_PY = [
  'import os\n    while True:\n        os.fork()\n',
  'x = []\n    while True:\n        x.append(bytearray(64 << 20))\n',
  'while True:\n        pass\n',
  'import os\n    while True:\n        os.write(1, b"x" * 65536)\n',
];
const HOSTILE_JS = [
  "const { spawnSync } = require('child_process');\n  for (;;) { try { spawnSync('/bin/sh', ['-c', 'sleep 5 &']); } catch {} }\n}\n",
  'const keep = [];\n  for (;;) keep.push(new Array(1e6).fill(1));\n}\n',
  'for (;;) {}\n}\n',
  "for (;;) require('fs').writeSync(1, 'x'.repeat(65536));\n}\n",
];

async function buildItems(): Promise<BenchItem[]> {
  const humaneval = (await loadDataset('humaneval', { dataDir })).tasks;
  const mbpp = (await loadDataset('mbpp', { dataDir })).tasks;
  const ts = (await loadDataset('multipl-e-humaneval-ts', { dataDir })).tasks;
  const js = (await loadDataset('multipl-e-humaneval-js', { dataDir })).tasks;
  const reference = (language: string) => {
    const folder = join(dataDir!, 'reference-outputs', 'qwen2.5-coder-1.5b-base', 'multipl-e');
    const details = JSON.parse(readFileSync(join(folder, `humaneval-${language}-details.json`), 'utf8')) as Record<
      string,
      [number, { passed: boolean }][]
    >;
    const generations = new Map<string, string>();
    for (const line of readFileSync(join(folder, `pred_${language}_output.jsonl`), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      const record = JSON.parse(line) as { task_id: string; generation: string; prompt: string };
      generations.set(record.task_id, record.generation.slice(record.prompt.length));
    }
    return { details, generations };
  };
  const pools: BenchItem[][] = [[], [], []];
  humaneval.forEach((task, index) => {
    const solution = task.canonicalSolution ?? '';
    const mutation = MUTATIONS[index % MUTATIONS.length]!;
    const completion = index % 2 === 0 || !solution.includes(mutation[0]) ? solution : solution.replace(...mutation);
    pools[0]!.push({ task, completion, kind: 'humaneval' });
  });
  for (const task of mbpp.slice(0, 200))
    pools[1]!.push({ task, completion: task.canonicalSolution ?? '', kind: 'mbpp' });
  for (const [language, tasks] of [
    ['ts', ts],
    ['js', js],
  ] as const) {
    const { details, generations } = reference(language);
    for (const task of tasks) {
      const completion = generations.get(task.id);
      const verdict = details[task.id]?.[0]?.[1]?.passed;
      if (completion !== undefined)
        pools[2]!.push({
          task,
          completion,
          kind: 'multipl-e',
          ...(verdict === undefined ? {} : { reference: verdict }),
        });
    }
  }
  // 40% HumanEval, 30% MBPP, 30% MultiPL-E; every 20th item hostile.
  const items: BenchItem[] = [];
  for (let index = 0; items.length < itemCount; index++) {
    if (items.length % 20 === 19) {
      const base = pools[index % 2 === 0 ? 0 : 2]![index % 50]!;
      const body = base.task.language === 'python' ? HOSTILE_PY[index % 4]! : HOSTILE_JS[index % 4]!;
      items.push({
        task: base.task,
        completion: base.task.language === 'python' ? `    ${body}` : `  ${body}`,
        kind: 'hostile',
      });
      continue;
    }
    const pool = pools[[0, 0, 0, 0, 1, 1, 1, 2, 2, 2][index % 10]!]!;
    items.push(pool[Math.floor(index / 10) % pool.length]!);
  }
  // Distinct programs: a trailing comment per item.
  return items.map((item, index) => ({
    ...item,
    completion: `${item.completion}\n${item.task.language === 'python' ? '#' : '//'} bench item ${index}\n`,
  }));
}

const percentile = (sorted: number[], p: number): number =>
  sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;

function rewardItem(item: BenchItem): RewardItem {
  return { row: { task: item.task }, completion: item.completion };
}

async function serviceCell(url: string, items: BenchItem[], concurrency: number) {
  const latencies: number[] = [];
  const results: { reward: number | null; verdict: string }[] = new Array(items.length);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) {
        const index = next++;
        const sent = performance.now();
        const response = await fetch(`${url}/v1/rewards`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ items: [rewardItem(items[index]!)] }),
        });
        const body = (await response.json()) as { results: { reward: number | null; verdict: string }[] };
        if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${JSON.stringify(body)}`);
        latencies.push(performance.now() - sent);
        results[index] = body.results[0]!;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    seconds,
    perSecond: items.length / seconds,
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    results,
  };
}

/** Open-R1's way: one `python3 -c` per test case (here: per assert of the check function), `workers` at a time. */
async function openR1Cell(items: BenchItem[]): Promise<{ seconds: number; processes: number }> {
  const jobs: string[] = [];
  for (const item of items) {
    if (item.task.language !== 'python' || item.kind === 'hostile') continue;
    const solution = item.task.layout === 'completion-tests' ? item.completion : item.task.prompt + item.completion;
    const asserts = item.task.tests.split('\n').filter((line) => /^\s*assert\b/.test(line));
    const setup = item.task.tests
      .split('\n')
      .filter((line) => /^(?:import|from)\s/.test(line))
      .join('\n');
    for (const line of asserts) {
      const call = item.task.entryPoint ? `candidate = ${item.task.entryPoint}\n` : '';
      jobs.push(`${solution}\n${setup}\n${call}${line.trim()}\n`);
    }
  }
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < jobs.length) {
        const code = jobs[next++]!;
        await new Promise<void>((resolve) => {
          const child = spawn('python3', ['-c', code], { stdio: 'ignore', timeout: 5000 });
          child.on('close', () => resolve());
          child.on('error', () => resolve());
        });
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, processes: jobs.length };
}

async function main(): Promise<void> {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  console.log(
    `commit ${commit}; ${cpus().length}x ${cpus()[0]?.model}; load before: ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  const items = await buildItems();
  const kinds = items.reduce<Record<string, number>>(
    (counts, item) => ({ ...counts, [item.kind]: (counts[item.kind] ?? 0) + 1 }),
    {},
  );
  console.log(`${items.length} items: ${JSON.stringify(kinds)}; ${workers} sandbox workers`);
  const executor = await createExecutor({ concurrency: workers });
  const service = createRewardsService({ executor, maxQueuedItems: 100_000 });
  const server = await startHttpServer({
    handler: service.handler,
    port: 0,
    maxConnections: 1024,
    maxConnectionsPerClient: 1024,
    maxBodyBytes: 16 << 20,
  });
  server.server.timeout = 0;
  try {
    if (values['only-rss']) levels.length = 0;
    // Warm-up: the TypeScript checker threads, the row cache of every item's row, every worker.
    if (!values['only-rss']) await scoreBatch(items.map(rewardItem), { executor });
    const cells: Record<string, Awaited<ReturnType<typeof serviceCell>>> = {};
    for (const level of levels) {
      cells[level] = await serviceCell(server.url, items, level);
      const cell = cells[level]!;
      console.log(
        `service c=${level}: ${cell.perSecond.toFixed(2)} rewards/s (${cell.seconds.toFixed(1)} s), p50 ${cell.p50.toFixed(0)} ms, p99 ${cell.p99.toFixed(0)} ms; load ${loadavg()[0]!.toFixed(2)}`,
      );
    }
    if (values['only-rss']) {
      await rssCell().catch((error: unknown) => console.log('rss cell failed:', error));
      return;
    }
    const libraryStarted = performance.now();
    const library = await scoreBatch(items.map(rewardItem), { executor, concurrency: 16 });
    const librarySeconds = (performance.now() - libraryStarted) / 1000;
    console.log(
      `library (scoreBatch, 16 at once): ${(items.length / librarySeconds).toFixed(2)} rewards/s (${librarySeconds.toFixed(1)} s)`,
    );

    const tasks = [...new Map(items.map((item) => [item.task.id, item.task])).values()];
    const samples: Sample[] = items.map((item, index) => ({
      taskId: item.task.id,
      completion: item.completion,
      index,
      source: `bench:${index}`,
      record: { task_id: item.task.id },
    }));
    const evalStarted = performance.now();
    const evaluated = await evaluateSamples(tasks, samples, { executor });
    const evalSeconds = (performance.now() - evalStarted) / 1000;
    console.log(
      `eval (evaluateSamples): ${(items.length / evalSeconds).toFixed(2)} samples/s (${evalSeconds.toFixed(1)} s)`,
    );

    // Verdict agreement: rewards passed (binary) vs eval passed, and vs MultiPL-E's published verdicts.
    const serviceResults = cells[levels.includes(16) ? 16 : levels[0]!]!.results;
    let agree = 0;
    let referenceAgree = 0;
    let referenceCount = 0;
    const disagreements: string[] = [];
    items.forEach((item, index) => {
      const rewardsPassed = serviceResults[index]!.verdict === 'passed';
      const evalPassed = evaluated.samples[index]!.verdict === 'passed';
      if (rewardsPassed === evalPassed) agree++;
      else
        disagreements.push(
          `${item.task.id} (${item.kind}): rewards ${serviceResults[index]!.verdict}, eval ${evaluated.samples[index]!.verdict}`,
        );
      if (item.reference !== undefined) {
        referenceCount++;
        if (item.reference === rewardsPassed) referenceAgree++;
      }
    });
    console.log(
      `verdicts: rewards vs eval agree on ${agree}/${items.length}; vs MultiPL-E's published verdicts ${referenceAgree}/${referenceCount}`,
    );
    for (const line of [...new Set(disagreements)].slice(0, 20)) console.log(`  differs: ${line}`);
    const libraryPassed = library.filter((result) => result.verdict === 'passed').length;
    const nulls = serviceResults.filter((result) => result.reward === null).length;
    console.log(`library passed ${libraryPassed}; service nulls (infra errors) ${nulls}`);

    const reference = cells[16] ?? cells[levels[0]!]!;
    console.log(
      `(a) service c=16 vs eval, same completions: ${(reference.seconds / evalSeconds).toFixed(2)}x eval's wall time; ` +
        `service vs library (HTTP and queue only): ${(reference.seconds / librarySeconds).toFixed(3)}x`,
    );
    const openR1 = await openR1Cell(items);
    const pythonItems = items.filter((item) => item.task.language === 'python' && item.kind !== 'hostile');
    const pythonStarted = performance.now();
    await scoreBatch(pythonItems.map(rewardItem), { executor, concurrency: 16 });
    const pythonSeconds = (performance.now() - pythonStarted) / 1000;
    console.log(
      `(b) Python items: open-r1 style ${openR1.processes} python3 -c processes in ${openR1.seconds.toFixed(1)} s vs rewards ${pythonSeconds.toFixed(1)} s ` +
        `(${(openR1.seconds / pythonSeconds).toFixed(2)}x faster; rewards runs in the OS sandbox, open-r1 style without one)`,
    );

    if (!values['skip-rss']) await rssCell();
    console.log(
      `load after: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    await server.close();
    await executor.close();
  }

  async function rssCell(): Promise<void> {
    {
      const cheap = items.filter((item) => item.kind === 'humaneval').slice(0, 50);
      const cheapItems = Array.from({ length: rssRequests }, (_, index) => cheap[index % cheap.length]!);
      let rss1000 = 0;
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < cheapItems.length) {
            const index = next++;
            const response = await fetch(`${server.url}/v1/rewards`, {
              method: 'POST',
              body: JSON.stringify({ items: [rewardItem(cheapItems[index]!)] }),
            });
            await response.arrayBuffer();
            if (index === 999) rss1000 = process.memoryUsage().rss;
          }
        }),
      );
      const rssEnd = process.memoryUsage().rss;
      console.log(
        `rss: ${(rss1000 / 2 ** 20).toFixed(1)} MiB after 1,000 requests, ${(rssEnd / 2 ** 20).toFixed(1)} MiB after ${rssRequests} ` +
          `(${(rssEnd / rss1000).toFixed(2)}x; ${(rssRequests / ((performance.now() - started) / 1000)).toFixed(1)} requests/s)`,
      );
    }
  }
}

await main();
