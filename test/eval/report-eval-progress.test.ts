// `codeloop eval` in a real pseudo-terminal (util-linux `script`): stderr is a TTY, so progress is a bar redrawn in
// place, while `--json` output on stdout (redirected to a file) stays one clean JSON object; and the run's report is
// written at the end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot } from './helpers.js';

const script = '/usr/bin/script';
const skip = noSandbox || (existsSync(script) ? false : `${script} (util-linux) is missing`);
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-eval-progress-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Quotes a word for sh. */
function quote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

test(
  'codeloop eval on a TTY: a live progress bar on stderr, --json on stdout untouched, report.html written',
  { skip, timeout: 120_000 },
  async () => {
    const dataset = await loadDataset('examples');
    const python = dataset.tasks.filter((task) => task.language === 'python');
    const samples = join(scratch, 'samples.jsonl');
    writeFileSync(
      samples,
      `${python.map((task, index) => JSON.stringify({ task_id: task.id, completion: index === 0 ? '    return []\n' : task.canonicalSolution })).join('\n')}\n`,
    );
    const out = join(scratch, 'out');
    const stdout = join(scratch, 'stdout.json');
    const command = [
      process.execPath,
      join(repositoryRoot(), 'bin', 'codeloop.js'),
      'eval',
      '--dataset',
      'examples',
      '--samples',
      samples,
      '--subset',
      '--out',
      out,
      '--json',
    ]
      .map(quote)
      .join(' ');
    const result = spawnSync(script, ['-qfec', `${command} > ${quote(stdout)}`, '/dev/null'], {
      encoding: 'utf8',
      timeout: 110_000,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'dumb' },
    });
    assert.equal(result.status, 0, result.stdout);
    // The terminal saw frames redrawn in place (\r … erase-to-end-of-line), ending with the finished bar.
    assert.match(result.stdout, /\rcodeloop eval: examples \[-+\] 0\/4 0% 0\.0\/s ETA -- 0 passed\u001b\[K/);
    assert.match(
      result.stdout,
      /\rcodeloop eval: examples \[#+\] 4\/4 100% \d+\.\d\/s ETA 0:00 3 passed\u001b\[K\r?\n/,
    );
    assert.doesNotMatch(result.stdout, /samples scored/, 'no plain progress lines on a TTY');
    assert.match(
      result.stdout,
      new RegExp(`codeloop eval: report: ${join(out, 'report.html').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
    );
    // stdout: exactly one JSON object and its newline.
    const text = readFileSync(stdout, 'utf8');
    assert.ok(text.endsWith('}\n') && text.indexOf('\n') === text.length - 1, JSON.stringify(text.slice(0, 200)));
    const metrics = JSON.parse(text) as { passAtK: Record<string, number> };
    assert.equal(metrics.passAtK['pass@1'], 0.75);
    assert.ok(existsSync(join(out, 'report.html')));
  },
);
