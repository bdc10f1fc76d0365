/** How a generation ends early (the abort reasons), and how one caller stops waiting for it without stopping it. */

export const SOFT_DEADLINE = Symbol('soft-deadline');
export const HARD_DEADLINE = Symbol('hard-deadline');
export const SUPERSEDED = Symbol('superseded');

/** Waits for `promise`, or rejects with the signal's reason as soon as it aborts (never wrapped). */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined, onAbort: () => void): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const listener = (): void => {
      onAbort();
      reject(signal.reason);
    };
    signal.addEventListener('abort', listener, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', listener);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', listener);
        reject(error);
      },
    );
  });
}
