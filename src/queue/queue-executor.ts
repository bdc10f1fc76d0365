import { setMaxListeners } from 'node:events';
import { Queue, QueueEvents, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { CodeloopError, UsageError } from '../core/index.js';
import type { ExecutionResult, Executor, IsolationLevel, RunOptions } from '../sandbox/index.js';
import { parseRedisUrl } from './connection.js';
import { QueueUnavailableError } from './errors.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_QUEUE_NAME,
  canonicalJob,
  jobBytes,
  jobKey,
  parseResult,
  type ExecutionJob,
} from './protocol.js';

export interface QueueExecutorOptions {
  /** BullMQ queue name; producers and workers must agree. Default `codeloop-executions`. */
  queueName?: string;
  /**
   * Programs in flight in the queue at once, reported as `concurrency` (eval keeps twice this many calls open).
   * Default 64; raise it to about twice the total worker concurrency.
   */
  concurrency?: number;
  /** Tries of a job whose execution is an infra error (or whose worker throws) before it is dead-lettered. Default 3. */
  attempts?: number;
  /** First back-off delay between those tries (ms); it doubles each try. Default 1000. */
  retryDelayMs?: number;
  /**
   * How long Redis may be unreachable (at start, or lost mid-run) before every pending and later `run` rejects with a
   * QueueUnavailableError (ms). Default 30000.
   */
  graceMs?: number;
  /**
   * How often a program waiting longer than this is looked up in Redis (ms), in case its completion event was missed
   * or its job was lost (a Redis restart from an older append-only file): lost jobs are added again. Default 5000.
   */
  sweepIntervalMs?: number;
  /** Largest job (bytes of JSON); a larger program resolves as an infra error naming both sizes. Default 4 MiB. */
  maxPayloadBytes?: number;
  /**
   * Seconds a finished job (and its result) is kept in Redis, where a producer that missed its completion event, or
   * submits the same program again, finds it. Redis memory grows with jobs/s × this × ~3 KB. Default 60.
   */
  keepCompletedSeconds?: number;
  /** Dead-lettered jobs kept in the queue's failed set, newest first. Default 10000. */
  keepDeadLetters?: number;
  /** Environment for CODELOOP_REDIS_PASSWORD; default `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Messages worth a person's attention (Redis lost and back, a job resubmitted). */
  onWarning?: (message: string) => void;
}

/** What the queue looks like now; refreshed about every 2 s while the executor is open. */
export interface QueueStats {
  /** Jobs waiting for a worker (including those backing off before a retry). */
  waiting: number;
  /** Jobs a worker holds now. */
  active: number;
  /** Jobs in the dead-letter (failed) set. */
  deadLettered: number;
  /** Worker processes connected to the queue (BullMQ's CLIENT LIST view). */
  workers: number;
  /** This executor's programs not yet resolved. */
  pending: number;
  /** False while Redis is unreachable (within the grace period). */
  connected: boolean;
}

/** An Executor that runs programs on `codeloop worker` processes through a BullMQ queue on Redis. */
export interface QueueExecutor extends Executor {
  /** The Redis URL, password redacted. */
  readonly url: string;
  /** Latest queue figures, or undefined before the first refresh. */
  stats(): QueueStats | undefined;
}

interface Caller {
  resolve: (result: ExecutionResult) => void;
  reject: (error: unknown) => void;
}

interface Waiter {
  key: string;
  job: ExecutionJob;
  callers: Set<Caller>;
  /** ms: when the job was last added or looked up. */
  checkedAt: number;
  /** Set once a dead-lettered job found at submission was sent back for another round of tries. */
  revived: boolean;
}

const ISOLATION_ORDER: IsolationLevel[] = ['none', 'bwrap+seccomp', 'bwrap+seccomp+cgroup'];
const MONITOR_TICK_MS = 1_000;

function infraResult(job: ExecutionJob, reason: string): ExecutionResult {
  return {
    verdict: 'infra-error',
    reason,
    exitCode: null,
    signal: null,
    durationMs: 0,
    cpuMs: 0,
    peakMemoryKiB: null,
    stdout: '',
    stderr: '',
    stdoutBytes: 0,
    stderrBytes: 0,
    isolation: 'none',
    limits: job.request.limits,
  };
}

