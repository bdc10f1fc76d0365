/**
 * Warm TypeScript type-checking for `typeCheck: true` (MultiPL-E's rule: any `tsc --target esnext` error fails the
 * program). A cold `tsc` spends ~4 s per program loading the compiler and parsing the lib files; these worker threads
 * parse the lib files once and then check a program in tens of milliseconds, with the same compiler, options and
 * verdict, and emit the JavaScript `tsc` would have written. The program then runs in the sandbox as JavaScript.
 *
 * Checking runs on the host, like `transpileTypeScript`: the compiler reads the program's text and executes none of
 * it, and its host serves no file but the program and the compiler's own lib files (type-check-worker.ts). What an
 * untrusted program can still do is make the checker slow or hungry: each check has a time limit (the execution's
 * `compileMs`), after which the thread is terminated and replaced, and each thread has a heap cap.
 */
import { Worker } from 'node:worker_threads';
import type { TypeCheckRequest, TypeCheckResponse } from './type-check-worker.js';

export type TypeCheckResult = { js: string } | { compileError: string };

export interface TypeCheckOptions {
  /** Time the check may take (ms): the execution's `compileMs`. */
  timeoutMs: number;
  /** The request's other files, beside main.ts. */
  files?: Record<string, string>;
  /** Removes a waiting check from the queue and rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface TypeChecker {
  /**
   * Checks `code` as `main.ts`; resolves with the emitted JavaScript or tsc's error lines (at most
   * `MAX_COMPILE_ERROR_BYTES`). Never rejects for a program; rejects only on abort.
   */
  check(code: string, options: TypeCheckOptions): Promise<TypeCheckResult>;
  close(): Promise<void>;
}

/** The most of tsc's error text kept (head and tail), as the sandbox keeps a program's output. */
export const MAX_COMPILE_ERROR_BYTES = 64 * 1024;

/** Heap of one checker thread (MiB): the lib files take ~150 MiB; the rest bounds what one program can make it use. */
const CHECKER_HEAP_MIB = 1024;

interface Pending {
  code: string;
  files: Record<string, string>;
  timeoutMs: number;
  resolve: (result: TypeCheckResult) => void;
}

interface Thread {
  worker: Worker;
  busy: boolean;
  /** Has parsed the lib files (its warm-up check finished); only a warm thread is given programs. */
  warm: boolean;
}

/**
 * Time a new thread's warm-up check (an empty program: loading the compiler and parsing the lib files) may take: ~2 s
 * on an idle machine, far more on a loaded one. No program's own limit ever includes it.
 */
const WARM_UP_LIMIT_MS = 120_000;

function capped(text: string): string {
  if (Buffer.byteLength(text) <= MAX_COMPILE_ERROR_BYTES) return text;
  const head = text.slice(0, MAX_COMPILE_ERROR_BYTES * 0.75);
  const tail = text.slice(-MAX_COMPILE_ERROR_BYTES * 0.25);
  return `${head}\n… (${text.length - head.length - tail.length} characters of tsc's output left out)\n${tail}`;
}

/** A pool of `threads` checker threads, started on first use. */
export function createTypeChecker(threads = 1): TypeChecker {
  const queue: Pending[] = [];
  const pool: Thread[] = [];
  let nextId = 1;
  let closed = false;

  /** A new thread, busy with its warm-up check until it is warm; a thread that cannot warm up is dropped. */
  function spawn(): void {
    const worker = new Worker(new URL('./type-check-worker.js', import.meta.url), {
      resourceLimits: { maxOldGenerationSizeMb: CHECKER_HEAP_MIB },
    });
    worker.unref();
    const thread: Thread = { worker, busy: false, warm: false };
    pool.push(thread);
    const failQueue = (result: TypeCheckResult): void => {
      // A compiler that cannot check an empty program cannot check any: fail what waits instead of respawning forever.
      if ('compileError' in result)
        for (const job of queue.splice(0))
          job.resolve({ compileError: `the TypeScript checker could not start: ${result.compileError}` });
    };
    dispatch(thread, { code: '', files: {}, timeoutMs: WARM_UP_LIMIT_MS, resolve: failQueue });
  }

  function retire(thread: Thread): void {
    pool.splice(pool.indexOf(thread), 1);
    void thread.worker.terminate();
  }

  function dispatch(thread: Thread, job: Pending): void {
    thread.busy = true;
    const id = nextId++;
    const finish = (result: TypeCheckResult, broken: boolean): void => {
      clearTimeout(timer);
      thread.worker.off('message', onMessage);
      thread.worker.off('error', onError);
      thread.worker.off('exit', onExit);
      thread.busy = false;
      if (broken) retire(thread);
      else thread.warm = true;
      job.resolve(result);
      pump();
    };
    const onMessage = (response: TypeCheckResponse): void => {
      if (response.id === id)
        finish('js' in response ? { js: response.js } : { compileError: capped(response.compileError) }, false);
    };
    // Out of heap (ERR_WORKER_OUT_OF_MEMORY) or a crash: the program made the compiler fail, as tsc would have.
    const onError = (error: Error): void =>
      finish({ compileError: `the TypeScript compiler failed on this program: ${error.message}` }, true);
    const onExit = (): void =>
      finish({ compileError: 'the TypeScript compiler stopped while checking this program' }, true);
    const timer = setTimeout(
      () => finish({ compileError: `type-check timed out after ${job.timeoutMs} ms (tsc's limit)` }, true),
      job.timeoutMs,
    );
    thread.worker.on('message', onMessage);
    thread.worker.on('error', onError);
    thread.worker.on('exit', onExit);
    thread.worker.postMessage({ id, code: job.code, files: job.files } satisfies TypeCheckRequest);
  }

  function pump(): void {
    if (closed) return;
    while (queue.length > 0) {
      const idle = pool.find((thread) => thread.warm && !thread.busy);
      if (idle === undefined) break;
      dispatch(idle, queue.shift()!);
    }
    // Threads warm up before they take programs, so no program's limit pays for parsing the lib files.
    while (pool.length < threads && queue.length > pool.filter((thread) => !thread.warm).length) spawn();
  }

  return {
    check(code, { timeoutMs, files = {}, signal }) {
      if (closed) return Promise.resolve({ compileError: 'the type checker was closed' });
      if (signal?.aborted) return Promise.reject(signal.reason);
      return new Promise<TypeCheckResult>((resolve, reject) => {
        const job: Pending = { code, files, timeoutMs, resolve };
        signal?.addEventListener(
          'abort',
          () => {
            const index = queue.indexOf(job);
            if (index >= 0) {
              queue.splice(index, 1);
              reject(signal.reason);
            }
          },
          { once: true },
        );
        queue.push(job);
        pump();
      });
    },
    async close() {
      closed = true;
      for (const job of queue.splice(0)) job.resolve({ compileError: 'the type checker was closed' });
      await Promise.all(pool.splice(0).map((thread) => thread.worker.terminate()));
    },
  };
}
