import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeRunFolder } from '../../test/report/report-fixture.js';
import { loadDataset } from '../tasks/index.js';
import { incompleteScoreNote } from './write-eval-outputs.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-report-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('metrics.json: infra-errors are counted beside pass@k, and the score is marked incomplete', async () => {
  const dataset = await loadDataset('examples');
  const [first, second] = dataset.tasks;
  const dir = join(scratch, 'infra');
  writeRunFolder(dir, dataset, [
    { taskId: first!.id, completion: 'a', verdict: 'passed' },
    { taskId: second!.id, completion: 'b', verdict: 'passed' },
    { taskId: second!.id, completion: 'c', verdict: 'infra-error' },
  ]);
  const metrics = JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8'));
  assert.equal(metrics.complete, false);
  assert.deepEqual(metrics.infraErrors, { samples: 1, tasks: 1 });
  assert.deepEqual(metrics.tasks, { scored: 2, counted: 1 });
  assert.equal(
    incompleteScoreNote(metrics),
    "INCOMPLETE: pass@k leaves out 1 of 2 task(s) on which the sandbox failed (infra-error on 1 sample(s)); it is not the dataset's score. Rerun with the same --out to retry them.",
  );
  const clean = join(scratch, 'clean');
  writeRunFolder(clean, dataset, [{ taskId: first!.id, completion: 'a', verdict: 'passed' }]);
  const complete = JSON.parse(readFileSync(join(clean, 'metrics.json'), 'utf8'));
  assert.equal(complete.complete, true);
  assert.deepEqual(complete.infraErrors, { samples: 0, tasks: 0 });
  assert.equal(incompleteScoreNote(complete), undefined);
});
