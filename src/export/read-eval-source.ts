import { UsageError } from '../core/index.js';
import { loadRunDataset, readRunFolder, reportRun } from '../eval/index.js';
import type { LoadedDataset } from '../tasks/index.js';
import type { ExportSource, ExportTask, ScoredCompletion } from './records.js';

export interface ReadEvalSourceOptions {
  /** Folder with the dataset files (default: the one the run recorded in metrics.json). */
  dataDir?: string;
  /** The run's dataset, when the caller has it already (tests). */
  dataset?: LoadedDataset;
}

/** Datasets kept for evaluation only: training on them contaminates every later score on them. */
const EVALUATION_ONLY = /^(humaneval|multipl-e)/;

/**
 * The records of a `codeloop eval --out` folder: every sample with its verdict (joined with the journal as the report
 * does), and each task's prompt and row (`{"task": <Task>}`) from the run's dataset, which must still be loadable
 * with the checksums metrics.json recorded. Eval verdicts are binary: a sample's pass rate is 1 or 0.
 */
export async function readEvalSource(dir: string, options: ReadEvalSourceOptions = {}): Promise<ExportSource> {
  const folder = readRunFolder(dir);
  let dataset = options.dataset;
  if (dataset === undefined) {
    const loaded = await loadRunDataset(
      folder.metrics,
      options.dataDir === undefined ? {} : { dataDir: options.dataDir },
    );
    if ('unavailable' in loaded) {
      throw new UsageError(
        `${dir}: the run's dataset is needed for the prompts, but ${loaded.unavailable.replace(/, so only each sample’s own text is shown\.$/, '')}` +
          ' (pass --data-dir DIR with the dataset files).',
      );
    }
    dataset = loaded.dataset;
  }
  const run = reportRun(folder, { dataset });
  const taskById = new Map(dataset.tasks.map((task) => [task.id, task]));
  const warnings = [...run.warnings];
  if (EVALUATION_ONLY.test(folder.metrics.dataset.name))
    warnings.push(
      `${folder.metrics.dataset.name} is an evaluation benchmark: training on rows exported from it makes later scores on it meaningless.`,
    );
  const completions: ScoredCompletion[] = [];
  const tasks = new Map<string, ExportTask>();
  let missing = 0;
  for (const [position, sample] of run.samples.entries()) {
    const task = taskById.get(sample.taskId);
    if (task === undefined) {
      missing++;
      continue;
    }
    if (!tasks.has(task.id))
      tasks.set(task.id, { taskId: task.id, prompt: task.prompt, row: { task }, language: task.language });
    const infraError = sample.verdict === 'infra-error';
    completions.push({
      taskId: task.id,
      prompt: task.prompt,
      // An EvalPlus `solution` replaces prompt + completion; it is still what the model wrote for this prompt.
      completion: sample.text,
      passRate: infraError ? null : sample.verdict === 'passed' ? 1 : 0,
      binary: true,
      verdict: sample.verdict,
      infraError,
      source: `${run.resultsPath}:${position + 1}`,
    });
  }
  if (missing > 0) warnings.push(`${missing} sample(s) name tasks that are not in dataset ${dataset.name}; left out.`);
  return {
    kind: 'eval',
    dir: folder.dir,
    completions,
    tasks: [...tasks.values()],
    rowsUnavailable: null,
    warnings,
  };
}
