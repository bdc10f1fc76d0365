import type { Task } from '../tasks/index.js';
import type { ExportSource, ExportTask, ScoredCompletion } from './records.js';

/**
 * An eval run as the export needs it: each sample with its verdict (joined with the run's journal) and the run's
 * tasks. The CLI reads it through `report` (readRunFolder, loadRunDataset, reportRun), which is on this area's layer.
 */
export interface EvalRunSamples {
  /** Absolute path of the run folder. */
  dir: string;
  /** The results file, for messages. */
  resultsPath: string;
  /** metrics.json's dataset name. */
  datasetName: string;
  /** In results-file order. */
  samples: readonly { taskId: string; verdict: string; text: string }[];
  /** The run's dataset. */
  tasks: readonly Task[];
  warnings: readonly string[];
}

/** Datasets kept for evaluation only: training on them contaminates every later score on them. */
const EVALUATION_ONLY = /^(humaneval|multipl-e)/;

/**
 * The records of a `codeloop eval --out` folder: every sample with its verdict, and each task's prompt and row
 * (`{"task": <Task>}`, exactly what the eval ran). Eval verdicts are binary: a sample's pass rate is 1 or 0.
 */
export function evalSource(run: EvalRunSamples): ExportSource {
  const taskById = new Map(run.tasks.map((task) => [task.id, task]));
  const warnings = [...run.warnings];
  if (EVALUATION_ONLY.test(run.datasetName))
    warnings.push(
      `${run.datasetName} is an evaluation benchmark: training on rows exported from it makes later scores on it ` +
        'meaningless.',
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
      source: `${run.resultsPath}: sample ${position + 1}`,
    });
  }
  if (missing > 0)
    warnings.push(`${missing} sample(s) name tasks that are not in dataset ${run.datasetName}; left out.`);
  return { kind: 'eval', dir: run.dir, completions, tasks: [...tasks.values()], rowsUnavailable: null, warnings };
}
