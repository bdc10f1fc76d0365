import { createHash } from 'node:crypto';
import type { RunComparison } from './compare-runs.js';
import { passAtKChartSvg, type ChartSeries } from './report-chart.js';
import { codeloopVersion } from '../core/index.js';
import { incompleteScoreNote, runTitle } from '../eval/index.js';
import { REPORT_PAGE_SCRIPT, REPORT_PAGE_STYLE } from './report-page.js';
import type { ReportRun, ReportTask, TaskOutcome } from './report-run.js';

/**
 * The name of the `<meta>` a page carries when it shows no programs (the dataset could not be loaded), so that a
 * rewrite can tell a page with programs from one without and refuse to replace the first with the second.
 */
export const PROGRAMS_UNAVAILABLE_META = 'codeloop-programs-unavailable';

/**
 * The data the page's script renders the grid and drill-downs from, embedded as JSON. Samples are arrays, and every
 * text (sample, reason, output tail, program parts) is an index into `strings`, stored once: 1,000 tasks × 200 samples
 * stay a few bytes per sample plus their distinct texts.
 */
export interface ReportPageData {
  verdicts: string[];
  strings: string[];
  tasks: ReportPageTask[];
  /** `[index, verdict, reason, text, kind (0 completion, 1 solution), execution or -1, verified (0/1), plus verdict or -1, plus reason or -1]`. */
  samples: number[][];
  /** `[durationMs, stdoutTail, stderrTail, evalplus details or -1]`. */
  executions: number[][];
  programsUnavailable: string | null;
  comparing: boolean;
}

/** A run of samples in `ReportPageData.samples`, and the program parts around their text. */
export interface ReportPageSamples {
  /** The samples are `samples[first]` … `samples[first + n - 1]`. */
  first: number;
  n: number;
  /** String indices of the program text before and after a completion / a solution, or null. */
  completion: [number, number] | null;
  solution: [number, number] | null;
}

export interface ReportPageTask extends ReportPageSamples {
  id: string;
  outcome: TaskOutcome;
  c: number;
  cPlus: number | null;
  counted: boolean;
  /** The task's CWE, for datasets with security tests; null otherwise. */
  cwe: string | null;
  flip: 'pass-fail' | 'fail-pass' | null;
  /** A flipped task's change in words (`fail → pass`, `improved`, …; see `TaskFlip.change`). */
  flipChange: string | null;
  /** The baseline run's counts, when comparing and the task is in it. */
  baseline: { outcome: TaskOutcome; c: number; n: number } | null;
  /** A flipped task's samples in the baseline run. */
  baselineSamples: ReportPageSamples | null;
}

export interface RenderReportOptions {
  /** A comparison of this run with a baseline (`compareRuns`). */
  comparison?: RunComparison;
  /** Shown in the page's footer. Default: now, in ISO 8601. */
  generatedAt?: string;
}

const OUTCOME_LABELS: Record<TaskOutcome, string> = {
  all: 'all samples pass',
  some: 'some samples pass',
  none: 'no sample passes (failed)',
  'timed-out': 'no sample passes (mostly timed out)',
  crashed: 'no sample passes (mostly crashed or out of memory)',
  'compile-error': 'no sample passes (mostly compile errors)',
  'infra-error': 'sandbox error (not counted)',
};

/** The glyph a cell shows besides its colour, so the grid reads without colour too. */
export const OUTCOME_GLYPHS: Record<TaskOutcome, string> = {
  all: '✓',
  some: '½',
  none: '✗',
  'timed-out': 'T',
  crashed: '!',
  'compile-error': 'C',
  'infra-error': '?',
};

/**
 * The page allows only its own script, by hash (a second wall behind the escaping: were a sample's text ever to reach
 * the markup as a script, the browser would refuse to run it), and loads nothing from anywhere.
 */
const SCRIPT_HASH = `sha256-${createHash('sha256').update(REPORT_PAGE_SCRIPT, 'utf8').digest('base64')}`;

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside a `<script type="application/json">` element: `<`, `>` and `&` are written as \u escapes,
 * so no sample text can close the element (`</script>`) or open a comment (`<!--`); U+2028/2029 too, for old parsers.
 */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[<>&\u2028\u2029]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function percent(value: number | undefined): string {
  return value === undefined ? '—' : `${(value * 100).toFixed(2)}%`;
}

