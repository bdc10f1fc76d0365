import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { DATASETS } from './datasets.js';
import { loadDataset } from './load-dataset.js';
import {
  loadSafim,
  postProcessSafimCompletion,
  SAFIM_PROMPT_PLACEHOLDERS,
  type SafimDatasetName,
  type SafimLanguage,
} from './safim.js';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';
import { buildProgram, type Task } from './task.js';

const shared = sharedDatasets();

/** Records of a SAFIM file as JSON.parse reads them (no loader involved). */
function rawRecords(file: string): Record<string, unknown>[] {
  const text = gunzipSync(readFileSync(join(shared.dataDir, 'safim', file))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The config a generated program embeds (base64 JSON), decoded. */
function embeddedConfig(program: string): Record<string, unknown> {
  const match = /base64\.b64decode\("([A-Za-z0-9+/=]*)"\)/.exec(program);
  assert.ok(match?.[1] !== undefined, 'the program embeds no config');
  return JSON.parse(Buffer.from(match[1], 'base64').toString('utf8')) as Record<string, unknown>;
}

const FILES: [SafimDatasetName, string, Record<SafimLanguage, number>][] = [
  ['safim-block', 'block_completion.jsonl.gz', { cpp: 4968, java: 2479, python: 805, csharp: 529 }],
  ['safim-control', 'control_completion.jsonl.gz', { cpp: 4881, java: 2464, python: 750, csharp: 534 }],
  ['safim-api', 'api_completion.jsonl.gz', { python: 181, java: 56, cpp: 52, csharp: 21 }],
];

test('SAFIM: pinned sha256 of the shared files, and per-language counts as in SOURCE.md', { skip: shared.skip }, () => {
  for (const [name, file, counts] of FILES) {
    const bytes = readFileSync(join(shared.dataDir, 'safim', file));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), DATASETS[name].files[0]?.sha256, name);
    const perLanguage: Record<string, number> = {};
    for (const record of rawRecords(file))
      perLanguage[String(record['lang'])] = (perLanguage[String(record['lang'])] ?? 0) + 1;
    assert.deepEqual(perLanguage, counts, name);
  }
});

test(
  'safim-block and safim-control load the Python records, and count the others as omitted with the reason',
  { skip: shared.skip },
  async () => {
    for (const [name, , counts] of FILES.slice(0, 2)) {
      const dataset = await loadDataset(name);
      assert.equal(dataset.tasks.length, counts.python, name);
      assert.ok(
        dataset.tasks.every(
          (task) => task.sourceLanguage === 'python' && task.layout === 'io-tests' && task.language === 'python',
        ),
      );
      assert.deepEqual(dataset.omitted?.map(({ language, count }) => [language, count]).sort(), [
        ['cpp', counts.cpp],
        ['csharp', counts.csharp],
        ['java', counts.java],
      ]);
      assert.match(
        dataset.omitted?.[0]?.reason ?? '',
        /judged by compiling and running it \(ExecEval\), which codeloop cannot do/,
      );
      assert.equal(dataset.files[0]?.sha256, DATASETS[name].files[0]?.sha256);
    }
  },
);

test('safim-api loads every record (all four languages), scored by syntax match', { skip: shared.skip }, async () => {
  const dataset = await loadDataset('safim-api');
  assert.equal(dataset.tasks.length, 310);
  assert.equal(dataset.omitted, undefined);
  const perLanguage: Record<string, number> = {};
  for (const task of dataset.tasks)
    perLanguage[task.sourceLanguage ?? ''] = (perLanguage[task.sourceLanguage ?? ''] ?? 0) + 1;
  assert.deepEqual(perLanguage, FILES[2]?.[2]);
  assert.ok(
    dataset.tasks.every(
      (task) => task.layout === 'syntax-match' && task.language === 'python' && task.ioTests === undefined,
    ),
  );
  const python = await loadSafim('safim-api', { languages: ['python'] });
  assert.equal(python.tasks.length, 181);
  assert.deepEqual(
    python.omitted?.map(({ language, count }) => [language, count]),
    [
      ['cpp', 52],
      ['java', 56],
      ['csharp', 21],
    ],
  );
});

