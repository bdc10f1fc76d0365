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

export interface TypeChecker {
  /** Checks `code` as `main.ts`; resolves with the emitted JavaScript or tsc's error lines. Never rejects for a program. */
  check(code: string, timeoutMs: number): Promise<TypeCheckResult>;
  close(): Promise<void>;
}

/** Heap of one checker thread (MiB): the lib files take ~150 MiB; the rest bounds what one program can make it use. */
const CHECKER_HEAP_MIB = 1024;

interface Pending {
  code: string;
  timeoutMs: number;
  resolve: (result: TypeCheckResult) => void;
}

interface Thread {
  worker: Worker;
  busy: boolean;
  /** Has finished a check, so the lib files are parsed. */
  warm: boolean;
}

/** Extra time for a thread's first check, which parses the lib files (~2 s; far more on a loaded machine). */
const FIRST_CHECK_GRACE_MS = 60_000;

/** A pool of `threads` checker threads, started on first use. */
export function createTypeChecker(threads = 1): TypeChecker {
  const queue: Pending[] = [];
  const pool: Thread[] = [];
  let nextId = 1;
  let closed = false;

  function spawn(): Thread {
    const worker = new Worker(new URL('./type-check-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: CHECKER_HEAP_MIB } });
    worker.unref();
    const thread: Thread = { worker, busy: false, warm: false };
    pool.push(thread);
    return thread;
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
      thread.warm = true;
      if (broken) retire(thread);
      job.resolve(result);
      pump();
    };
    const onMessage = (response: TypeCheckResponse): void => {
      if (response.id === id) finish('js' in response ? { js: response.js } : { compileError: response.compileError }, false);
    };
    // Out of heap (ERR_WORKER_OUT_OF_MEMORY) or a crash: the program made the compiler fail, as tsc would have.
    const onError = (error: Error): void => finish({ compileError: `the TypeScript compiler failed on this program: ${error.message}` }, true);
    const onExit = (): void => finish({ compileError: 'the TypeScript compiler stopped while checking this program' }, true);
    const limitMs = job.timeoutMs + (thread.warm ? 0 : FIRST_CHECK_GRACE_MS);
    const timer = setTimeout(() => finish({ compileError: `type-check timed out after ${job.timeoutMs} ms (tsc's limit)` }, true), limitMs);
    thread.worker.on('message', onMessage);
    thread.worker.on('error', onError);
    thread.worker.on('exit', onExit);
    thread.worker.postMessage({ id, code: job.code } satisfies TypeCheckRequest);
  }

  function pump(): void {
    while (queue.length > 0 && !closed) {
      const idle = pool.find((thread) => !thread.busy) ?? (pool.length < threads ? spawn() : undefined);
      if (idle === undefined) return;
      dispatch(idle, queue.shift()!);
    }
  }

  return {
    check(code, timeoutMs) {
      if (closed) return Promise.resolve({ compileError: 'the type checker was closed' });
      return new Promise<TypeCheckResult>((resolve) => {
        queue.push({ code, timeoutMs, resolve });
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
