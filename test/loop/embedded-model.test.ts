import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { probeIsolation } from '../../src/sandbox/index.js';

/**
 * The solve loop end to end with the embedded model (the shipped GGUF, or CODELOOP_EMBEDDED_MODEL's, through the
 * llama backend) on a small task set. It checks that every stage runs and records, not that the model solves the tasks.
 */
const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const modelPath = process.env.CODELOOP_EMBEDDED_MODEL ?? join(root, 'models', 'codeloop-embedded.gguf');
const skip =
  probeIsolation().level === null
    ? 'no OS sandbox on this machine'
    : !existsSync(modelPath)
      ? `no embedded model at ${modelPath}`
      : false;
const bin = join(root, 'bin', 'codeloop.js');

test(
  'codeloop solve --dataset examples with the embedded model: every run ends with a verdict and a log',
  { skip, timeout: 600_000 },
  () => {
    const out = mkdtempSync(join(tmpdir(), 'codeloop-embedded-'));
    try {
      const result = spawnSync(
        process.execPath,
        [
          bin,
          'solve',
          '--dataset',
          'examples',
          '--limit',
          '3',
          '--model',
          'embedded',
          '--strategy',
          'repair',
          '--max-attempts',
          '2',
          '--max-tokens',
          '128',
          '--out',
          out,
          '--json',
        ],
        {
          encoding: 'utf8',
          env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CODELOOP_EMBEDDED_MODEL: modelPath },
          timeout: 590_000,
        },
      );
      assert.equal(result.status, 0, result.stderr);
      const evaluation = JSON.parse(result.stdout) as {
        tasks: number;
        passRate: number;
        perTask: { runs: { programAttempts: number; tokens: number }[] }[];
      };
      assert.equal(evaluation.tasks, 3);
      assert.ok(evaluation.passRate >= 0 && evaluation.passRate <= 1);
      for (const task of evaluation.perTask) {
        assert.ok((task.runs[0]?.programAttempts ?? 0) >= 1 && (task.runs[0]?.programAttempts ?? 0) <= 2);
        assert.ok((task.runs[0]?.tokens ?? 0) > 0, 'the model was called');
      }
      const records = readFileSync(join(out, 'attempts.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map(
          (line) =>
            JSON.parse(line) as {
              kind: string;
              model: { provider: string; max_tokens: number } | null;
              completion: string;
              usage: { completion_tokens: number };
            },
        );
      assert.equal(records.filter((record) => record.kind === 'select').length, 3);
      const calls = records.filter((record) => record.model !== null);
      assert.ok(calls.every((record) => record.model?.provider === 'llama'));
      // --max-tokens reaches every call of the evaluation (it was dropped, and calls ran with 768).
      assert.deepEqual(new Set(calls.map((record) => record.model?.max_tokens)), new Set([128]));
      assert.ok(calls.every((record) => record.usage.completion_tokens <= 128));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  },
);
