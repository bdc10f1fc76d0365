import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import { REDIS_URL_ENV, inspectQueue, startQueueWorker } from '../queue/index.js';
import { createExecutor } from '../sandbox/index.js';
import { numberFlag } from './flags.js';
import type { Command } from './command.js';

const usage = `Usage: codeloop worker --redis URL [--concurrency N] [options]
       codeloop worker --redis URL --dead-letters [--limit N]

Takes execution jobs from the Redis queue that \`codeloop eval|solve --queue URL\` fill, and runs each in this
machine's sandbox exactly as a local run would (same limits, harnesses and verdicts). Run one per machine; stop it
with Ctrl-C or SIGTERM (jobs in progress finish and are delivered first). A worker killed outright loses nothing: its
jobs go to another worker after the stall timeout. See docs/scale-out.md.

URL is redis://[user:password@]host[:port][/db], or rediss://… for TLS; the password may instead be in
$CODELOOP_REDIS_PASSWORD (kept out of the process list). Default URL: $${REDIS_URL_ENV}.

Options:
  --redis URL              the queue's Redis
  --concurrency N          sandboxes on this machine (default: the number of CPU cores)
  --stall-timeout MS       lock time of a job; a dead worker's jobs are taken over within about 1.5 × this
                           (default 30000)
  --max-result-bytes N     largest result sent back; stdout/stderr are cut to fit (default 524288)
  --queue-name NAME        BullMQ queue name (default codeloop-executions)
  --dead-letters           list the newest dead-lettered jobs with their reasons, then exit
  --limit N                with --dead-letters: how many (default 20)
  --unsafe-no-sandbox      run programs with NO OS isolation (only on a throw-away machine)`;

function line(text: string): void {
  process.stderr.write(`codeloop worker: ${new Date().toISOString()} ${text}\n`);
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'run execution jobs from a Redis queue in this machine sandbox (scale-out)',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: {
        redis: { type: 'string' },
        concurrency: { type: 'string' },
        'stall-timeout': { type: 'string' },
        'max-result-bytes': { type: 'string' },
        'queue-name': { type: 'string' },
        'dead-letters': { type: 'boolean', default: false },
        limit: { type: 'string' },
        'unsafe-no-sandbox': { type: 'boolean', default: false },
      },
    });
    const url = values.redis ?? process.env[REDIS_URL_ENV];
    if (url === undefined || url === '')
      throw new UsageError(
        `--redis is missing: give the queue's Redis URL (redis://host:6379) or set ${REDIS_URL_ENV}.`,
      );
    const queueName = values['queue-name'];
    if (values['dead-letters']) {
      const limit = numberFlag('--limit', values.limit, { integer: true, min: 1, max: 10_000 }) ?? 20;
      const inspection = await inspectQueue(url, {
        deadLetterLimit: limit,
        ...(queueName === undefined ? {} : { queueName }),
      });
      const lines = [`${inspection.url}: ${inspection.deadLettered} dead-lettered job(s)`];
      for (const letter of inspection.deadLetters)
        lines.push(
          `  ${letter.jobId.slice(0, 16)} ${letter.language} ${letter.codeBytes} B, ${letter.attemptsMade} tries, ` +
            `${letter.finishedAt === null ? '' : new Date(letter.finishedAt).toISOString()}: ${letter.reason}`,
        );
      process.stdout.write(`${lines.join('\n')}\n`);
      return 0;
    }
    const concurrency = numberFlag('--concurrency', values.concurrency, { integer: true, min: 1, max: 256 });
    const stallTimeoutMs = numberFlag('--stall-timeout', values['stall-timeout'], { integer: true, min: 500 });
    const maxResultBytes = numberFlag('--max-result-bytes', values['max-result-bytes'], {
      integer: true,
      min: 4096,
    });
    if (values['unsafe-no-sandbox'])
      line('WARNING: --unsafe-no-sandbox: programs from the queue run with NO isolation, as this user.');
    const executor = await createExecutor({
      ...(concurrency === undefined ? {} : { concurrency }),
      isolation: values['unsafe-no-sandbox'] ? 'unsafe-none' : 'auto',
      onWarning: (message) => line(`warning: ${message}`),
    });
    let worker;
    try {
      worker = await startQueueWorker(url, executor, {
        ...(queueName === undefined ? {} : { queueName }),
        ...(stallTimeoutMs === undefined ? {} : { stallTimeoutMs }),
        ...(maxResultBytes === undefined ? {} : { maxResultBytes }),
        onEvent: line,
      });
    } catch (error) {
      await executor.close();
      throw error;
    }
    line(
      `ready: ${worker.url}, ${executor.concurrency} sandbox(es), isolation ${executor.isolation}, pid ${process.pid}`,
    );
    const running = worker;
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) {
          line(`${signal} again: exiting now; jobs in progress go to other workers after the stall timeout`);
          process.exit(130);
        }
        stopping = true;
        line(`${signal}: finishing the jobs in progress (send it again to exit at once)`);
        resolve();
      };
      process.on('SIGINT', () => stop('SIGINT'));
      process.on('SIGTERM', () => stop('SIGTERM'));
    });
    await running.close();
    await executor.close();
    const { completed, failed } = running.counts();
    line(`stopped: ${completed} job(s) done, ${failed} failed try(s)`);
    return 0;
  },
};