function signedPercent(value: number | undefined): string {
  if (value === undefined) return '';
  const points = value * 100;
  return `${points > 0 ? '+' : points < 0 ? '−' : '±'}${Math.abs(points).toFixed(2)}`;
}

function evalPlusDetails(execution: ReportRun['executions'][number]): string | undefined {
  if (execution.evalplus === undefined) return undefined;
  const phase = (name: string, result: NonNullable<typeof execution.evalplus>['base']): string =>
    `${name}: ${result.status}, ${result.passedInputs} input(s) passed${result.failIndex === null ? '' : `, failed on input ${result.failIndex}`}${result.reason === '' ? '' : ` (${result.reason})`}`;
  return [
    phase('base', execution.evalplus.base),
    ...(execution.evalplus.plus === undefined ? [] : [phase('plus', execution.evalplus.plus)]),
  ].join('\n');
}

function securityDetails(execution: ReportRun['executions'][number]): string | undefined {
  const outcome = execution.security;
  if (outcome === undefined) return undefined;
  const cases = (tally: { passed: number; total: number } | undefined, kind: string): string =>
    tally === undefined ? '' : ` (${tally.passed}/${tally.total} ${kind} cases passed)`;
  const lines = [
    `${outcome.functional ? 'functional' : 'NOT functional'}${cases(outcome.functionality, 'functionality')}, ` +
      `${outcome.secure ? 'secure' : 'NOT secure'}${cases(outcome.security, 'security')}`,
  ];
  const attack = outcome.failedAttack;
  if (attack !== undefined)
    lines.push(`failed attack: ${attack.name}: ${attack.status}`, ...(attack.message ? [attack.message] : []));
  return lines.join('\n');
}

/** Builds the page's embedded data from a joined run (and a comparison). */
export function reportPageData(run: ReportRun, comparison?: RunComparison): ReportPageData {
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const intern = (text: string): number => {
    let index = stringIndex.get(text);
    if (index === undefined) {
      index = strings.length;
      strings.push(text);
      stringIndex.set(text, index);
    }
    return index;
  };
  const verdicts: string[] = [];
  const verdictCode = (verdict: string): number => {
    const index = verdicts.indexOf(verdict);
    if (index >= 0) return index;
    verdicts.push(verdict);
    return verdicts.length - 1;
  };
  const flips = new Map((comparison?.flips ?? []).map((flip) => [flip.taskId, flip]));
  const baseline = new Map((comparison?.baseline.tasks ?? []).map((task) => [task.id, task]));
  const samples: number[][] = [];
  const executions: number[][] = [];
  /** Appends `task`'s samples of `of` (the run or the baseline) and returns where they start and its programs' parts. */
  const addSamples = (of: ReportRun, task: ReportTask, executionOffset: number): ReportPageSamples => {
    const first = samples.length;
    for (const position of task.samples) {
      const sample = of.samples[position];
      if (sample === undefined) continue;
      samples.push([
        sample.index,
        verdictCode(sample.verdict),
        intern(sample.reason),
        intern(sample.text),
        sample.kind === 'solution' ? 1 : 0,
        sample.execution === null ? -1 : sample.execution + executionOffset,
        sample.programVerified ? 1 : 0,
        sample.plus === undefined ? -1 : verdictCode(sample.plus.verdict),
        sample.plus === undefined ? -1 : intern(sample.plus.reason),
      ]);
    }
    const template = (kind: 'completion' | 'solution'): [number, number] | null => {
      const parts = task.programTemplate?.[kind];
      return parts === undefined ? null : [intern(parts[0]), intern(parts[1])];
    };
    return { first, n: samples.length - first, completion: template('completion'), solution: template('solution') };
  };
  const addExecutions = (of: ReportRun): void => {
    for (const execution of of.executions) {
      const details = evalPlusDetails(execution);
      const security = securityDetails(execution);
      executions.push([
        execution.durationMs,
        intern(execution.stdoutTail),
        intern(execution.stderrTail),
        details === undefined ? -1 : intern(details),
        security === undefined ? -1 : intern(security),
      ]);
    }
  };
  const tasks: ReportPageTask[] = run.tasks.map((task) => {
    const old = baseline.get(task.id);
    return {
      id: task.id,
      outcome: task.outcome,
      c: task.c,
      cPlus: task.cPlus,
      counted: task.counted,
      cwe: task.cwe ?? null,
      ...addSamples(run, task, 0),
      flip: flips.get(task.id)?.direction ?? null,
      flipChange: flips.get(task.id)?.change ?? null,
      baseline: old === undefined ? null : { outcome: old.outcome, c: old.c, n: old.n },
      baselineSamples: null,
    };
  });
  addExecutions(run);
  // A flipped task also carries the baseline's samples, to see what changed; other tasks only its counts (the page
  // stays the size of one run).
  if (comparison !== undefined) {
    const offset = executions.length;
    addExecutions(comparison.baseline);
    for (const task of tasks) {
      const old = baseline.get(task.id);
      if (task.flip !== null && old !== undefined) task.baselineSamples = addSamples(comparison.baseline, old, offset);
    }
  }
  return {
    verdicts,
    strings,
    tasks,
    samples,
    executions,
    programsUnavailable: run.programsUnavailable,
    comparing: comparison !== undefined,
  };
}

