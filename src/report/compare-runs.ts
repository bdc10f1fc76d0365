import { UsageError } from '../core/index.js';
import type { ReportRun, ReportTask, TaskOutcome } from './report-run.js';

/** Which way a task moved between the baseline and the run: its outcome got better (`fail-pass`) or worse. */
export type FlipDirection = 'pass-fail' | 'fail-pass';

export interface TaskFlip {
  taskId: string;
  direction: FlipDirection;
  /**
   * What the move was, in words: `fail → pass` (no sample passed before, some do now), `pass → fail` (the reverse), or
   * `improved` / `worse` (more or fewer samples pass, e.g. 1/2 → 2/2, with passing samples on both sides).
   */
  change: FlipChange;
  /** The task's outcome and pass count in the baseline and in the run. */
  before: { outcome: TaskOutcome; c: number; n: number };
  after: { outcome: TaskOutcome; c: number; n: number };
}

export type FlipChange = 'fail → pass' | 'pass → fail' | 'improved' | 'worse';

/** Two runs of one dataset side by side: the report's run against a baseline (`codeloop report RUN --compare BASELINE`). */
export interface RunComparison {
  baseline: ReportRun;
  /** pass@k of both runs for each k either reports, and run − baseline where both do. */
  passAtK: { key: string; run?: number; baseline?: number; delta?: number }[];
  passAtKPlus: { key: string; run?: number; baseline?: number; delta?: number }[];
  /** Tasks whose outcome moved, in the run's task order. */
  flips: TaskFlip[];
  /** Tasks with samples in only one of the two runs. */
  onlyInRun: string[];
  onlyInBaseline: string[];
}

/**
 * How good an outcome is, for flips: every sample passing beats some passing beats none. With one sample per task this
 * is exactly pass → fail and fail → pass; with more, a task that went from all to some passing has also flipped down.
 */
function rank(outcome: TaskOutcome): number {
  return outcome === 'all' ? 2 : outcome === 'some' ? 1 : 0;
}

function scoreRows(
  run: Record<string, number> | undefined,
  baseline: Record<string, number> | undefined,
): RunComparison['passAtK'] {
  const keys = [...new Set([...Object.keys(run ?? {}), ...Object.keys(baseline ?? {})])].sort(
    (a, b) => Number(a.slice(5)) - Number(b.slice(5)),
  );
  return keys.map((key) => {
    const mine = run?.[key];
    const theirs = baseline?.[key];
    return {
      key,
      ...(mine === undefined ? {} : { run: mine }),
      ...(theirs === undefined ? {} : { baseline: theirs }),
      ...(mine === undefined || theirs === undefined ? {} : { delta: mine - theirs }),
    };
  });
}

/**
 * Compares a run with a baseline run of the same dataset (same name, same file checksums): pass@k deltas and the tasks
 * that flipped. Throws a UsageError naming both datasets when they differ.
 */
export function compareRuns(run: ReportRun, baseline: ReportRun): RunComparison {
  const mine = run.metrics.dataset;
  const theirs = baseline.metrics.dataset;
  if (mine.name !== theirs.name) {
    throw new UsageError(
      `Cannot compare ${run.dir} (dataset ${mine.name}) with ${baseline.dir} (dataset ${theirs.name}): --compare ` +
        `needs a run of the same dataset.`,
    );
  }
  const checksums = (files: { sha256: string }[]): string =>
    files
      .map((file) => file.sha256)
      .sort()
      .join(',');
  if (checksums(mine.files) !== checksums(theirs.files)) {
    throw new UsageError(
      `Cannot compare ${run.dir} with ${baseline.dir}: both are dataset ${mine.name}, but its files' SHA-256 differ ` +
        `(${checksums(mine.files) || 'none'} vs ${checksums(theirs.files) || 'none'}), so their tasks may differ; ` +
        `compare runs scored on the same files.`,
    );
  }
  const before = new Map<string, ReportTask>(baseline.tasks.map((task) => [task.id, task]));
  const flips: TaskFlip[] = [];
  const onlyInRun: string[] = [];
  for (const task of run.tasks) {
    const old = before.get(task.id);
    if (old === undefined) {
      onlyInRun.push(task.id);
      continue;
    }
    const change = rank(task.outcome) - rank(old.outcome);
    if (change === 0) continue;
    flips.push({
      taskId: task.id,
      direction: change > 0 ? 'fail-pass' : 'pass-fail',
      change:
        old.c === 0 && task.c > 0
          ? 'fail → pass'
          : old.c > 0 && task.c === 0
            ? 'pass → fail'
            : change > 0
              ? 'improved'
              : 'worse',
      before: { outcome: old.outcome, c: old.c, n: old.n },
      after: { outcome: task.outcome, c: task.c, n: task.n },
    });
  }
  const inRun = new Set(run.tasks.map((task) => task.id));
  return {
    baseline,
    passAtK: scoreRows(run.metrics.passAtK, baseline.metrics.passAtK),
    passAtKPlus:
      run.metrics.passAtKPlus === undefined && baseline.metrics.passAtKPlus === undefined
        ? []
        : scoreRows(run.metrics.passAtKPlus, baseline.metrics.passAtKPlus),
    flips,
    onlyInRun,
    onlyInBaseline: baseline.tasks.filter((task) => !inRun.has(task.id)).map((task) => task.id),
  };
}
