// Scale-out end to end, with real parts: Debian's redis-server started here (append-only persistence on), three
// `codeloop worker` processes, and HumanEval canonical solutions plus mutants scored through the queue. The verdicts
// must equal a local run's, through a worker killed mid-run, a Redis restart and a poisoned job.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Redis } from 'ioredis';
import { evaluateSamples, type Sample, type SampleResult } from '../../src/eval/index.js';
import { createQueueExecutor, inspectQueue, QueueUnavailableError } from '../../src/queue/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset, type Task } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot, sharedDatasets } from '../eval/helpers.js';
import { noRedisServer, startRedisServer, type RedisServer } from './redis-server.js';

const bin = join(repositoryRoot(), 'bin', 'codeloop.js');
const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;
/** Lock time of the test workers' jobs (ms): a killed worker's jobs move on within about 1.5 × this. */
const STALL_MS = 2_000;
const TASKS = 12;

let redis: RedisServer;
let tasks: Task[];
let samples: Sample[];
let local: SampleResult[];
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-queue-test-'));
const workers: ChildProcess[] = [];

/** One behaviour-changing edit of a canonical solution, or an always-failing body when none applies. */
function mutate(solution: string): string {
  for (const [from, to] of [
    [' + 1', ' + 2'],
    [' < ', ' <= '],
    [' == ', ' != '],
    [' + ', ' - '],
    ['True', 'False'],
  ] as const) {
    if (solution.includes(from)) return solution.replace(from, to);
  }
  return '    return None\n';
}

function verdicts(results: readonly SampleResult[]): string[] {
  return results.map((result) => `${result.taskId}#${result.index} ${result.verdict} ${result.humanEvalResult ?? ''}`);
}

