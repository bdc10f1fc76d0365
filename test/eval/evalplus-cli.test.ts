// codeloop eval on an EvalPlus dataset through the CLI: base and plus scores, EvalPlus's eval_results.json, the
// ground-truth cache, resume, and self-check of base and plus inputs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noSandbox, repositoryRoot, sharedDatasets } from './helpers.js';

const bin = join(repositoryRoot(), 'bin', 'codeloop.js');
const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-evalplus-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function codeloop(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch },
    timeout: 600_000,
  });
}

test(
  'eval --dataset humaneval+: base and plus pass@1, eval_results.json as EvalPlus writes it, ground truth cached, rerun resumes',
  { skip, timeout: 300_000 },
  () => {
    const samples = join(scratch, 'samples.jsonl');
    const lines = [
      // HumanEval/53 add: right; HumanEval/2 truncate_number: right on base, wrong on plus inputs (int() drops the sign).
      { task_id: 'HumanEval/53', completion: '    return x + y\n' },
      { task_id: 'HumanEval/53', completion: '    return x - y\n' },
      {
        task_id: 'HumanEval/2',
        solution: 'def truncate_number(number):\n    return number - int(number) if number > 1 else number\n',
      },
    ];
    writeFileSync(samples, lines.map((line) => JSON.stringify(line)).join('\n'));
    const out = join(scratch, 'out');
    const first = codeloop([
      'eval',
      '--dataset',
      'humaneval+',
      '--samples',
      samples,
      '--subset',
      '--data-dir',
      dataDir,
      '--out',
      out,
      '--k',
      '1',
      '--json',
    ]);
    assert.equal(first.status, 0, first.stderr);
    const metrics = JSON.parse(first.stdout) as {
      passAtK: Record<string, number>;
      passAtKPlus: Record<string, number>;
      dataset: { dataDir: string };
    };
    // Task means: HumanEval/53 1/2, HumanEval/2 base 1/1 plus ?/1.
    assert.equal(metrics.passAtK['pass@1'], (0.5 + 1) / 2);
    const results = JSON.parse(readFileSync(join(out, 'eval_results.json'), 'utf8')) as {
      hash: string;
      eval: Record<
        string,
        {
          task_id: string;
          solution: string;
          base_status: string;
          plus_status: string;
          base_fail_tests: unknown[];
          plus_fail_tests: unknown[];
        }[]
      >;
      pass_at_k: { base: Record<string, number>; plus: Record<string, number> };
    };
    assert.match(results.hash, /^[0-9a-f]{32}$/);
    assert.deepEqual(Object.keys(results.eval).sort(), ['HumanEval/2', 'HumanEval/53']);
    const add = results.eval['HumanEval/53'] ?? [];
    assert.deepEqual(
      add.map((entry) => [entry.base_status, entry.plus_status]),
      [
        ['pass', 'pass'],
        ['fail', 'fail'],
      ],
    );
    assert.ok(
      add[0]?.solution.startsWith('\n\ndef add(x: int, y: int):') || add[0]?.solution.includes('def add('),
      'solution is prompt + completion',
    );
    assert.equal(add[1]?.base_fail_tests.length, 1, 'the failing base input is named');
    const truncate = results.eval['HumanEval/2']?.[0];
    assert.equal(truncate?.base_status, 'pass');
    assert.equal(truncate?.plus_status, 'fail');
    assert.equal(results.pass_at_k.plus['pass@1'], metrics.passAtKPlus['pass@1']);
    assert.equal(metrics.passAtKPlus['pass@1'], (0.5 + 0) / 2);
    assert.equal(metrics.dataset.dataDir, dataDir);
    const cache = join(scratch, '.cache', 'codeloop', 'evalplus-ground-truth');
    assert.equal(
      readdirSync(cache).filter((name) => name.endsWith('.json')).length,
      2,
      'one cached ground truth per task',
    );

    const second = codeloop([
      'eval',
      '--dataset',
      'humaneval+',
      '--samples',
      samples,
      '--subset',
      '--data-dir',
      dataDir,
      '--out',
      out,
      '--k',
      '1',
      '--json',
    ]);
    assert.equal(second.status, 0, second.stderr);
    const again = JSON.parse(second.stdout) as {
      executions: { run: number; reused: number };
      passAtKPlus: Record<string, number>;
    };
    assert.deepEqual(again.executions, { run: 0, reused: 3 });
    assert.deepEqual(again.passAtKPlus, metrics.passAtKPlus);
  },
);

test(
  'eval --self-check humaneval+: every canonical solution passes base and plus inputs',
  { skip, timeout: 600_000 },
  () => {
    const result = codeloop(['eval', '--self-check', 'humaneval+', '--data-dir', dataDir]);
    assert.equal(result.status, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /^humaneval\+: 164\/164 canonical solutions passed/m);
  },
);