/** Chart lines: the run's base (and plus) curve, and the baseline's dashed when comparing. Okabe–Ito colours. */
function chartSeries(run: ReportRun, comparison: RunComparison | undefined): ChartSeries[] {
  const lines = (of: ReportRun, who: string, dashed: boolean): ChartSeries[] => {
    const hasPlus = of.curve.some((point) => point.plus !== undefined);
    return [
      {
        label: `${who}${hasPlus ? 'base' : 'pass@k'}`,
        color: '#0072B2',
        dashed,
        points: of.curve.map((point) => ({ k: point.k, value: point.base })),
      },
      ...(hasPlus
        ? [
            {
              label: `${who}plus`,
              color: '#D55E00',
              dashed,
              points: of.curve.map((point) => ({ k: point.k, value: point.plus ?? 0 })),
            },
          ]
        : []),
    ];
  };
  if (comparison === undefined) return lines(run, '', false);
  return [...lines(run, 'run ', false), ...lines(comparison.baseline, 'baseline ', true)];
}

function passAtKTable(run: ReportRun, comparison: RunComparison | undefined): string {
  const incomplete = incompleteScoreNote(run.metrics);
  const table = passAtKRows(run, comparison);
  return incomplete === undefined ? table : `<p class="warning" id="incomplete">${escapeHtml(incomplete)}</p>${table}`;
}

/**
 * pass@k per k, as the table lists it: every k the curve shows (from the joined results), with metrics.json's own
 * figures for the k values it reports (those stay exactly the numbers codeloop eval printed).
 */
function scoresByK(run: ReportRun): Map<number, { base: number; plus?: number }> {
  const scores = new Map<number, { base: number; plus?: number }>();
  for (const point of run.curve)
    scores.set(point.k, { base: point.base, ...(point.plus === undefined ? {} : { plus: point.plus }) });
  const base = run.metrics.passAtK as Record<string, number>;
  const plus = run.metrics.passAtKPlus as Record<string, number> | undefined;
  for (const [key, value] of Object.entries(base)) {
    const plusValue = plus?.[key];
    scores.set(Number(key.slice('pass@'.length)), {
      base: value,
      ...(plusValue === undefined ? {} : { plus: plusValue }),
    });
  }
  return new Map([...scores.entries()].sort((a, b) => a[0] - b[0]));
}

