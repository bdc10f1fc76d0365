import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot, sharedDatasets } from './helpers.js';

const bin = join(repositoryRoot(), 'bin', 'codeloop.js');
const { dataDir, skip: noData } = sharedDatasets();
const skip = noData || noSandbox;
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-eval-cli-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

function codeloop(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 300_000,
  });
}

test('eval --self-check humaneval: 164/164 canonical solutions pass, exit 0', { skip, timeout: 300_000 }, () => {
  const result = codeloop(['eval', '--self-check', 'humaneval', '--data-dir', dataDir]);
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /^humaneval: 164\/164 canonical solutions passed \(isolation /m);
});

test('eval: a malformed samples line is a usage error naming file:line (exit 2)', { skip: noData }, () => {
  const samples = join(scratch, 'bad.jsonl');
  writeFileSync(
    samples,
    '{"task_id": "HumanEval/0", "completion": "    pass\\n"}\n\n{"task_id": "HumanEval/1", "completion": \n',
  );
  const result = codeloop([
    'eval',
    '--dataset',
    'humaneval',
    '--samples',
    samples,
    '--data-dir',
    dataDir,
    '--out',
    join(scratch, 'bad-out'),
  ]);
  assert.equal(result.status, 2, result.stderr);
  assert.match(
    result.stderr,
    new RegExp(`codeloop eval: ${samples.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3: not valid JSON`),
  );
});

test('eval: an unknown task id is a usage error naming it (exit 2)', { skip: noData }, () => {
  const samples = join(scratch, 'unknown.jsonl');
  writeFileSync(samples, '{"task_id": "HumanEval/999", "completion": "    pass\\n"}\n');
  const result = codeloop([
    'eval',
    '--dataset',
    'humaneval',
    '--samples',
    samples,
    '--data-dir',
    dataDir,
    '--out',
    join(scratch, 'unknown-out'),
  ]);
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /unknown\.jsonl:1: task_id "HumanEval\/999" is not a task of this dataset/);
});

