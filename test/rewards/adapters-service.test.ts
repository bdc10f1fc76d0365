import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import { probeIsolation } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { writeRunFolder } from '../report/report-fixture.js';
import { writeRewardsRun } from '../export/run-fixtures.js';
import { ADAPTERS_DIR, callTrainer, runPython } from './python-adapters.js';

// The Python adapters against a real `codeloop rewards serve` on 127.0.0.1, started here with an API key, each
// called the way its trainer calls it (test/rewards/trainer-calls/ cites the trainer source of each convention). The
// verl and OpenRLHF rows are the ones `codeloop export` writes from a rewards run folder, so the chain export →
// trainer row → adapter → service → sandbox runs end to end. Tasks are written for this test (no benchmark data).

const bin = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bin', 'codeloop.js');
const skip = probeIsolation().level === null ? 'no OS sandbox on this machine' : false;
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-adapters-'));
const KEY = 'test-key-7f3a';

const ADD = {
  id: 'add',
  prompt: 'def add(a, b):\n',
  test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(-1, 1) == 0\n',
  entry_point: 'add',
  language: 'python',
};
const SUM_STDIN = {
  id: 'sum-stdin',
  prompt: [{ role: 'user', content: 'Read two integers from one line of stdin and print their sum.' }],
  verification_info: {
    language: 'javascript',
    test_cases: [
      { input: '3 4\n', output: '7\n' },
      { input: '10 -2\n', output: '8\n' },
    ],
  },
};
const JS_SUM =
  "```javascript\nconst [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n" +
  'console.log(a + b);\n```';
const JS_PRODUCT = JS_SUM.replace('a + b', 'a * b');
// TypeScript is type-checked (MultiPL-E's rule), and the sandbox has no Node typings: `require` is declared.
const TS_PRODUCT =
  '```typescript\ndeclare const require: any;\n' +
  "const parts: string[] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/);\n" +
  'console.log(Number(parts[0]) * Number(parts[1]));\n```';

let service: ChildProcess | undefined;
let url = '';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

