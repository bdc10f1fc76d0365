import type { LlamaContext, LlamaContextSequence } from 'node-llama-cpp';

/** Waits for a free sequence; `release` hands it to the next waiter. */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: ((sequence: LlamaContextSequence) => void)[] = [];

  constructor(private readonly context: LlamaContext) {}

  async acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    signal?.throwIfAborted();
    const free = this.free.pop();
    if (free) return free;
    if (this.context.sequencesLeft > 0) return this.context.getSequence();
    return new Promise((resolve, reject) => {
      const waiter = (sequence: LlamaContextSequence): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(sequence);
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(sequence: LlamaContextSequence): void {
    const waiter = this.waiters.shift();
    if (waiter) waiter(sequence);
    else this.free.push(sequence);
  }
}