function passAtKRows(run: ReportRun, comparison: RunComparison | undefined): string {
  const metrics = run.metrics;
  const plus = metrics.passAtKPlus !== undefined || (comparison?.passAtKPlus.length ?? 0) > 0;
  const mine = scoresByK(run);
  if (comparison === undefined) {
    if (mine.size === 0)
      return `<p class="note">No pass@k: some task has fewer samples than every k asked for (${escapeHtml(metrics.ks.join(', '))}).</p>`;
    const head = `<tr><th>k</th><th>${plus ? 'base' : 'pass@k'}</th>${plus ? '<th>plus</th>' : ''}</tr>`;
    const rows = [...mine.entries()].map(
      ([k, score]) =>
        `<tr data-key="pass@${k}"><th>pass@${k}</th><td class="base">${percent(score.base)}</td>${plus ? `<td class="plus">${percent(score.plus)}</td>` : ''}</tr>`,
    );
    return `<table class="scores" id="pass-at-k">${head}${rows.join('')}</table>`;
  }
  const theirs = scoresByK(comparison.baseline);
  const row = (mineValue: number | undefined, theirValue: number | undefined) => ({
    ...(mineValue === undefined ? {} : { run: mineValue }),
    ...(theirValue === undefined ? {} : { baseline: theirValue }),
    ...(mineValue === undefined || theirValue === undefined ? {} : { delta: mineValue - theirValue }),
  });
  const cells = (entry: { run?: number; baseline?: number; delta?: number }, which: string): string =>
    `<td class="${which}-run">${percent(entry.run)}</td><td class="${which}-baseline">${percent(entry.baseline)}</td><td class="${which}-delta delta${(entry.delta ?? 0) < 0 ? ' down' : (entry.delta ?? 0) > 0 ? ' up' : ''}">${signedPercent(entry.delta)}</td>`;
  const head = `<tr><th rowspan="2">k</th><th colspan="3">${plus ? 'base' : 'pass@k'}</th>${plus ? '<th colspan="3">plus</th>' : ''}</tr><tr>${'<th>run</th><th>baseline</th><th>Δ points</th>'.repeat(plus ? 2 : 1)}</tr>`;
  const ks = [...new Set([...mine.keys(), ...theirs.keys()])].sort((a, b) => a - b);
  const rows = ks.map((k) => {
    const a = mine.get(k);
    const b = theirs.get(k);
    return `<tr data-key="pass@${k}"><th>pass@${k}</th>${cells(row(a?.base, b?.base), 'base')}${plus ? cells(row(a?.plus, b?.plus), 'plus') : ''}</tr>`;
  });
  return `<table class="scores" id="pass-at-k">${head}${rows.join('')}</table>`;
}

/** The pass@k curve, or why there is none: a curve needs two k values, so every counted task needs n ≥ 2 samples. */
function chartFigure(run: ReportRun, comparison: RunComparison | undefined): string {
  const series = chartSeries(run, comparison);
  if (series.every((line) => line.points.length <= 1))
    return `<p class="note" id="no-chart">No pass@k curve: ${run.curve.length === 0 ? 'no task was counted' : 'every task has only 1 sample, so pass@1 is the only point'}. Generate n ≥ 2 samples per task (e.g. -n 10 at temperature 0.8) to see pass@k against k.</p>`;
  return `<figure id="chart">${passAtKChartSvg(series)}<figcaption>pass@k for k from 1 to the fewest samples of any counted task, from the unbiased estimator over the joined results${comparison === undefined ? '' : '; dashed: the baseline'}.</figcaption></figure>`;
}

function metadata(run: ReportRun): string {
  // metrics.json from an older codeloop may lack the reproducibility fields: show what is there, "not recorded" otherwise.
  const metrics = run.metrics as Partial<ReportRun['metrics']> &
    Pick<ReportRun['metrics'], 'dataset' | 'samplesFile' | 'verdicts' | 'excludedTasks'>;
  const unknown = 'not recorded';
  const recorded = (metrics as { model?: unknown }).model;
  const model =
    typeof recorded === 'string'
      ? recorded
      : run.models.length === 0
        ? undefined
        : run.models
            .map((entry) => (run.models.length === 1 ? entry.name : `${entry.name} (${entry.samples} samples)`))
            .join(', ');
  const verdicts = Object.entries(metrics.verdicts)
    .filter(([, count]) => count > 0)
    .map(([verdict, count]) => `${verdict} ${count}`)
    .join(', ');
  const limits = (metrics.limits ?? []).map(
    (entry) =>
      `${entry.language} (${entry.tasks} task(s)): ${Object.entries(entry.limits)
        .map(([key, value]) => `${key} ${value}`)
        .join(', ')}`,
  );
  const rows: [string, string][] = [
    [
      'dataset',
      metrics.subset === undefined
        ? metrics.dataset.name
        : `${metrics.dataset.name}: a SUBSET, ${metrics.subset.tasks} of ${metrics.subset.of} tasks (${metrics.subset.selection}); pass@k is not the benchmark's score`,
    ],
    [
      'samples',
      `${metrics.samples ?? run.samples.length} over ${metrics.tasks?.scored ?? run.tasks.length} task(s), ` +
        `${metrics.tasks?.counted ?? run.tasks.filter((task) => task.counted).length} counted in pass@k`,
    ],
    ...(typeof model === 'string' ? [['model', model] as [string, string]] : []),
    ['samples file', metrics.samplesFile],
    ['verdicts', verdicts || 'none'],
    [
      'dataset files',
      metrics.dataset.files.map((file) => `${file.path} (sha256 ${file.sha256})`).join('\n') || 'none (built-in tasks)',
    ],
    ['sandbox', metrics.isolation ?? unknown],
    [
      'runtimes',
      metrics.runtimes === undefined
        ? unknown
        : `node ${metrics.runtimes.node}, ${metrics.runtimes.python ?? 'python: not found'}`,
    ],
    ['limits', limits.length === 0 ? unknown : limits.join('\n')],
    [
      'executions',
      metrics.executions === undefined
        ? unknown
        : `${metrics.executions.run} run, ${metrics.executions.reused} reused from the journal`,
    ],
    ['codeloop', metrics.codeloopVersion ?? unknown],
    ['run folder', run.dir],
  ];
  if (metrics.excludedTasks.length > 0)
    rows.push(['not counted', `${metrics.excludedTasks.join(', ')} (sandbox errors; rerun to retry)`]);
  return `<dl class="meta">${rows.map(([name, value]) => `<dt>${escapeHtml(name)}</dt><dd>${escapeHtml(value)}</dd>`).join('')}</dl>`;
}