before(async () => {
  if (skip) return;
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  service = spawn(process.execPath, [bin, 'rewards', 'serve', '--port', String(port), '--api-key', KEY], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  service.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/health`)).ok) break;
    } catch {
      // not listening yet
    }
    if (service.exitCode !== null || Date.now() > deadline)
      throw new Error(`codeloop rewards serve did not come up (exit ${service.exitCode}): ${stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
});

after(async () => {
  if (service !== undefined && service.exitCode === null) {
    const exited = new Promise((resolve) => service?.once('exit', resolve));
    service.kill('SIGTERM');
    await exited;
  }
  rmSync(scratch, { recursive: true, force: true });
});

const env = (): Record<string, string> => ({ CODELOOP_REWARDS_URL: url, CODELOOP_REWARDS_API_KEY: KEY });

test('TRL sync and async: rewards for text and chat completions, from the row column', { skip }, async () => {
  const input = {
    prompts: [ADD.prompt, ADD.prompt, SUM_STDIN.prompt, SUM_STDIN.prompt],
    completions: [
      '    return a + b\n',
      '    return a - b\n',
      [{ role: 'assistant', content: JS_SUM }],
      [{ role: 'assistant', content: JS_PRODUCT }],
    ],
    columns: {
      row: [ADD, ADD, SUM_STDIN, SUM_STDIN].map((row) => JSON.stringify(row)),
      task_id: ['add', 'add', 'sum-stdin', 'sum-stdin'],
    },
  };
  for (const mode of ['sync', 'async']) {
    const output = await callTrainer('trl_call.py', [mode], input, { ...env(), CODELOOP_REWARDS_MODE: 'binary' });
    assert.deepEqual(output.rewards, [1, 0, 1, 0], mode);
    assert.deepEqual(
      (output.extra as Record<string, unknown>).codeloop_verdict,
      ['passed', 'failed', 'passed', 'failed'],
      mode,
    );
  }
});

test('TRL: without the API key the service refuses, and the adapter says which variable to set', { skip }, async () => {
  const run = await runPython(
    [
      '-c',
      'from codeloop_rewards.trl import codeloop_reward\ncodeloop_reward(prompts=["x"], completions=["y"], row=["{}"])',
    ],
    '',
    { CODELOOP_REWARDS_URL: url },
  );
  assert.notEqual(run.status, 0);
  assert.match(run.stderr, /RewardsAuthError: .*\(401\): set CODELOOP_REWARDS_API_KEY/);
});

/** A rewards run over the two rows, exported in `format`; returns the exported file's path. */
function exported(format: 'verl' | 'openrlhf'): string {
  const run = writeRewardsRun(
    join(scratch, `run-${format}`),
    [
      { rowId: 'add', completion: '    return a + b\n', passRate: 1, verdict: 'passed' },
      { rowId: 'sum-stdin', completion: JS_SUM, passRate: 1, verdict: 'passed' },
    ],
    [ADD, SUM_STDIN],
  );
  const out = join(scratch, format === 'verl' ? 'train.parquet' : 'prompts.jsonl');
  const result = spawnSync(process.execPath, [bin, 'export', '--from', run, '--format', format, '--out', out], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  assert.equal(result.status, 0, result.stderr);
  return out;
}

test(
  'verl: rows read from the exported Parquet, scored through compute_score and compute_score_batch',
  { skip },
  async () => {
    const table = tableFromIPC(readParquet(new Uint8Array(readFileSync(exported('verl')))).intoIPCStream());
    const parquetRows = table
      .toArray()
      .map((row) =>
        JSON.parse(
          JSON.stringify(row.toJSON(), (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)),
        ),
      ) as { data_source: string; reward_model: { ground_truth: string }; extra_info: Record<string, unknown> }[];
    const responses = ['    return a + b\n', JS_PRODUCT];
    const rows = [
      ...parquetRows.map((row, index) => ({ ...row, response: responses[index] })),
      // verl's own code ground truth, whose language only extra_info carries: TypeScript, not verl's default Python.
      {
        data_source: 'codecontests',
        response: TS_PRODUCT,
        reward_model: {
          style: 'rule',
          ground_truth: JSON.stringify({ inputs: ['2 3\n', '-4 5\n'], outputs: ['6\n', '-20\n'] }),
        },
        extra_info: { index: 2, language: 'typescript' },
      },
    ];
    for (const [manager, name] of [
      ['naive', 'compute_score'],
      ['batch', 'compute_score_batch'],
    ]) {
      const output = await callTrainer(
        'verl_call.py',
        [manager as string, join(ADAPTERS_DIR, 'verl.py'), name as string],
        {
          rows,
          reward_kwargs: { url, api_key: KEY, mode: 'fraction' },
        },
      );
      assert.deepEqual(
        (output.scores as { score: number; verdict: string; infra_error: boolean }[]).map((score) => [
          score.score,
          score.verdict,
          score.infra_error,
        ]),
        [
          [1, 'passed', false],
          [0, 'failed', false],
          [1, 'passed', false],
        ],
        `${manager}: ${JSON.stringify(output)}`,
      );
    }
  },
);

test(
  'OpenRLHF: prompts and labels from the exported JSONL, queries as prompt + response + end token',
  { skip },
  async () => {
    const lines = readFileSync(exported('openrlhf'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { input: unknown; label: string });
    // OpenRLHF applies the chat template to `input`; this stands in for a ChatML template.
    const template = (input: unknown): string =>
      typeof input === 'string'
        ? input
        : `<|im_start|>user\n${(input as { content: string }[])[0]?.content}<|im_end|>\n<|im_start|>assistant\n`;
    const samples = [
      { prompt: template(lines[0]?.input), response: '    return a + b\n', label: lines[0]?.label },
      { prompt: template(lines[1]?.input), response: JS_PRODUCT, label: lines[1]?.label },
    ].map((sample) => ({
      prompt: sample.prompt,
      query: `${sample.prompt}${sample.response}<|im_end|>`,
      label: sample.label,
    }));
    const output = await callTrainer('openrlhf_call.py', [join(ADAPTERS_DIR, 'openrlhf.py')], { samples }, env());
    assert.deepEqual(
      (output.results as { rewards: number[]; scores: number[] }[]).map((result) => [result.rewards, result.scores]),
      [
        [[1], [1]],
        [[0], [0]],
      ],
      JSON.stringify(output),
    );
  },
);

test('TRL on rows exported from an eval run: the row is the codeloop task the eval ran', { skip }, async () => {
  const examples = await loadDataset('examples');
  const fizzbuzz = examples.tasks.find((task) => task.id === 'examples/py/fizzbuzz');
  const run = join(scratch, 'eval-run');
  writeRunFolder(run, examples, [
    { taskId: 'examples/py/fizzbuzz', completion: fizzbuzz?.canonicalSolution ?? '', verdict: 'passed' },
  ]);
  const result = spawnSync(process.execPath, [bin, 'export', '--from', run, '--format', 'trl-grpo'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
  });
  assert.equal(result.status, 0, result.stderr);
  const [row] = result.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { prompt: string; row: string });
  const completions = [fizzbuzz?.canonicalSolution, '    return [str(i) for i in range(1, n + 1)]\n'];
  const output = await callTrainer(
    'trl_call.py',
    ['sync'],
    { prompts: [row?.prompt, row?.prompt], completions, columns: { row: [row?.row, row?.row] } },
    { ...env(), CODELOOP_REWARDS_MODE: 'binary' },
  );
  assert.deepEqual(output.rewards, [1, 0]);
});

test(
  'TRL on a JavaScript row exported from an eval run: the canonical solution the eval passed gets reward 1',
  { skip },
  async () => {
    const examples = await loadDataset('examples');
    const task = examples.tasks.find((candidate) => candidate.id === 'examples/js/rotate-right');
    const output = await callTrainer(
      'trl_call.py',
      ['sync'],
      { prompts: [task?.prompt], completions: [task?.canonicalSolution], columns: { row: [JSON.stringify({ task })] } },
      { ...env(), CODELOOP_REWARDS_MODE: 'binary' },
    );
    assert.deepEqual(output.rewards, [1], JSON.stringify(output.extra));
  },
);
