import { hostname } from 'node:os';
import { UnrecoverableError, Worker } from 'bullmq';
import { UsageError } from '../core/index.js';
import type { Executor } from '../sandbox/index.js';
import { parseRedisUrl } from './connection.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_QUEUE_NAME,
  fitResult,
  jobBytes,
  parseJob,
  type ExecutionJob,
} from './protocol.js';

export interface QueueWorkerOptions {
  /** BullMQ queue name; must match the producers'. Default `codeloop-executions`. */
  queueName?: string;
  /**
   * Jobs held at once. Default: twice the executor's concurrency (its sandboxes take a second job in their pipe, so
   * they never idle between results).
   */
  concurrency?: number;
  /**
   * How long a job's lock lives without renewal (ms), so how soon a job of a killed worker goes to another one: within
   * about 1.5 × this. Renewed every half of it while the job runs. Default 30000.
   */
  stallTimeoutMs?: number;
  /** Times a job may stall (its worker died holding it) before it is dead-lettered. Default 2. */
  maxStalls?: number;
  /** Largest job accepted (bytes of JSON); a larger one is dead-lettered unrun. Default 4 MiB. */
  maxPayloadBytes?: number;
  /** Largest result sent back (bytes of JSON); stdout/stderr are cut from the front to fit. Default 512 KiB. */
  maxResultBytes?: number;
  /** Environment for CODELOOP_REDIS_PASSWORD; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** One line per event worth a person's attention (Redis lost, a job retried or dead-lettered). */
  onEvent?: (message: string) => void;
}

export interface QueueWorker {
  /** The Redis URL, password redacted. */
  readonly url: string;
  /** Jobs finished (any verdict) and jobs that threw (infra errors and refusals), since start. */
  counts(): { completed: number; failed: number };
  /** Stops taking jobs, waits for the ones running to finish (their results are delivered), then disconnects. */
  close(): Promise<void>;
}

/** Thrown for an infra-error execution, so BullMQ retries the job with back-off and dead-letters it when tries run out. */
class InfraAttemptError extends Error {
  constructor(reason: string) {
    super(`infra-error: ${reason}`);
    this.name = 'InfraAttemptError';
  }
}

/**
 * Takes execution jobs from the queue at `url` and runs each with `executor` (the machine's local sandbox pool), exactly
 * as a local run would: the same request, limits, harness and classification. An infra error is thrown back to the
 * queue (retried with back-off, then dead-lettered); a job that cannot be a request is dead-lettered at once.
 */
export async function startQueueWorker(
  url: string,
  executor: Executor,
  options: QueueWorkerOptions = {},
): Promise<QueueWorker> {
  const {
    queueName = DEFAULT_QUEUE_NAME,
    concurrency = executor.concurrency * 2,
    stallTimeoutMs = 30_000,
    maxStalls = 2,
    maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
    maxResultBytes = DEFAULT_MAX_RESULT_BYTES,
    env = process.env,
    onEvent = () => undefined,
  } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 4096)
    throw new UsageError(`worker concurrency=${concurrency} is not a whole number from 1 to 4096.`);
  if (!Number.isFinite(stallTimeoutMs) || stallTimeoutMs < 500)
    throw new UsageError(`stall timeout ${stallTimeoutMs} ms is too short: use 500 ms or more (default 30000).`);
  const { connection, displayUrl } = parseRedisUrl(url, env);
  let completed = 0;
  let failed = 0;
  const worker = new Worker(
    queueName,
    async (job) => {
      const parsed = parseJob(job.data);
      if ('refused' in parsed) throw new UnrecoverableError(`refused: ${parsed.refused}`);
      const bytes = jobBytes(job.data as ExecutionJob);
      if (bytes > maxPayloadBytes)
        throw new UnrecoverableError(`refused: the job is ${bytes} bytes, over this worker's ${maxPayloadBytes}`);
      // The untrusted program runs in the local sandbox, as with a local executor: nothing about it runs here.
      const result = await executor.run(parsed.request);
      if (result.verdict === 'infra-error') throw new InfraAttemptError(result.reason);
      return fitResult(result, maxResultBytes);
    },
    {
      connection: { ...connection, maxRetriesPerRequest: null },
      concurrency,
      lockDuration: stallTimeoutMs,
      stalledInterval: Math.max(250, Math.round(stallTimeoutMs / 2)),
      maxStalledCount: maxStalls,
      // Shown by `codeloop doctor` and read by producers (CLIENT SETNAME, which allows no spaces), so a run knows its
      // workers' isolation.
      name: `codeloop-worker;host=${hostname().replace(/[^\w.-]/g, '_')};pid=${process.pid};isolation=${executor.isolation}`,
      autorun: false,
    },
  );
  let lastError = '';
  worker.on('error', (error) => {
    // ioredis reports every failed reconnect; say it once per distinct message.
    if (error.message !== lastError) onEvent(`redis ${displayUrl}: ${error.message}`);
    lastError = error.message;
  });
  worker.on('completed', () => {
    completed++;
    lastError = '';
  });
  worker.on('failed', (job, error) => {
    failed++;
    const id = job?.id?.slice(0, 12) ?? '?';
    const tries = job?.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || (job !== undefined && job.attemptsMade >= tries);
    onEvent(
      final
        ? `job ${id} dead-lettered after ${job?.attemptsMade ?? 0} tries: ${error.message}`
        : `job ${id} try ${job?.attemptsMade ?? 0}/${tries} failed, retried after back-off: ${error.message}`,
    );
  });
  worker.on('stalled', (jobId) => onEvent(`job ${jobId.slice(0, 12)} stalled (its worker died?): back in the queue`));
  void worker.run().catch((error: Error) => onEvent(`worker stopped: ${error.message}`));
  await worker.waitUntilReady();
  return {
    url: displayUrl,
    counts: () => ({ completed, failed }),
    async close() {
      await worker.close();
    },
  };
}