/** What `codeloop eval --through completion` adds to metrics.json (src/cli/eval-completion.ts), as far as the page shows it. */
interface CompletionSideFigures {
  postProcess: boolean;
  passAt1: number;
  exactMatch: number;
  exactMatchNormalized: number;
  latencyMs: { p50: number; p95: number };
  modelMs: { p50: number; p95: number };
}

/** The completion harness's pipeline-vs-raw table, when the run went through the completion engine. */
function completionSection(run: ReportRun): string {
  const completion = (
    run.metrics as {
      completion?: {
        model?: string;
        mode?: string;
        pipeline?: CompletionSideFigures;
        raw?: CompletionSideFigures;
        uplift?: Record<string, number>;
      };
    }
  ).completion;
  if (completion === undefined) return '';
  const sides = [completion.pipeline, completion.raw].filter(
    (side): side is CompletionSideFigures => side !== undefined,
  );
  const percent = (share: number): string => `${(share * 100).toFixed(2)}%`;
  const uplift = (key: string): string =>
    completion.uplift?.[key] === undefined
      ? ''
      : `<td>${(completion.uplift[key] >= 0 ? '+' : '') + (completion.uplift[key] * 100).toFixed(2)}</td>`;
  const row = (label: string, cell: (side: CompletionSideFigures) => string, key?: string): string =>
    `<tr><th>${escapeHtml(label)}</th>${sides.map((side) => `<td>${escapeHtml(cell(side))}</td>`).join('')}${key === undefined ? (completion.uplift === undefined ? '' : '<td></td>') : uplift(key)}</tr>`;
  return `<section id="completion"><h2>Through the completion engine</h2><p class="note">model ${escapeHtml(completion.model ?? '')}, mode ${escapeHtml(completion.mode ?? '')}; raw = the model's text as generated, no post-processing.</p>
<table><tr><th></th>${sides.map((side) => `<th>${side.postProcess ? 'pipeline' : 'raw'}</th>`).join('')}${completion.uplift === undefined ? '' : '<th>uplift (points)</th>'}</tr>
${row('pass@1 (execution)', (side) => percent(side.passAt1), 'passAt1')}
${row('exact match', (side) => percent(side.exactMatch), 'exactMatch')}
${row('exact match (whitespace-normalised)', (side) => percent(side.exactMatchNormalized), 'exactMatchNormalized')}
${row('latency p50 / p95 (ms)', (side) => `${side.latencyMs.p50} / ${side.latencyMs.p95}`)}
${row('model time p50 / p95 (ms)', (side) => `${side.modelMs.p50} / ${side.modelMs.p95}`)}</table></section>`;
}