/**
 * Connects to Redis at `url` and returns an Executor whose programs run on `codeloop worker` processes. Delivery is at
 * least once; a program is one job keyed by its hash and limits (`jobKey`), so a redelivered or resubmitted program is
 * scored once. Rejects with QueueUnavailableError when Redis cannot be reached within `graceMs`.
 */
export async function createQueueExecutor(url: string, options: QueueExecutorOptions = {}): Promise<QueueExecutor> {
  const {
    queueName = DEFAULT_QUEUE_NAME,
    concurrency = 64,
    attempts = 3,
    retryDelayMs = 1_000,
    graceMs = 30_000,
    sweepIntervalMs = 5_000,
    maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES,
    keepCompletedSeconds = 60,
    keepDeadLetters = 10_000,
    env = process.env,
    onWarning = () => undefined,
  } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 100_000)
    throw new UsageError(`queue concurrency=${concurrency} is not a whole number from 1 to 100000.`);
  if (!Number.isInteger(attempts) || attempts < 1 || attempts > 100)
    throw new UsageError(`queue attempts=${attempts} is not a whole number from 1 to 100.`);
  const { connection, displayUrl } = parseRedisUrl(url, env);
  // Commands wait through a reconnect instead of failing (ioredis's offline queue, no per-request retry cap): whether
  // Redis is gone for good is decided here, by the grace period, not by one command's luck.
  const resilient = {
    ...connection,
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
  };
  const queue = new Queue(queueName, { connection: resilient });
  let events: QueueEvents | undefined;
  // Our own connection for liveness pings: it fails fast instead of queueing, so a ping tells the truth now.
  const monitor = new Redis({
    ...connection,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: (times: number) => Math.min(100 * times, 1_000),
  });
  let lastError = '';
  const noteError = (error: Error): void => {
    lastError = error.message;
  };
  queue.on('error', noteError);
  monitor.on('error', noteError);

  const shutDown = async (): Promise<void> => {
    monitor.disconnect();
    await Promise.race([
      Promise.allSettled([events?.close(), queue.close()]),
      new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
    ]);
  };

  // Connect, then start reading events from the stream's current end, so no completion after this point is missed.
  const ready = (async () => {
    // Both connections retry until the grace period runs out (Redis may be starting up).
    if (monitor.status !== 'ready') await new Promise((resolve) => monitor.once('ready', resolve));
    await queue.waitUntilReady();
    const last = (await monitor.xrevrange(queue.keys.events!, '+', '-', 'COUNT', 1))[0]?.[0] ?? '0-0';
    events = new QueueEvents(queueName, { connection: resilient, lastEventId: last });
    events.on('error', noteError);
    await events.waitUntilReady();
  })();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      ready,
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new QueueUnavailableError(
                displayUrl,
                `Cannot reach Redis at ${displayUrl} within ${graceMs / 1000} s${lastError ? ` (${lastError})` : ''}. ` +
                  'Check the URL, that redis-server runs there, and the password (in the URL or CODELOOP_REDIS_PASSWORD); ' +
                  'nothing was run.',
              ),
            ),
          graceMs,
        );
      }),
    ]);
  } catch (error) {
    ready.catch(() => undefined);
    await shutDown();
    if (error instanceof QueueUnavailableError) throw error;
    throw new QueueUnavailableError(displayUrl, `Cannot use Redis at ${displayUrl}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }

  const waiters = new Map<string, Waiter>();
  /** Keys whose every caller gave up (aborted): removed from the queue at close if no worker took them yet. */
  const abandoned = new Set<string>();
  let closed = false;
  let failure: QueueUnavailableError | undefined;
  let lastOk = Date.now();
  let connected = true;
  let weakest: IsolationLevel | undefined;
  let workerIsolation: IsolationLevel | undefined;
  let stats: QueueStats | undefined;

  const settle = (key: string, result: ExecutionResult): void => {
    const waiter = waiters.get(key);
    if (waiter === undefined) return;
    waiters.delete(key);
    if (result.verdict !== 'infra-error' || result.isolation !== 'none') {
      if (weakest === undefined || ISOLATION_ORDER.indexOf(result.isolation) < ISOLATION_ORDER.indexOf(weakest))
        weakest = result.isolation;
    }
    for (const caller of waiter.callers) caller.resolve(result);
  };
  const settleFromValue = (key: string, value: unknown): void => {
    const waiter = waiters.get(key);
    if (waiter === undefined) return;
    const result = parseResult(value);
    settle(key, result ?? infraResult(waiter.job, 'the worker returned something that is not an execution result'));
  };
  const settleDeadLettered = (key: string, failedReason: string): void => {
    const waiter = waiters.get(key);
    if (waiter === undefined) return;
    settle(key, infraResult(waiter.job, `dead-lettered by the queue: ${failedReason}`));
  };

  const submit = (waiter: Waiter): void => {
    waiter.checkedAt = Date.now();
    queue
      .add('execute', waiter.job, {
        jobId: waiter.key,
        attempts,
        backoff: { type: 'exponential', delay: retryDelayMs },
        removeOnComplete: { age: keepCompletedSeconds },
        removeOnFail: { count: keepDeadLetters },
      })
      .catch((error: Error) => {
        if (closed || failure) return;
        // Not a lost connection (commands wait through those): Redis refused the job, e.g. out of memory.
        const waiting = waiters.get(waiter.key);
        if (waiting === undefined) return;
        waiters.delete(waiter.key);
        const refused = new CodeloopError('queue-refused', `Redis at ${displayUrl} refused a job: ${error.message}`, {
          cause: error,
        });
        for (const caller of waiting.callers) caller.reject(refused);
      });
  };

  /** Looks the job up: finished → settle; dead-lettered before we asked → one more round; gone → add it again. */
  const check = async (waiter: Waiter, fromDuplicate: boolean): Promise<void> => {
    waiter.checkedAt = Date.now();
    const state = await queue.getJobState(waiter.key);
    if (!waiters.has(waiter.key)) return;
    if (state === 'completed' || state === 'failed') {
      const job: Job | undefined = await queue.getJob(waiter.key);
      if (job === undefined) return; // removed meanwhile: the next sweep adds it again
      if (state === 'completed') return settleFromValue(waiter.key, job.returnvalue);
      if (fromDuplicate && !waiter.revived) {
        // A dead letter of an earlier submission: this run asked again, so it gets a fresh round of tries.
        waiter.revived = true;
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }).catch(() => undefined);
        return;
      }
      return settleDeadLettered(waiter.key, job.failedReason);
    }
    if (state === 'unknown') {
      onWarning(`job ${waiter.key.slice(0, 12)} is no longer in Redis (restarted from older data?): added again`);
      submit(waiter);
    }
  };

  const listener = events!;
  listener.on('completed', ({ jobId, returnvalue }) => settleFromValue(jobId, returnvalue));
  listener.on('failed', ({ jobId, failedReason }) => settleDeadLettered(jobId, failedReason));
  listener.on('duplicated', ({ jobId }) => {
    const waiter = waiters.get(jobId);
    if (waiter !== undefined) void check(waiter, true).catch(noteError);
  });

  const fail = (downForMs: number): void => {
    failure = new QueueUnavailableError(
      displayUrl,
      `Lost Redis at ${displayUrl} for ${(downForMs / 1000).toFixed(1)} s (grace period ${graceMs / 1000} s)` +
        `${lastError ? `: ${lastError}` : ''}. ${waiters.size} program(s) were still waiting; nothing was run locally instead.`,
    );
    for (const waiter of waiters.values()) for (const caller of waiter.callers) caller.reject(failure);
    waiters.clear();
  };

  let pinging = false;
  let refreshing = false;
  let ticks = 0;
  const tick = (): void => {
    ticks++;
    if (!pinging) {
      pinging = true;
      monitor
        .ping()
        .then(() => {
          lastOk = Date.now();
          if (!connected) {
            connected = true;
            onWarning(`Redis at ${displayUrl} is back: checking the programs in flight`);
            for (const waiter of waiters.values()) void check(waiter, false).catch(noteError);
          }
        })
        .catch(() => {
          connected = false;
        })
        .finally(() => {
          pinging = false;
        });
    }
    const downFor = Date.now() - lastOk;
    if (downFor > MONITOR_TICK_MS * 2 && connected) connected = false;
    if (downFor > graceMs) {
      fail(downFor);
      clearInterval(interval);
      return;
    }
    if (!connected) return;
    const now = Date.now();
    for (const waiter of waiters.values())
      if (now - waiter.checkedAt >= sweepIntervalMs) void check(waiter, false).catch(noteError);
    if (ticks % 2 === 0 && !refreshing) {
      refreshing = true;
      Promise.all([queue.getJobCounts('wait', 'active', 'delayed', 'prioritized', 'failed'), queue.getWorkers()])
        .then(([counts, workers]) => {
          for (const worker of workers) {
            const level = /isolation=([^;\s]+)/.exec(worker.rawname ?? '')?.[1] as IsolationLevel | undefined;
            if (level !== undefined && ISOLATION_ORDER.includes(level))
              if (
                workerIsolation === undefined ||
                ISOLATION_ORDER.indexOf(level) < ISOLATION_ORDER.indexOf(workerIsolation)
              )
                workerIsolation = level;
          }
          stats = {
            waiting: (counts.wait ?? 0) + (counts.delayed ?? 0) + (counts.prioritized ?? 0),
            active: counts.active ?? 0,
            deadLettered: counts.failed ?? 0,
            workers: workers.length,
            pending: waiters.size,
            connected,
          };
        })
        .catch(noteError)
        .finally(() => {
          refreshing = false;
        });
    }
  };
  const interval = setInterval(tick, MONITOR_TICK_MS);
  interval.unref();

  return {
    url: displayUrl,
    concurrency,
    get isolation(): IsolationLevel {
      return weakest ?? workerIsolation ?? 'none';
    },
    stats: () => (stats === undefined ? undefined : { ...stats, pending: waiters.size, connected }),
    run(request, runOptions: RunOptions = {}) {
      if (closed)
        return Promise.reject(
          new CodeloopError(
            'executor-closed',
            'This executor was closed; create a new one with createQueueExecutor().',
          ),
        );
      if (failure) return Promise.reject(failure);
      const { signal } = runOptions;
      if (signal?.aborted) return Promise.reject(signal.reason);
      let job: ExecutionJob;
      try {
        job = canonicalJob(request);
      } catch (error) {
        return Promise.reject(error);
      }
      const bytes = jobBytes(job);
      if (bytes > maxPayloadBytes)
        return Promise.resolve(
          infraResult(
            job,
            `the job is ${bytes} bytes, over the queue's payload limit of ${maxPayloadBytes} bytes (maxPayloadBytes)`,
          ),
        );
      const key = jobKey(job);
      return new Promise<ExecutionResult>((resolve, reject) => {
        let waiter = waiters.get(key);
        const fresh = waiter === undefined;
        if (waiter === undefined) {
          waiter = { key, job, callers: new Set(), checkedAt: Date.now(), revived: false };
          waiters.set(key, waiter);
          abandoned.delete(key);
        }
        const current = waiter;
        const onAbort = (): void => {
          current.callers.delete(caller);
          if (current.callers.size === 0 && waiters.get(key) === current) {
            waiters.delete(key);
            abandoned.add(key);
          }
          reject(signal!.reason);
        };
        const caller: Caller = {
          resolve: (result) => {
            signal?.removeEventListener('abort', onAbort);
            resolve(result);
          },
          reject: (error) => {
            signal?.removeEventListener('abort', onAbort);
            reject(error);
          },
        };
        if (signal) {
          setMaxListeners(0, signal);
          signal.addEventListener('abort', onAbort, { once: true });
        }
        current.callers.add(caller);
        if (fresh) submit(current);
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(interval);
      const closedError = new CodeloopError('executor-closed', 'The executor was closed before this program ran.');
      for (const waiter of waiters.values()) {
        abandoned.add(waiter.key);
        for (const caller of waiter.callers) caller.reject(closedError);
      }
      waiters.clear();
      // Jobs nobody waits for any more are taken out of the queue if no worker holds them yet (best effort).
      if (!failure && connected && abandoned.size > 0) {
        await Promise.race([
          Promise.allSettled(
            [...abandoned].map(async (key) => {
              const state = await queue.getJobState(key);
              if (state === 'waiting' || state === 'delayed' || state === 'prioritized') await queue.remove(key);
            }),
          ),
          new Promise((resolve) => setTimeout(resolve, 2_000).unref()),
        ]);
      }
      await shutDown();
    },
  };
}
