// Test support for test/eval: where the workspace's dataset files are (shared with src/tasks' tests), whether a
// sandbox exists, and an executor wrapper that counts calls.
import { probeIsolation, type ExecutionRequest, type Executor } from '../../src/sandbox/index.js';

export { repositoryRoot, sharedDatasets } from '../tasks/shared-datasets.js';

/** Why sandbox-dependent tests are skipped, or false. */
export const noSandbox: string | false =
  probeIsolation().level === null ? 'no OS sandbox on this machine (see codeloop doctor)' : false;

/** Wraps an executor and records every request it was asked to run. */
export function countingExecutor(executor: Executor): Executor & { requests: ExecutionRequest[] } {
  const requests: ExecutionRequest[] = [];
  return {
    get isolation() {
      return executor.isolation;
    },
    get concurrency() {
      return executor.concurrency;
    },
    requests,
    run(request, options) {
      requests.push(request);
      return executor.run(request, options);
    },
    close: () => executor.close(),
  };
}