function flipsSection(comparison: RunComparison): string {
  const list = (direction: 'pass-fail' | 'fail-pass'): string => {
    const flips = comparison.flips.filter((flip) => flip.direction === direction);
    if (flips.length === 0) return '<p class="note">none</p>';
    const items = flips.map(
      (flip) =>
        `<li><button type="button" class="task-link" data-task="${escapeHtml(flip.taskId)}">${escapeHtml(flip.taskId)}</button> ${flip.before.c}/${flip.before.n} → ${flip.after.c}/${flip.after.n} (${escapeHtml(flip.change)})</li>`,
    );
    return `<ul class="flips" id="flips-${direction}">${items.join('')}</ul>`;
  };
  const only = (what: string, ids: string[]): string =>
    ids.length === 0 ? '' : `<p class="note">${ids.length} task(s) only in ${what}: ${escapeHtml(ids.join(', '))}</p>`;
  return [
    '<section id="comparison"><h2>Flipped tasks</h2>',
    `<p>Against the baseline <code>${escapeHtml(comparison.baseline.dir)}</code>. A task flips when its outcome moves between “all samples pass”, “some pass” and “none pass”: “fail → pass” and “pass → fail” when no sample passed on one side, “improved” and “worse” when some passed on both (e.g. 1/2 → 2/2). Counts are passed/samples, baseline → run.</p>`,
    `<h3>worse (${comparison.flips.filter((flip) => flip.direction === 'pass-fail').length})</h3>${list('pass-fail')}`,
    `<h3>better (${comparison.flips.filter((flip) => flip.direction === 'fail-pass').length})</h3>${list('fail-pass')}`,
    only('this run', comparison.onlyInRun),
    only('the baseline', comparison.onlyInBaseline),
    '</section>',
  ].join('');
}

/**
 * The report as one self-contained HTML page: inline CSS, script and SVG, no network. Every text from the run goes
 * through `escapeHtml` or into the JSON data (see `scriptSafeJson`), and the script writes it with `textContent` only,
 * so a sample's output cannot add markup or script to the page.
 */
export function renderReportHtml(run: ReportRun, options: RenderReportOptions = {}): string {
  const { comparison, generatedAt = new Date().toISOString() } = options;
  const data = reportPageData(run, comparison);
  const warnings = [...run.warnings, ...(comparison?.baseline.warnings.map((warning) => `baseline: ${warning}`) ?? [])];
  const legend = (Object.keys(OUTCOME_LABELS) as TaskOutcome[])
    .map(
      (outcome) =>
        `<li><span class="cell o-${outcome}" aria-hidden="true">${OUTCOME_GLYPHS[outcome]}</span> ` +
        `${escapeHtml(OUTCOME_LABELS[outcome])}</li>`,
    )
    .join('');
  const flipLegend =
    comparison === undefined
      ? ''
      : '<li><span class="cell o-some flip-pass-fail" aria-hidden="true">½</span> flipped: worse than the baseline (▼)</li><li><span class="cell o-all flip-fail-pass" aria-hidden="true">✓</span> flipped: better than the baseline (▲)</li>';
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src '${SCRIPT_HASH}'">
<meta name="viewport" content="width=device-width, initial-scale=1">
${run.programsUnavailable === null ? '' : `<meta name="${PROGRAMS_UNAVAILABLE_META}" content="true">\n`}<title>codeloop report: ${escapeHtml(runTitle(run.metrics))}</title>
<style>${REPORT_PAGE_STYLE}</style>
</head>
<body>
<header><h1>codeloop report: ${escapeHtml(runTitle(run.metrics))}</h1>${metadata(run)}</header>
${warnings.length === 0 ? '' : `<section id="warnings"><h2>Warnings</h2><ul>${warnings.map((warning) => `<li>${escapeHtml(warning)}</li>`).join('')}</ul></section>`}
<section id="scores"><h2>pass@k</h2>${passAtKTable(run, comparison)}
${chartFigure(run, comparison)}</section>
${completionSection(run)}
${comparison === undefined ? '' : flipsSection(comparison)}
<section id="tasks"><h2>Tasks</h2>
<ul class="legend">${legend}${flipLegend}</ul>
<fieldset class="filter"><legend>Show</legend>
<label><input type="radio" name="filter" value="all" checked> all</label>
<label><input type="radio" name="filter" value="failing"> failing (not every sample passes)</label>
<label><input type="radio" name="filter" value="flipped"${comparison === undefined ? ' disabled' : ''}> flipped${comparison === undefined ? ' (needs --compare)' : ''}</label>
<span id="shown"></span></fieldset>
<div id="grid" aria-label="tasks"></div>
<div id="detail"><p class="note">Click a task to see its samples.</p></div>
</section>
<footer>Written by codeloop ${escapeHtml(codeloopVersion())} at ${escapeHtml(generatedAt)}.</footer>
<script type="application/json" id="report-data">${scriptSafeJson(data)}</script>
<script>${REPORT_PAGE_SCRIPT}</script>
</body>
</html>
`;
}
