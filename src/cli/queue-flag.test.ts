import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CodeloopError, UsageError } from '../core/index.js';
import { QueueUnavailableError, type QueueStats } from '../queue/index.js';
import type { Executor } from '../sandbox/index.js';
import { openExecutor, queueStatus, withJournalState } from './queue-flag.js';

test('withJournalState: a lost queue is restated with the journal line count and how to resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'codeloop-queue-flag-'));
  try {
    const journal = join(dir, 'executions.jsonl');
    writeFileSync(journal, '{"a":1}\n{"a":2}\n\n');
    const lost = new QueueUnavailableError('redis://h:1', 'Lost Redis at redis://h:1 for 31.0 s (grace period 30 s).');
    const error = withJournalState(lost, { path: journal, what: 'finished executions', resume: 'rerun to resume' });
    assert.ok(error instanceof CodeloopError);
    assert.equal(
      (error as Error).message,
      `Lost Redis at redis://h:1 for 31.0 s (grace period 30 s).\n2 finished executions are journaled in ${journal}; rerun to resume.`,
    );
    const other = new Error('not a queue problem');
    assert.equal(withJournalState(other, undefined), other);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('queueStatus: depth and workers for a queue executor, nothing for a local one', () => {
  const local = { isolation: 'none', concurrency: 1 } as unknown as Executor;
  assert.equal(queueStatus(local), undefined);
  let stats: QueueStats | undefined;
  const queued = { ...local, stats: () => stats } as unknown as Executor;
  assert.equal(queueStatus(queued), undefined);
  stats = { waiting: 12, active: 4, deadLettered: 0, workers: 3, pending: 16, connected: true };
  assert.equal(queueStatus(queued), 'queue 12 waiting, 4 active, 3 workers');
  stats = { waiting: 1, active: 0, deadLettered: 2, workers: 1, pending: 1, connected: false };
  assert.equal(queueStatus(queued), 'queue 1 waiting, 0 active, 1 worker, REDIS LOST, 2 dead-lettered');
});

test('openExecutor: --unsafe-no-sandbox with --queue is a usage error (the workers decide)', async () => {
  await assert.rejects(
    openExecutor({ queue: 'redis://127.0.0.1:1', unsafe: true, prefix: 'codeloop eval' }),
    (error: unknown) => error instanceof UsageError && /with --queue the workers decide/.test(error.message),
  );
});
