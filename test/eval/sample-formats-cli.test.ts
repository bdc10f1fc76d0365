// `codeloop eval` on the `examples` dataset (no data directory needed) with the other sample formats and --sanitize,
// through the real sandbox.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { loadExamples } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot } from './helpers.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-sample-formats-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Metrics {
  passAtK: Record<string, number>;
  verdicts: Record<string, number>;
  samples: number;
}

function evalExamples(
  samples: string,
  out: string,
  ...flags: string[]
): { metrics: Metrics; results: Record<string, unknown>[] } {
  const result = spawnSync(
    process.execPath,
    [
      join(repositoryRoot(), 'bin', 'codeloop.js'),
      'eval',
      '--dataset',
      'examples',
      '--samples',
      samples,
      '--subset',
      '--out',
      join(scratch, out),
      '--json',
      ...flags,
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 170_000,
    },
  );
  assert.equal(result.status, 0, result.stderr);
  const name = `${samples
    .split('/')
    .filter((part) => part !== '')
    .at(-1)}_results.jsonl`;
  const results = readFileSync(join(scratch, out, name), 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  return { metrics: JSON.parse(result.stdout) as Metrics, results };
}

// What chat models answer: prose, a fenced block, usage code that would fail before (or instead of) the tests.
const CHAT_ANSWERS = [
  {
    task_id: 'examples/py/fizzbuzz',
    completion: [
      'Here is a straightforward implementation:',
      '',
      '```python',
      'def fizzbuzz(n: int) -> list[str]:',
      '    out = []',
      '    for i in range(1, n + 1):',
      '        out.append("FizzBuzz" if i % 15 == 0 else "Fizz" if i % 3 == 0 else "Buzz" if i % 5 == 0 else str(i))',
      '    return out',
      '',
      '',
      'if __name__ == "__main__":',
      '    print(fizzbuzz(int(input("n: "))))',
      '```',
      '',
      'Each number is checked against 15 first so that multiples of both print "FizzBuzz".',
    ].join('\n'),
  },
  {
    // A base model: the right body, then it keeps going with a top-level call that reads stdin.
    task_id: 'examples/py/to-roman',
    completion:
      '    out = ""\n    for value, symbol in [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]:\n        while n >= value:\n            out += symbol\n            n -= value\n    return out\n\n\nprint(to_roman(int(input())))\n',
  },
  {
    task_id: 'examples/js/rotate-right',
    completion: [
      '```javascript',
      'export function rotateRight(arr, k) {',
      '  if (arr.length === 0) return [];',
      '  const s = k % arr.length;',
      '  return [...arr.slice(arr.length - s), ...arr.slice(0, arr.length - s)];',
      '}',
      '',
      'console.log(rotateRight([1, 2, 3], 1));',
      '```',
    ].join('\n'),
  },
  {
    task_id: 'examples/ts/median',
    completion: [
      'Sure! Sort a copy, then pick the middle:',
      '```ts',
      "const assert = require('assert');",
      '',
      'export function median(xs: number[]): number {',
      '  const s = [...xs].sort((a, b) => a - b);',
      '  const m = s.length >> 1;',
      '  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;',
      '}',
      '',
      'assert.equal(median([1, 2, 3]), 2);',
      '```',
    ].join('\n'),
  },
];

test(
  'eval --sanitize: chat answers and a run-on completion fail as given and pass once sanitized; results keep the raw text',
  { skip: noSandbox, timeout: 180_000 },
  () => {
    const samples = join(scratch, 'chat.jsonl');
    writeFileSync(samples, CHAT_ANSWERS.map((answer) => JSON.stringify(answer)).join('\n') + '\n');
    const raw = evalExamples(samples, 'chat-raw');
    assert.equal(raw.metrics.verdicts.passed, 0, JSON.stringify(raw.results.map((line) => line.result)));
    const sanitized = evalExamples(samples, 'chat-sanitized', '--sanitize');
    assert.deepEqual(
      sanitized.results.map((line) => line.result),
      ['passed', 'passed', 'passed', 'passed'],
    );
    assert.deepEqual(sanitized.metrics.passAtK, { 'pass@1': 1 });
    const [fizzbuzz, roman] = sanitized.results;
    assert.equal(fizzbuzz?.raw_completion, CHAT_ANSWERS[0]?.completion);
    assert.equal(fizzbuzz?.completion, undefined, 'scored as a whole solution, so the record says "solution"');
    assert.match(String(fizzbuzz?.solution), /^def fizzbuzz\(n: int\) -> list\[str\]:\n[\s\S]*    return out\n$/);
    assert.equal(roman?.completion, String(CHAT_ANSWERS[1]?.completion).split('\nprint(')[0]);
  },
);

test(
  'eval --samples DIR: an EvalPlus folder (TASK/N.py) and a MultiPL-E completions folder',
  { skip: noSandbox, timeout: 180_000 },
  async () => {
    const { tasks } = await loadExamples();
    const task = (id: string) => tasks.find((candidate) => candidate.id === id) ?? assert.fail(id);
    const fizzbuzz = task('examples/py/fizzbuzz');
    const bisect = task('examples/py/bisect-left');
    // EvalPlus: whole solutions (prompt + completion), folders named after the id with "/" as "_".
    const evalplus = join(scratch, 'evalplus');
    for (const [folder, files] of [
      [
        'examples_py_fizzbuzz',
        { '0.py': fizzbuzz.prompt + (fizzbuzz.canonicalSolution ?? ''), '1.py': `${fizzbuzz.prompt}    return []\n` },
      ],
      ['examples_py_bisect-left', { '0.py': bisect.prompt + (bisect.canonicalSolution ?? '') }],
    ] as const) {
      mkdirSync(join(evalplus, folder), { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(evalplus, folder, name), text);
    }
    const fromEvalPlus = evalExamples(evalplus, 'evalplus-out');
    assert.equal(fromEvalPlus.metrics.samples, 3);
    assert.deepEqual(
      fromEvalPlus.results.map((line) => [line.task_id, line.passed]),
      [
        ['examples/py/fizzbuzz', true],
        ['examples/py/fizzbuzz', false],
        ['examples/py/bisect-left', true],
      ],
    );
    assert.deepEqual(fromEvalPlus.metrics.passAtK, { 'pass@1': (0.5 + 1) / 2 });

    // MultiPL-E: one file per problem, completions continue the prompt; results files beside them are skipped.
    const multiplE = join(scratch, 'multipl-e');
    mkdirSync(multiplE);
    const sumRange = task('examples/js/sum-range');
    const pascal = task('examples/ts/pascal-row');
    const problem = (id: string, completions: string[]) =>
      JSON.stringify({
        name: id,
        language: id.split('/')[1],
        prompt: task(id).prompt,
        tests: task(id).tests,
        stop_tokens: task(id).stopSequences,
        completions,
      });
    writeFileSync(
      join(multiplE, 'sum-range.json'),
      problem(sumRange.id, [sumRange.canonicalSolution ?? '', '  return b - a;\n}\n']),
    );
    writeFileSync(join(multiplE, 'pascal-row.json.gz'), gzipSync(problem(pascal.id, [pascal.canonicalSolution ?? ''])));
    writeFileSync(join(multiplE, 'pascal-row.results.json.gz'), gzipSync('{"results": []}'));
    const fromMultiplE = evalExamples(multiplE, 'multipl-e-out');
    assert.deepEqual(
      fromMultiplE.results.map((line) => [line.task_id, line.passed]),
      [
        ['examples/ts/pascal-row', true],
        ['examples/js/sum-range', true],
        ['examples/js/sum-range', false],
      ],
    );
  },
);

test('eval: a MultiPL-E file for a problem the dataset lacks is a usage error naming the file (exit 2)', () => {
  const folder = join(scratch, 'multipl-e-wrong');
  mkdirSync(folder);
  writeFileSync(
    join(folder, 'HumanEval_0_has_close_elements.json'),
    JSON.stringify({ name: 'HumanEval_0_has_close_elements', completions: ['x'] }),
  );
  const result = spawnSync(
    process.execPath,
    [
      join(repositoryRoot(), 'bin', 'codeloop.js'),
      'eval',
      '--dataset',
      'examples',
      '--samples',
      folder,
      '--subset',
      '--out',
      join(scratch, 'wrong-out'),
    ],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    },
  );
  assert.equal(result.status, 2, result.stderr);
  assert.match(
    result.stderr,
    /HumanEval_0_has_close_elements\.json: problem "name" "HumanEval_0_has_close_elements" is not a task of this dataset; check --dataset/,
  );
});

test('eval --self-check with --sanitize is a usage error (exit 2)', () => {
  const result = spawnSync(
    process.execPath,
    [join(repositoryRoot(), 'bin', 'codeloop.js'), 'eval', '--self-check', 'examples', '--sanitize'],
    { encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
  );
  assert.equal(result.status, 2, result.stderr);
  assert.match(result.stderr, /--sanitize cleans model samples; canonical solutions are scored as they are/);
});
