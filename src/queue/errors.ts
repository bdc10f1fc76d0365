import { CodeloopError } from '../core/index.js';

/**
 * Redis could not be reached, or was lost for longer than the grace period. Never followed by a silent fall-back to
 * local execution: the caller stops, with what was already journaled kept.
 */
export class QueueUnavailableError extends CodeloopError {
  constructor(
    /** The Redis URL, password redacted. */
    readonly url: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('queue-unavailable', message, options);
    this.name = 'QueueUnavailableError';
  }
}