test(
  'eval --json: writes results, metrics and journal; SIGKILL mid-run then rerun gives the same metrics',
  { skip, timeout: 300_000 },
  async () => {
    // Every HumanEval task twice: its canonical solution and `pass` (328 samples, 328 programs, 164 passing).
    const dataset = await loadDataset('humaneval', { dataDir });
    const samples = join(scratch, 'samples.jsonl');
    const lines: string[] = [];
    for (const task of dataset.tasks) {
      lines.push(JSON.stringify({ task_id: task.id, completion: task.canonicalSolution }));
      lines.push(JSON.stringify({ task_id: task.id, completion: '    pass\n' }));
    }
    writeFileSync(samples, `${lines.join('\n')}\n`);
    const reference = codeloop([
      'eval',
      '--dataset',
      'humaneval',
      '--samples',
      samples,
      '--data-dir',
      dataDir,
      '--out',
      join(scratch, 'reference'),
      '--json',
      '--k',
      '1,2,10',
    ]);
    assert.equal(reference.status, 0, reference.stderr);
    const metrics = JSON.parse(reference.stdout) as {
      passAtK: Record<string, number>;
      verdicts: Record<string, number>;
      dataset: { files: { sha256: string }[] };
      codeloopVersion: string;
    };
    assert.deepEqual(Object.keys(metrics.passAtK), ['pass@1', 'pass@2']);
    assert.equal(
      Object.values(metrics.verdicts).reduce((sum, count) => sum + count, 0),
      328,
    );
    assert.equal(metrics.verdicts.passed, 164);
    assert.equal(metrics.passAtK['pass@1'], 0.5);
    assert.equal(metrics.dataset.files[0]?.sha256, 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef');
    assert.equal(metrics.codeloopVersion, '0.1.0');
    for (const name of ['samples.jsonl_results.jsonl', 'metrics.json', 'executions.jsonl'])
      assert.ok(existsSync(join(scratch, 'reference', name)), name);
    const results = readFileSync(join(scratch, 'reference', 'samples.jsonl_results.jsonl'), 'utf8')
      .trimEnd()
      .split('\n');
    assert.equal(results.length, 328);

    // Kill with SIGKILL once some executions are journaled, then rerun the same command.
    const out = join(scratch, 'killed');
    const args = [
      bin,
      'eval',
      '--dataset',
      'humaneval',
      '--samples',
      samples,
      '--data-dir',
      dataDir,
      '--out',
      out,
      '--json',
      '--k',
      '1,2,10',
    ];
    const child = spawn(process.execPath, args, {
      stdio: 'ignore',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    const journal = join(out, 'executions.jsonl');
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (!existsSync(journal) || readFileSync(journal, 'utf8').split('\n').length < 20))
      await sleep(20);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const partial = readFileSync(journal, 'utf8').split('\n').length - 1;
    assert.ok(partial >= 19 && partial < 328, `journal had ${partial} lines when killed`);
    const rerun = codeloop(args.slice(1));
    assert.equal(rerun.status, 0, rerun.stderr);
    const resumed = JSON.parse(rerun.stdout) as typeof metrics & { executions: { run: number; reused: number } };
    assert.deepEqual(resumed.passAtK, metrics.passAtK);
    assert.deepEqual(resumed.verdicts, metrics.verdicts);
    assert.equal(resumed.executions.run + resumed.executions.reused, 328);
    assert.ok(resumed.executions.reused >= partial - 1, `reused ${resumed.executions.reused}, journal had ${partial}`);
    assert.equal(readFileSync(journal, 'utf8').trimEnd().split('\n').length, 328);
  },
);

test('eval: samples for part of a benchmark are refused; --subset scores them and says "subset"', { skip }, () => {
  const samples = join(scratch, 'partial.jsonl');
  const lines: string[] = [];
  for (let task = 0; task < 5; task++)
    for (let sample = 0; sample < 2; sample++)
      lines.push(JSON.stringify({ task_id: `HumanEval/${task}`, completion: '    pass\n' }));
  writeFileSync(samples, `${lines.join('\n')}\n`);
  const base = ['eval', '--dataset', 'humaneval', '--samples', samples, '--data-dir', dataDir];
  const refused = codeloop([...base, '--out', join(scratch, 'partial-refused')]);
  assert.equal(refused.status, 2, refused.stderr);
  assert.match(refused.stderr, /has no samples for 159 of the 164 tasks of humaneval \(e\.g\. HumanEval\/5,/);
  assert.match(refused.stderr, /add --subset to score only the 5 task\(s\) that have samples/);
  assert.equal(existsSync(join(scratch, 'partial-refused', 'metrics.json')), false);

  const out = join(scratch, 'partial-subset');
  const subset = codeloop([...base, '--out', out, '--subset']);
  assert.equal(subset.status, 0, subset.stderr);
  assert.match(
    subset.stdout,
    /^humaneval \(subset: 5 of 164 tasks, the 5 with samples\): 10 samples, 5 tasks counted/m,
  );
  const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
  assert.deepEqual(metrics.subset, { tasks: 5, of: 164, selection: 'the 5 with samples' });
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<title>codeloop report: humaneval \(subset: 5 of 164/);

  // --limit picks the tasks instead: the samples of other tasks are left out, and the run is a subset.
  const limited = codeloop([...base, '--out', join(scratch, 'partial-limit'), '--limit', '3']);
  assert.equal(limited.status, 0, limited.stderr);
  assert.match(limited.stdout, /^humaneval \(subset: 3 of 164 tasks, the first 3\): 6 samples/m);
});

test('eval: an --out folder of another run is refused; report --data-dir WRONG keeps the good page', { skip }, () => {
  const out = join(scratch, 'one-run');
  const first = join(scratch, 'one-run-a.jsonl');
  const second = join(scratch, 'one-run-b.jsonl');
  writeFileSync(first, `${JSON.stringify({ task_id: 'HumanEval/0', completion: '    pass\n' })}\n`);
  writeFileSync(second, `${JSON.stringify({ task_id: 'HumanEval/0', completion: '    return True\n' })}\n`);
  const base = ['eval', '--dataset', 'humaneval', '--data-dir', dataDir, '--subset', '--out', out];
  assert.equal(codeloop([...base, '--samples', first]).status, 0);
  const metrics = readFileSync(join(out, 'metrics.json'), 'utf8');
  const report = readFileSync(join(out, 'report.html'), 'utf8');

  const other = codeloop([...base, '--samples', second]);
  assert.equal(other.status, 2, other.stderr);
  assert.match(other.stderr, /one-run belongs to another run: the samples differ \(that run scored .*one-run-a\.jsonl/);
  assert.match(other.stderr, /give this run its own --out/);
  const sanitized = codeloop([...base, '--samples', first, '--sanitize']);
  assert.equal(sanitized.status, 2, sanitized.stderr);
  assert.match(sanitized.stderr, /--sanitize differ \(false there, true now\)/);
  assert.equal(readFileSync(join(out, 'metrics.json'), 'utf8'), metrics);

  // The same samples again resume the run (nothing re-run).
  const again = codeloop([...base, '--samples', first]);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /executions: 0 run, 1 reused/);

  const wrong = codeloop(['report', out, '--data-dir', join(scratch, 'no-such-data')]);
  assert.equal(wrong.status, 2, wrong.stderr);
  assert.match(wrong.stderr, /Not replacing .*report\.html: it shows the run's programs, and this report could not/);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /<meta name="viewport"/);
  assert.doesNotMatch(readFileSync(join(out, 'report.html'), 'utf8'), /codeloop-programs-unavailable/);
  const forced = codeloop(['report', out, '--data-dir', join(scratch, 'no-such-data'), '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(readFileSync(join(out, 'report.html'), 'utf8'), /codeloop-programs-unavailable/);
  assert.notEqual(report, '');
});

test(
  'eval: Ctrl-C exits 130, and the same command without --out resumes in the same default folder',
  { skip, timeout: 120_000 },
  async () => {
    const cwd = join(scratch, 'interrupt-cwd');
    mkdirSync(cwd, { recursive: true });
    const samples = join(cwd, 'sleepy.jsonl');
    // Four programs that each sleep until the 3 s limit: the run is still scoring when SIGINT comes.
    const lines = [0, 1, 2, 3].map((task) =>
      JSON.stringify({ task_id: `HumanEval/${task}`, completion: '    import time\n    time.sleep(30)\n' }),
    );
    writeFileSync(samples, `${lines.join('\n')}\n`);
    const args = [bin, 'eval', '--dataset', 'humaneval', '--samples', samples, '--data-dir', dataDir, '--limit', '4'];
    const child = spawn(process.execPath, [...args, '--concurrency', '1'], {
      cwd,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !stderr.includes('codeloop eval')) await sleep(50);
    await sleep(1000);
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    const folder = /finished executions are in (.*)\/executions\.jsonl: rerun the same command to resume there/.exec(
      stderr,
    )?.[1];
    assert.ok(folder !== undefined, stderr);
    assert.match(folder, /codeloop-eval\/humaneval-sleepy\.jsonl-[0-9a-f]{8}-first4$/);
    const rerun = spawnSync(process.execPath, [...args, '--concurrency', '2'], {
      cwd,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 100_000,
    });
    assert.equal(rerun.status, 0, rerun.stderr);
    assert.match(rerun.stdout, new RegExp(`metrics: ${folder.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/metrics\\.json`));
  },
);

test(
  'eval: a samples line with a field nested millions deep is scored and written back; a rerun resumes (issue 13)',
  { skip: noSandbox, timeout: 120_000 },
  () => {
    const samples = join(scratch, 'deep.jsonl');
    const depth = 3_000_000;
    writeFileSync(
      samples,
      `{"task_id": "examples/py/fizzbuzz", "completion": "    return 1\\n", "deep": ${'['.repeat(depth)}${']'.repeat(depth)}}\n`,
    );
    const out = join(scratch, 'deep-out');
    for (const run of ['first', 'resumed']) {
      const result = codeloop(['eval', '--dataset', 'examples', '--samples', samples, '--subset', '--out', out]);
      assert.equal(result.status, 0, `${run} run: ${result.stderr}`);
      const [line] = readFileSync(join(out, 'deep.jsonl_results.jsonl'), 'utf8').split('\n');
      const written = JSON.parse(line ?? '') as Record<string, unknown>;
      assert.equal(written.task_id, 'examples/py/fizzbuzz');
      assert.equal(written.passed, false);
      assert.match(String(written.result), /^failed: /);
      assert.equal('deep' in written, false);
      assert.match(String(written.codeloop_note), /nested too deeply/);
    }
  },
);
