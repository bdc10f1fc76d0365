/**
 * The README's offline command with the embedded model (a 256-token context): every HumanEval task must run, long
 * prompts keeping their end, and the run must say how many prompts were cut. Tasks 64:68 include HumanEval/66, whose
 * prompt alone is longer than the context.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { noSandbox, repositoryRoot, sharedDatasets } from '../eval/helpers.js';

const { dataDir, skip: noData } = sharedDatasets();
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-embedded-eval-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test(
  'eval --model embedded: prompts longer than the 256-token context keep their end; maxTokens defaults to 128',
  { skip: noData || noSandbox, timeout: 300_000 },
  () => {
    const out = join(scratch, 'run');
    const args = [
      'eval',
      '--model',
      'embedded',
      '--dataset',
      'humaneval',
      '--data-dir',
      dataDir,
      '--id-range',
      '64:68',
    ];
    const result = spawnSync(process.execPath, [join(repositoryRoot(), 'bin', 'codeloop.js'), ...args, '--out', out], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeout: 300_000,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.doesNotMatch(result.stderr, /context holds 256|maxTokens=\d+: only/);
    const lines = readFileSync(join(out, 'samples.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { task_id: string; max_tokens: number; truncated_prompt_tokens?: number });
    assert.deepEqual(
      lines.map((line) => line.task_id),
      ['HumanEval/64', 'HumanEval/65', 'HumanEval/66', 'HumanEval/67'],
    );
    assert.ok(lines.every((line) => line.max_tokens === 128));
    const cut = lines.filter((line) => (line.truncated_prompt_tokens ?? 0) > 0).length;
    assert.ok((lines.find((line) => line.task_id === 'HumanEval/66')?.truncated_prompt_tokens ?? 0) > 0);
    assert.match(result.stderr, new RegExp(`${cut} of 4 new sample\\(s\\) had their prompt's start cut to fit`));
    assert.match(result.stdout, new RegExp(`^  ${cut} of 4 samples were generated from a prompt cut to fit`, 'm'));
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { truncatedPrompts?: number };
    assert.equal(metrics.truncatedPrompts, cut);
  },
);
