/** What a single solve and a `--dataset` evaluation share: the options the flags resolve to, opening the model and
 * the sandbox, the exit codes `solve --help` documents. */
import { isCodeloopError, UsageError } from '../core/index.js';
import type { SolveBudget, Strategy, StrategyName } from '../loop/index.js';
import { openModel, type ModelBackend } from '../models/index.js';
import { QueueUnavailableError } from '../queue/index.js';
import { SandboxUnavailableError, type Executor } from '../sandbox/index.js';
import { openExecutor } from './queue-flag.js';

/** The run options both forms of `codeloop solve` take from the flags. */
export interface SolveRunOptions {
  strategyName: StrategyName;
  strategy: Strategy;
  budget: SolveBudget;
  feedback: string | undefined;
  maxTokensPerCall: number | undefined;
  perTestMs: number | undefined;
  style: 'base' | 'chat' | undefined;
  topP: number | undefined;
  /** --model, e.g. `embedded`. */
  model: string;
  out: string | undefined;
  json: boolean;
  unsafe: boolean;
  /** --queue: the Redis URL of a job queue run by `codeloop worker`, instead of the local sandbox. */
  queue: string | undefined;
}

/** The exit codes `solve --help` documents. */
export const EXIT = { passed: 0, failed: 1, infraError: 3, modelError: 4 } as const;

/** Opens --model; a name that does not parse is a usage error, a model that cannot be opened is exit code 4. */
async function openSolveModel(name: string): Promise<ModelBackend | number> {
  try {
    return await openModel(name);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'invalid-model-name')
      throw new UsageError(`--model: ${(error as Error).message}`, { cause: error });
    // A usage mistake (a missing API key, an unknown FIM format) is exit 2 like any other; a bug is not a model error.
    if (error instanceof UsageError || !isCodeloopError(error)) throw error;
    process.stderr.write(`codeloop solve: cannot open --model ${name}: ${error.message}\n`);
    return EXIT.modelError;
  }
}

/** The sandbox (or with --queue the job queue); when there is none, exit code 3 with the reason. */
async function openSolveExecutor(unsafe: boolean, queue: string | undefined): Promise<Executor | number> {
  try {
    return await openExecutor({
      queue,
      concurrency: queue === undefined ? 2 : undefined,
      unsafe,
      prefix: 'codeloop solve',
      warnUnsafe: false,
    });
  } catch (error) {
    if (!(error instanceof SandboxUnavailableError) && !(error instanceof QueueUnavailableError)) throw error;
    process.stderr.write(`codeloop solve: ${error.message}\n`);
    return EXIT.infraError;
  }
}

/** The model and the sandbox a solve needs (warning first when there is no sandbox), or the exit code of the one that failed. */
export async function openModelAndSandbox(
  modelName: string,
  unsafe: boolean,
  queue: string | undefined,
): Promise<{ model: ModelBackend; executor: Executor } | number> {
  if (unsafe && queue !== undefined)
    throw new UsageError(
      '--unsafe-no-sandbox applies to the local sandbox; with --queue the workers decide (codeloop worker --unsafe-no-sandbox).',
    );
  if (unsafe)
    process.stderr.write(
      'codeloop solve: WARNING: --unsafe-no-sandbox: programs run with NO isolation, as your user, with your files and network.\n',
    );
  const model = await openSolveModel(modelName);
  if (typeof model === 'number') return model;
  const executor = await openSolveExecutor(unsafe, queue);
  if (typeof executor === 'number') {
    await model.close();
    return executor;
  }
  return { model, executor };
}

export function timestamp(): string {
  return new Date().toISOString().replace(/[:.]/g, '-');
}

/** "false-positive rate 25.0% (1 of 4 attempts that passed every generated test fail the hidden ones)". */
export function falsePositiveText(falsePositives: number, judged: number): string {
  if (judged === 0) return 'false-positive rate n/a (no attempt with a hidden verdict passed every generated test)';
  return `false-positive rate ${((falsePositives / judged) * 100).toFixed(1)}% (${falsePositives} of ${judged} attempts that passed every generated test fail the hidden ones)`;
}