test(
  'SAFIM tasks: prompt + placeholder + suffix is the record prompt; the program fills eval_prompt',
  { skip: shared.skip },
  async () => {
    for (const [name, file] of FILES) {
      const records = new Map(rawRecords(file).map((record) => [String(record['task_id']), record]));
      const dataset = await loadDataset(name);
      for (const task of dataset.tasks) {
        const record = records.get(task.id);
        assert.ok(record, `${task.id} is not in ${file}`);
        const language = task.sourceLanguage as SafimLanguage;
        assert.equal(task.prompt + SAFIM_PROMPT_PLACEHOLDERS[language] + task.suffix, record['prompt'], task.id);
        assert.equal(task.canonicalSolution, record['ground_truth']);
        assert.deepEqual(task.stopSequences, []);
        assert.equal(task.harness, 'exit-code');
        const completion = String(record['ground_truth']);
        // SAFIM: problem['eval_prompt'].replace("{{completion}}", completion['completion'])
        const filled = String(record['eval_prompt']).split('{{completion}}').join(completion);
        const config = embeddedConfig(buildProgram(task, completion));
        if (task.layout === 'io-tests') {
          assert.equal(config['program'], filled, task.id);
          const tests = record['unit_tests'] as { input: string; output: string[] }[];
          assert.deepEqual(
            config['cases'],
            tests.map((unit) => ({ input: unit.input, outputs: unit.output })),
            task.id,
          );
          assert.equal(config['timeoutMs'], 6000);
          assert.deepEqual(task.limits, { wallMs: 10_000 + tests.length * 7_000 + 2_000, memoryMiB: 2304 });
        } else {
          assert.deepEqual(config, { completion, reference: completion, language, program: filled }, task.id);
        }
      }
    }
  },
);

test('SAFIM: a completion with $& and {{completion}} in it is inserted verbatim', { skip: shared.skip }, async () => {
  const [task] = (await loadDataset('safim-control')).tasks;
  assert.ok(task?.template);
  const completion = '"$&$1{{completion}}" in graph[i]:';
  const config = embeddedConfig(buildProgram(task, completion));
  assert.equal(
    config['program'],
    task.template.text.replace('{{completion}}', () => completion),
  );
});

test('safim-block refuses Java, C++ and C#, naming why and what to do', async () => {
  await assert.rejects(loadSafim('safim-block', { languages: ['python', 'java'], dataDir: '/nonexistent' }), {
    name: 'UsageError',
    message:
      'safim-block cannot load java tasks: SAFIM judges them by compiling and running them (ExecEval), which codeloop cannot do. ' +
      'Load python only (the default); Java, C++ and C# are scored in safim-api, by syntax match.',
  });
  await assert.rejects(loadSafim('safim-api', { languages: ['go' as SafimLanguage] }), {
    name: 'UsageError',
    message: 'Unknown SAFIM language "go": use cpp, java, python, csharp.',
  });
});

function safimTask(
  dataset: string,
  sourceLanguage: Task['sourceLanguage'],
): Pick<Task, 'dataset' | 'sourceLanguage' | 'language'> {
  return { dataset, sourceLanguage, language: 'python' };
}

test('postProcessSafimCompletion: truncate_control and truncate_api_call as in safim prompt_utils.py; block unchanged', () => {
  const pythonControl = safimTask('safim-control', 'python');
  assert.equal(postProcessSafimCompletion(pythonControl, '\n  \n i < n:\n        x += 1\n'), ' i < n:');
  assert.equal(postProcessSafimCompletion(pythonControl, 'a\r\nb'), 'a');
  assert.equal(postProcessSafimCompletion(pythonControl, ' \t\x1c\n'), '');
  const javaControl = safimTask('safim-control', 'java');
  assert.equal(postProcessSafimCompletion(javaControl, 'f(i) < n) {\n  x++;'), 'f(i) < n');
  assert.equal(postProcessSafimCompletion(javaControl, 'i < n'), 'i < n');
  const api = safimTask('safim-api', 'python');
  assert.equal(postProcessSafimCompletion(api, 'np.sum(a, axis=f(0)))\nprint(x)'), 'np.sum(a, axis=f(0))');
  assert.equal(postProcessSafimCompletion(api, ')x'), ')');
  assert.equal(postProcessSafimCompletion(api, 'np.sum(a'), 'np.sum(a');
  const block = safimTask('safim-block', 'python');
  assert.equal(postProcessSafimCompletion(block, 'x = 1\n    y = 2\nprint(3)\n'), 'x = 1\n    y = 2\nprint(3)\n');
  assert.throws(() => postProcessSafimCompletion(safimTask('humaneval', 'python'), 'x'), {
    name: 'UsageError',
    message: 'Task of dataset "humaneval" is not a SAFIM task: use it with safim-block, safim-control, safim-api.',
  });
});
