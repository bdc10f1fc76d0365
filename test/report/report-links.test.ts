import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeRunReport } from '../../src/cli/report.js';
import { loadDataset } from '../../src/tasks/index.js';
import { writeRunFolder } from './report-fixture.js';

// Issue 13, item 7: a crafted run folder must not make `codeloop report` print or embed a host file. The "host file"
// here is a secret in a folder of its own, standing in for /etc/shadow.
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-report-links-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const SECRET = 'codeloop-secret:$6$hash:19000:0:99999:7:::';
const hostFile = join(scratch, 'host', 'shadow');

async function runFolder(name: string): Promise<string> {
  mkdirSync(join(scratch, 'host'), { recursive: true });
  writeFileSync(hostFile, `${SECRET}\nbin:*:19000:0:99999:7:::\n`);
  const dir = join(scratch, name);
  const dataset = await loadDataset('examples');
  writeRunFolder(dir, dataset, [{ taskId: 'examples/py/fizzbuzz', completion: '    return 1\n', verdict: 'failed' }]);
  return dir;
}

async function outcome(dir: string): Promise<string> {
  try {
    const { path, warnings } = await writeRunReport(dir);
    return `${warnings.join('\n')}\n${readFileSync(path, 'utf8')}`;
  } catch (error) {
    return String((error as Error).message);
  }
}

test('report: a dataset file in metrics.json that links to a host file is neither followed nor quoted', async () => {
  const dir = await runFolder('dataset-file');
  const link = join(dir, 'tasks.jsonl');
  symlinkSync(hostFile, link);
  const metricsPath = join(dir, 'metrics.json');
  const metrics = JSON.parse(readFileSync(metricsPath, 'utf8'));
  metrics.dataset = { name: link, files: [{ path: link, sha256: '0'.repeat(64) }] };
  writeFileSync(metricsPath, JSON.stringify(metrics));
  const text = await outcome(dir);
  assert.ok(!text.includes('codeloop-secret'), `the host file was quoted:\n${text.slice(0, 2000)}`);
  assert.match(text, /programs are not shown/);
});

test('report: run files that link out of the run folder are refused, and errors quote no file contents', async () => {
  for (const file of ['metrics.json', 'executions.jsonl', 'samples.jsonl_results.jsonl']) {
    const dir = await runFolder(`run-file-${file}`);
    const target = join(dir, file);
    unlinkSync(target);
    symlinkSync(hostFile, target);
    const text = await outcome(dir);
    assert.ok(!text.includes('codeloop-secret'), `${file}: the host file was quoted:\n${text.slice(0, 2000)}`);
    assert.match(text, /is a link out of the run folder/, `${file}: ${text.slice(0, 300)}`);
  }
  // A run file that is not JSON is named, with where it breaks, never with what it holds.
  const dir = await runFolder('garbage');
  writeFileSync(join(dir, 'executions.jsonl'), `${SECRET}\n`);
  const text = await outcome(dir);
  assert.ok(!text.includes('codeloop-secret'), text);
  assert.match(text, /executions\.jsonl:1: journal line is not valid JSON/);
});
