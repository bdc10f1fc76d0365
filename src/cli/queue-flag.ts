// `--queue URL` for the commands that execute programs (eval, solve; rewards score/serve when they land): one place
// that opens either the local sandbox pool or a queue executor, and renders the queue's figures for progress lines.
import { existsSync, readFileSync } from 'node:fs';
import { CodeloopError, UsageError } from '../core/index.js';
import { QueueUnavailableError, createQueueExecutor, type QueueExecutor } from '../queue/index.js';
import { createExecutor, type Executor } from '../sandbox/index.js';

export const QUEUE_USAGE = `  --queue URL              send executions to a Redis job queue (redis://host:6379, rediss:// for TLS; password in
                           the URL or $CODELOOP_REDIS_PASSWORD) run by \`codeloop worker\` processes instead of the
                           local sandbox; --concurrency is then the programs in flight (default 64). See docs/scale-out.md`;

export const QUEUE_OPTION = { queue: { type: 'string' } } as const;

export interface OpenExecutorOptions {
  /** `--queue` URL; undefined for the local sandbox. */
  queue?: string | undefined;
  concurrency?: number | undefined;
  unsafe: boolean;
  /** Start of every message, e.g. "codeloop eval". */
  prefix: string;
  /** Print the --unsafe-no-sandbox warning (default true; false when the command printed its own). */
  warnUnsafe?: boolean;
}

/** The local sandbox pool, or with `queue` set a queue executor (never one in place of the other). */
export async function openExecutor(options: OpenExecutorOptions): Promise<Executor> {
  const { queue, concurrency, unsafe, prefix, warnUnsafe = true } = options;
  const warn = (message: string): void => {
    process.stderr.write(`${prefix}: warning: ${message}\n`);
  };
  if (queue !== undefined) {
    if (unsafe)
      throw new UsageError(
        '--unsafe-no-sandbox applies to the local sandbox; with --queue the workers decide (codeloop worker --unsafe-no-sandbox).',
      );
    const executor = await createQueueExecutor(queue, {
      ...(concurrency === undefined ? {} : { concurrency }),
      onWarning: warn,
    });
    process.stderr.write(`${prefix}: executions go to the queue at ${executor.url}\n`);
    return executor;
  }
  if (unsafe && warnUnsafe)
    process.stderr.write(
      `${prefix}: WARNING: --unsafe-no-sandbox: programs run with NO isolation, as your user, with your files and network.\n`,
    );
  return createExecutor({
    ...(concurrency === undefined ? {} : { concurrency }),
    isolation: unsafe ? 'unsafe-none' : 'auto',
    onWarning: warn,
  });
}

/** "queue 120 waiting, 8 active, 3 workers" for a queue executor; undefined for a local one or before figures exist. */
export function queueStatus(executor: Executor): string | undefined {
  const stats = (executor as Partial<QueueExecutor>).stats?.();
  if (stats === undefined) return undefined;
  return `queue ${stats.waiting} waiting, ${stats.active} active, ${stats.workers} worker${stats.workers === 1 ? '' : 's'}${stats.connected ? '' : ', REDIS LOST'}${stats.deadLettered > 0 ? `, ${stats.deadLettered} dead-lettered` : ''}`;
}

export interface JournalState {
  /** JSONL file of finished work; its lines are counted. */
  path: string;
  /** What one line is, plural, e.g. "finished executions". */
  what: string;
  /** How to continue, e.g. "rerun the same command with the same --out to resume". */
  resume: string;
}

/** A lost queue, restated with what is safe on disk (`journal`), so the message says what was kept. */
export function withJournalState(error: unknown, journal: JournalState | undefined): unknown {
  if (!(error instanceof QueueUnavailableError)) return error;
  let kept = 'nothing was journaled (this command keeps no journal)';
  if (journal !== undefined) {
    const lines = existsSync(journal.path)
      ? readFileSync(journal.path, 'utf8')
          .split('\n')
          .filter((line) => line.trim() !== '').length
      : 0;
    kept = `${lines} ${journal.what} are journaled in ${journal.path}; ${journal.resume}`;
  }
  return new CodeloopError('queue-unavailable', `${error.message}\n${kept}.`, { cause: error });
}
