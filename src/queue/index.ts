export { parseRedisUrl, redactRedisUrl, REDIS_PASSWORD_ENV, REDIS_URL_ENV, type RedisTarget } from './connection.js';
export { QueueUnavailableError } from './errors.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_MAX_RESULT_BYTES,
  DEFAULT_QUEUE_NAME,
  JOB_FORMAT,
  canonicalJob,
  jobKey,
  type ExecutionJob,
} from './protocol.js';
export {
  createQueueExecutor,
  type QueueExecutor,
  type QueueExecutorOptions,
  type QueueStats,
} from './queue-executor.js';
export { startQueueWorker, type QueueWorker, type QueueWorkerOptions } from './queue-worker.js';
export { inspectQueue, type DeadLetter, type InspectQueueOptions, type QueueInspection } from './inspect-queue.js';
