import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseRedisUrl } from './connection.js';
import { QueueUnavailableError } from './errors.js';
import { DEFAULT_QUEUE_NAME, type ExecutionJob } from './protocol.js';

export interface DeadLetter {
  jobId: string;
  /** Why the queue gave up on it: the last infra error, a refusal, or "job stalled more than allowable limit". */
  reason: string;
  attemptsMade: number;
  /** ms since the epoch. */
  finishedAt: number | null;
  language: string;
  codeBytes: number;
}

export interface QueueInspection {
  /** The Redis URL, password redacted. */
  url: string;
  redisVersion: string;
  /** ms for one PING. */
  pingMs: number;
  waiting: number;
  active: number;
  deadLettered: number;
  /** CLIENT SETNAME names of the connected `codeloop worker` processes (host, pid, isolation). */
  workers: string[];
  /** The newest dead letters, newest first. */
  deadLetters: DeadLetter[];
}

export interface InspectQueueOptions {
  queueName?: string;
  /** Dead letters to list. Default 10. */
  deadLetterLimit?: number;
  /** Give up connecting after this long (ms). Default 5000. */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
}

/** Connects once and reports the queue: Redis version, depth, workers and the newest dead letters. */
export async function inspectQueue(url: string, options: InspectQueueOptions = {}): Promise<QueueInspection> {
  const { queueName = DEFAULT_QUEUE_NAME, deadLetterLimit = 10, timeoutMs = 5_000, env = process.env } = options;
  const { connection, displayUrl } = parseRedisUrl(url, env);
  const probe = new Redis({
    ...connection,
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: timeoutMs,
    retryStrategy: () => null,
  });
  let lastError = '';
  probe.on('error', (error: Error) => {
    lastError = error.message;
  });
  try {
    await probe.connect();
  } catch (error) {
    probe.disconnect();
    throw new QueueUnavailableError(
      displayUrl,
      `Cannot reach Redis at ${displayUrl}: ${lastError || (error as Error).message}`,
      { cause: error },
    );
  }
  const queue = new Queue(queueName, { connection: probe });
  try {
    const started = performance.now();
    await probe.ping();
    const pingMs = performance.now() - started;
    const info = await probe.info('server');
    const redisVersion = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    const counts = await queue.getJobCounts('wait', 'delayed', 'prioritized', 'active', 'failed');
    // BullMQ puts the connection's own name in `rawname` (`bull:<queue>:w:<worker name>`).
    const workers = (await queue.getWorkers())
      .map((worker) => (worker.rawname ?? '').replace(/^.*?:w:/, ''))
      .filter((name) => name !== '');
    const failedJobs = deadLetterLimit > 0 ? await queue.getFailed(0, deadLetterLimit - 1) : [];
    const deadLetters = failedJobs.map((job) => {
      const data = job.data as Partial<ExecutionJob> | undefined;
      return {
        jobId: job.id ?? '',
        reason: job.failedReason,
        attemptsMade: job.attemptsMade,
        finishedAt: job.finishedOn ?? null,
        language: String(data?.request?.language ?? '?'),
        codeBytes: typeof data?.request?.code === 'string' ? Buffer.byteLength(data.request.code) : 0,
      };
    });
    return {
      url: displayUrl,
      redisVersion,
      pingMs,
      waiting: (counts.wait ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      deadLettered: counts.failed ?? 0,
      workers,
      deadLetters,
    };
  } finally {
    await queue.close().catch(() => undefined);
    probe.disconnect();
  }
}