/** Starts `codeloop worker` processes on `queueName` and waits until each says it is ready. */
async function startWorkers(queueName: string | undefined, count: number): Promise<ChildProcess[]> {
  const started = Array.from({ length: count }, () => {
    const child = spawn(
      process.execPath,
      [
        bin,
        'worker',
        '--redis',
        redis.url,
        '--concurrency',
        '1',
        '--stall-timeout',
        String(STALL_MS),
        ...(queueName === undefined ? [] : ['--queue-name', queueName]),
      ],
      { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    workers.push(child);
    return new Promise<ChildProcess>((resolve, reject) => {
      let log = '';
      child.stderr!.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes(' ready: ')) resolve(child);
      });
      child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready:\n${log}`)));
    });
  });
  return Promise.all(started);
}

async function stopWorkers(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }),
  );
}

/** Scores the samples through the queue, calling `midway` once after `at` results. */
async function queueRun(
  queueName: string,
  journalPath: string,
  midway?: { at: number; action: () => Promise<void> },
): Promise<SampleResult[]> {
  const executor = await createQueueExecutor(redis.url, {
    queueName,
    concurrency: 6,
    retryDelayMs: 200,
    sweepIntervalMs: 1_000,
    graceMs: 20_000,
  });
  let seen = 0;
  let action: Promise<void> | undefined;
  try {
    const evaluation = await evaluateSamples(tasks, samples, {
      executor,
      journalPath,
      onSampleResult: () => {
        seen++;
        if (midway !== undefined && seen === midway.at) action = midway.action();
      },
    });
    await action;
    return evaluation.samples;
  } finally {
    await executor.close();
  }
}

/** Journal lines by `taskId sha`: each program must be journaled exactly once. */
function journalKeys(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const record = JSON.parse(line) as { taskId: string; programSha256: string };
      return `${record.taskId} ${record.programSha256}`;
    });
}

before(async () => {
  if (skip || noRedisServer) return;
  redis = await startRedisServer();
  const dataset = await loadDataset('humaneval', { dataDir });
  tasks = dataset.tasks.slice(0, TASKS);
  samples = tasks.flatMap((task) => [
    { taskId: task.id, completion: task.canonicalSolution ?? '', index: 0, source: 'canonical', record: {} },
    { taskId: task.id, completion: mutate(task.canonicalSolution ?? ''), index: 1, source: 'mutant', record: {} },
  ]);
  // One that runs into the wall clock, one that kills itself: verdicts other than passed/failed must match too.
  samples.push(
    { taskId: tasks[0]!.id, completion: '    while True:\n        pass\n', index: 2, source: 'loop', record: {} },
    {
      taskId: tasks[1]!.id,
      completion: '    import os, signal\n    os.kill(os.getpid(), signal.SIGSEGV)\n',
      index: 2,
      source: 'segv',
      record: {},
    },
  );
  const executor = await createExecutor({ concurrency: 2 });
  try {
    local = (await evaluateSamples(tasks, samples, { executor })).samples;
  } finally {
    await executor.close();
  }
});

after(async () => {
  await stopWorkers(workers);
  await redis?.dispose();
  rmSync(scratch, { recursive: true, force: true });
});

test('redis-server is installed (the install script installs it; the queue tests need it)', () => {
  assert.equal(noRedisServer, false, noRedisServer || '');
});

test(
  '3 workers: per-sample verdicts equal the local run, each program journaled once',
  { skip, timeout: 120_000 },
  async () => {
    if (noRedisServer) assert.fail(noRedisServer);
    const children = await startWorkers('verdicts', 3);
    try {
      const journal = join(scratch, 'verdicts.jsonl');
      const results = await queueRun('verdicts', journal);
      assert.deepEqual(verdicts(results), verdicts(local));
      assert.ok(local.some((result) => result.verdict === 'failed'));
      assert.ok(local.some((result) => result.verdict === 'timed-out'));
      const keys = journalKeys(journal);
      assert.equal(new Set(keys).size, keys.length);
      assert.equal(keys.length, new Set(results.map((result) => `${result.taskId} ${result.programSha256}`)).size);

      // A poisoned job (its files cannot be laid out: the sandbox's setup fails every time) is dead-lettered with its
      // reason and comes back as an infra error; the programs around it still get their verdicts.
      const executor = await createQueueExecutor(redis.url, { queueName: 'verdicts', retryDelayMs: 100 });
      try {
        const [poisoned, fine] = await Promise.all([
          executor.run({ language: 'python', code: 'print(1)', files: { a: 'x', 'a/b': 'y' } }),
          executor.run({ language: 'python', code: 'print(40 + 2)' }),
        ]);
        assert.equal(poisoned.verdict, 'infra-error');
        assert.match(
          poisoned.reason,
          /^dead-lettered by the queue: infra-error: the sandbox could not run the program/,
        );
        assert.equal(fine.verdict, 'passed');
        assert.equal(fine.stdout, '42\n');
      } finally {
        await executor.close();
      }
      // Submitted again (a rerun), the dead letter gets a fresh round of tries, and is dead-lettered again.
      const again = await createQueueExecutor(redis.url, { queueName: 'verdicts', retryDelayMs: 100 });
      try {
        const poisoned = await again.run({ language: 'python', code: 'print(1)', files: { a: 'x', 'a/b': 'y' } });
        assert.match(poisoned.reason, /^dead-lettered by the queue: infra-error: /);
      } finally {
        await again.close();
      }
      const inspection = await inspectQueue(redis.url, { queueName: 'verdicts' });
      assert.equal(inspection.deadLettered, 1);
      assert.equal(inspection.deadLetters[0]?.attemptsMade, 3);
      assert.match(inspection.deadLetters[0]?.reason ?? '', /File exists/);
      assert.equal(inspection.workers.length, 3);
      assert.match(inspection.workers[0] ?? '', /^codeloop-worker;host=.*;isolation=/);
    } finally {
      await stopWorkers(children);
    }
  },
);

test(
  'SIGKILL of a worker mid-run: the run completes, nothing lost or counted twice',
  { skip, timeout: 120_000 },
  async () => {
    if (noRedisServer) assert.fail(noRedisServer);
    const children = await startWorkers('kill', 3);
    try {
      const journal = join(scratch, 'kill.jsonl');
      const results = await queueRun('kill', journal, {
        at: 8,
        action: async () => {
          children[0]!.kill('SIGKILL');
        },
      });
      assert.equal(children[0]!.signalCode, 'SIGKILL');
      assert.deepEqual(verdicts(results), verdicts(local));
      const keys = journalKeys(journal);
      assert.equal(new Set(keys).size, keys.length, 'a program was journaled twice');
      assert.equal(keys.length, new Set(results.map((result) => `${result.taskId} ${result.programSha256}`)).size);
      // The killed worker held jobs: BullMQ's stall check handed them to the others.
      const client = new Redis(redis.url);
      try {
        const events = await client.xrange('bull:kill:events', '-', '+');
        const stalled = events.filter(([, fields]) => fields[1] === 'stalled').length;
        assert.ok(stalled >= 1, 'no job of the killed worker was recovered as stalled');
      } finally {
        client.disconnect();
      }
    } finally {
      await stopWorkers(children);
    }
  },
);

test(
  'Redis restarted mid-run (append-only file): the run completes with the same verdicts',
  { skip, timeout: 120_000 },
  async () => {
    if (noRedisServer) assert.fail(noRedisServer);
    const children = await startWorkers('restart', 3);
    try {
      const journal = join(scratch, 'restart.jsonl');
      const results = await queueRun('restart', journal, {
        at: 8,
        action: async () => {
          await redis.stop('SIGTERM');
          await redis.start();
        },
      });
      assert.deepEqual(verdicts(results), verdicts(local));
      const keys = journalKeys(journal);
      assert.equal(new Set(keys).size, keys.length, 'a program was journaled twice');
    } finally {
      await stopWorkers(children);
    }
  },
);

test(
  'codeloop eval --queue: the CLI scores through a worker and names the queue',
  { skip, timeout: 120_000 },
  async () => {
    if (noRedisServer) assert.fail(noRedisServer);
    const children = await startWorkers(undefined, 1);
    try {
      const chosen = samples.filter((sample) => sample.index < 2).slice(0, 12);
      const samplesPath = join(scratch, 'cli-samples.jsonl');
      writeFileSync(
        samplesPath,
        chosen.map((sample) => JSON.stringify({ task_id: sample.taskId, completion: sample.completion })).join('\n'),
      );
      const result = spawnSync(
        process.execPath,
        [
          bin,
          'eval',
          '--dataset',
          'humaneval',
          '--data-dir',
          dataDir,
          '--samples',
          samplesPath,
          '--queue',
          redis.url,
          '--out',
          join(scratch, 'cli-out'),
          '--k',
          '1',
          '--subset',
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 100_000 },
      );
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stderr, new RegExp(`codeloop eval: executions go to the queue at ${redis.url}`));
      const expected = local.filter((entry) => entry.index < 2).slice(0, 12);
      const passed = expected.filter((entry) => entry.verdict === 'passed').length;
      assert.match(
        result.stdout,
        /^humaneval \(subset: 6 of 164 tasks, the 6 with samples\): 12 samples, 6 tasks counted$/m,
      );
      assert.match(result.stdout, new RegExp(`passed ${passed}\\b`));
      assert.match(result.stdout, /executions: 12 run, 0 reused from the journal/);

      // codeloop rewards score --queue: the same worker scores RL rewards (fraction of tests passed).
      const row = {
        id: 'add',
        prompt: 'def add(a, b):\n',
        test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n',
        entry_point: 'add',
        language: 'python',
      };
      writeFileSync(join(scratch, 'rows.jsonl'), `${JSON.stringify(row)}\n`);
      writeFileSync(
        join(scratch, 'completions.jsonl'),
        ['    return a + b\n', '    return a - b\n']
          .map((completion) => JSON.stringify({ row_id: 'add', completion }))
          .join('\n'),
      );
      const rewards = spawnSync(
        process.execPath,
        [
          bin,
          'rewards',
          'score',
          '--rows',
          join(scratch, 'rows.jsonl'),
          '--completions',
          join(scratch, 'completions.jsonl'),
          '--out',
          join(scratch, 'rewards-out'),
          '--queue',
          redis.url,
        ],
        { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, timeout: 100_000 },
      );
      assert.equal(rewards.status, 0, rewards.stderr);
      assert.match(rewards.stderr, new RegExp(`codeloop rewards: executions go to the queue at ${redis.url}`));
      assert.match(rewards.stdout, /^2 items \(2 scored now, 0 from the journal\): .*mean reward 0\.5000$/m);
    } finally {
      await stopWorkers(children);
    }
  },
);

test(
  'Redis gone past the grace period: a clear error naming the URL, no hang, no local fallback',
  { skip, timeout: 60_000 },
  async () => {
    if (noRedisServer) assert.fail(noRedisServer);
    const executor = await createQueueExecutor(redis.url, { queueName: 'gone', graceMs: 1_500 });
    try {
      // No worker listens on this queue: the job waits, then Redis goes away for good.
      const pending = executor.run({ language: 'python', code: 'print(1)' });
      await redis.stop('SIGKILL');
      const started = Date.now();
      await assert.rejects(pending, (error: unknown) => {
        assert.ok(error instanceof QueueUnavailableError);
        assert.match(
          error.message,
          new RegExp(`^Lost Redis at ${redis.url} for \\d+\\.\\d s \\(grace period 1\\.5 s\\)`),
        );
        assert.match(error.message, /1 program\(s\) were still waiting; nothing was run locally instead\.$/);
        return true;
      });
      assert.ok(Date.now() - started < 10_000);
      await assert.rejects(executor.run({ language: 'python', code: 'print(2)' }), QueueUnavailableError);
    } finally {
      await executor.close();
    }
    await assert.rejects(createQueueExecutor(redis.url, { graceMs: 1_000 }), (error: unknown) => {
      assert.ok(error instanceof QueueUnavailableError);
      assert.match(error.message, new RegExp(`^Cannot reach Redis at ${redis.url} within 1 s`));
      return true;
    });
    await redis.start();
  },
);
