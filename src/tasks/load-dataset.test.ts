import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DATASET_NAMES } from './datasets.js';
import { canonicalDatasetName, loadDataset } from './load-dataset.js';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';

const shared = sharedDatasets();

test("the issue's dataset names are all known", () => {
  for (const name of [
    'humaneval',
    'humaneval+',
    'mbpp',
    'mbpp+',
    'multipl-e-humaneval-ts',
    'multipl-e-humaneval-js',
    'multipl-e-mbpp-ts',
    'multipl-e-mbpp-js',
    'humaneval-infilling-single',
    'humaneval-infilling-multi',
    'humaneval-infilling-random-span',
    'humaneval-infilling-random-span-light',
  ]) {
    assert.ok((DATASET_NAMES as string[]).includes(name), name);
  }
});

test('an unknown dataset name is a UsageError listing the known names', async () => {
  await assert.rejects(loadDataset('humaneval-x'), {
    name: 'UsageError',
    message:
      'Unknown dataset "humaneval-x". Did you mean humaneval? Known datasets: humaneval, humaneval+, humaneval+-originfmt, mbpp, mbpp-sanitized, mbpp+, mbpp+-originfmt, ' +
      'multipl-e-humaneval-ts, multipl-e-humaneval-js, multipl-e-mbpp-ts, multipl-e-mbpp-js, humaneval-infilling-single, humaneval-infilling-multi, ' +
      'humaneval-infilling-random-span, humaneval-infilling-random-span-light, safim-block, safim-control, safim-api, cweval-py, cweval-js, ' +
      'examples; ' +
      'or give the path of a .jsonl task file.',
  });
});

test('other spellings of a dataset name are accepted; a near miss suggests the name', async () => {
  assert.equal(canonicalDatasetName('HumanEval'), 'humaneval');
  assert.equal(canonicalDatasetName('HumanEvalPlus'), 'humaneval+');
  assert.equal(canonicalDatasetName('MBPP_Plus'), 'mbpp+');
  assert.equal(canonicalDatasetName('MultiPL-E-HumanEval-TS'), 'multipl-e-humaneval-ts');
  assert.equal(canonicalDatasetName('SAFIM block'), 'safim-block');
  assert.equal(canonicalDatasetName('nothing'), undefined);
  assert.equal((await loadDataset('Examples')).name, 'examples');
  await assert.rejects(loadDataset('humanevl'), {
    name: 'UsageError',
    message: /^Unknown dataset "humanevl"\. Did you mean humaneval\? /,
  });
  await assert.rejects(loadDataset('cifar10'), {
    name: 'UsageError',
    message: /^Unknown dataset "cifar10"\. Known datasets: /,
  });
});

test('a .jsonl path loads user tasks', async (t) => {
  const directory = mkdtempSync(join(tmpdir(), 'codeloop-load-dataset-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const path = join(directory, 'mine.jsonl');
  writeFileSync(path, '{"task_id": "t", "tests": "assert True"}\n');
  const loaded = await loadDataset(path);
  assert.equal(loaded.tasks.length, 1);
  assert.equal(loaded.tasks[0]?.dataset, path);
});

test('every named dataset loads from the data directory with the expected count', { skip: shared.skip }, async () => {
  const counts: Record<string, number> = {
    humaneval: 164,
    'humaneval+': 164,
    'humaneval+-originfmt': 164,
    mbpp: 974,
    'mbpp-sanitized': 427,
    'mbpp+': 378,
    'mbpp+-originfmt': 378,
    'multipl-e-humaneval-ts': 159,
    'multipl-e-humaneval-js': 161,
    'multipl-e-mbpp-ts': 390,
    'multipl-e-mbpp-js': 397,
    'humaneval-infilling-single': 1033,
    'humaneval-infilling-multi': 5815,
    'humaneval-infilling-random-span': 1640,
    'humaneval-infilling-random-span-light': 164,
    'safim-block': 805,
    'safim-control': 750,
    'safim-api': 310,
    'cweval-py': 25,
    'cweval-js': 23,
    examples: 12,
  };
  assert.deepEqual(Object.keys(counts), DATASET_NAMES);
  for (const name of DATASET_NAMES) {
    const loaded = await loadDataset(name, { dataDir: shared.dataDir });
    assert.equal(loaded.tasks.length, counts[name], name);
    assert.equal(new Set(loaded.tasks.map((task) => task.id)).size, loaded.tasks.length, `${name}: ids are unique`);
    assert.ok(loaded.tasks.every((task) => task.dataset === name));
  }
});
