import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeRunFolder, type FixtureSample } from '../../test/report/report-fixture.js';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';
import { loadDataset } from '../tasks/index.js';
import { compareRuns } from './compare-runs.js';
import { readRunFolder } from './read-run-folder.js';
import { passAtKChartSvg } from './report-chart.js';
import { escapeHtml, renderReportHtml, reportPageData, scriptSafeJson } from './report-html.js';
import { loadRunDataset, reportRun } from './report-run.js';

const scratch = mkdtempSync(join(tmpdir(), 'codeloop-report-html-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

const HOSTILE =
  '    return None  # </script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"><!-- \u2028\n';
const HOSTILE_OUTPUT = '</pre><script>window.__pwned = 3</script>&lt;b&gt;';

async function hostileRun(name: string, fizzPasses: boolean) {
  const dataset = await loadDataset('examples');
  const fizz = dataset.tasks.find((task) => task.id === 'examples/py/fizzbuzz');
  const sum = dataset.tasks.find((task) => task.id === 'examples/js/sum-range');
  const samples: FixtureSample[] = [
    fizzPasses
      ? { taskId: 'examples/py/fizzbuzz', completion: fizz?.canonicalSolution ?? '', verdict: 'passed' }
      : {
          taskId: 'examples/py/fizzbuzz',
          completion: HOSTILE,
          verdict: 'failed',
          stdout: HOSTILE_OUTPUT,
          stderr: '<img src=y onerror=alert(1)>',
        },
    { taskId: 'examples/js/sum-range', completion: sum?.canonicalSolution ?? '', verdict: 'passed' },
    {
      taskId: 'examples/ts/median',
      completion: '  return 0;\n}\n',
      verdict: 'compile-error',
      reason: 'tsc: <error> TS2322',
    },
  ];
  const dir = join(scratch, name);
  writeRunFolder(dir, dataset, samples);
  return reportRun(readRunFolder(dir), { dataset });
}

/** The page without its two scripts' bodies: the markup every run text must be escaped in. */
function markupOf(html: string): string {
  return html.replace(/(<script[^>]*>)[\s\S]*?(<\/script>)/g, '$1$2');
}

test('escapeHtml and scriptSafeJson: no character that could end an element or open markup survives', () => {
  assert.equal(
    escapeHtml(`<a href="x" title='y'>&</a>`),
    '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
  );
  const value = { text: HOSTILE, more: ['</script>', '<!--', '&amp;', '\u2029'] };
  const json = scriptSafeJson(value);
  assert.doesNotMatch(json, /[<>&\u2028\u2029]/);
  assert.deepEqual(JSON.parse(json), value, 'the escapes are plain JSON: it parses back to the same value');
});

test('renderReportHtml: hostile sample text and output appear only escaped, and only the page’s own two scripts exist', async () => {
  const run = await hostileRun('hostile', false);
  const html = renderReportHtml(
    { ...run, metrics: { ...run.metrics, samplesFile: '/tmp/<b onclick=x>.jsonl' }, warnings: ['<i>warned</i>'] },
    { generatedAt: 'T' },
  );
  assert.equal(html.match(/<script\b/g)?.length, 2, 'the JSON data element and the page script');
  assert.match(html, /<script type="application\/json" id="report-data">/);
  const markup = markupOf(html);
  assert.doesNotMatch(markup, /<img|onerror=|window\.__pwned/, 'no run text reaches the markup unescaped');
  assert.match(markup, /<dd>\/tmp\/&#60;b onclick=x&#62;\.jsonl<\/dd>/, 'run metadata is escaped');
  assert.match(markup, /<li>&#60;i&#62;warned&#60;\/i&#62;<\/li>/, 'warnings are escaped');
  assert.doesNotMatch(markup, /<dt>model<\/dt>/, 'no model row when the samples do not name one');
  assert.match(
    renderReportHtml({ ...run, models: [{ name: '<m>', samples: 3 }] }),
    /<dt>model<\/dt><dd>&#60;m&#62;<\/dd>/,
  );
  // The data element's content cannot end early: its only "</script" is its own end tag.
  const data = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  assert.doesNotMatch(data, /</);
  const parsed = JSON.parse(data) as { strings: string[] };
  assert.ok(parsed.strings.includes(HOSTILE), 'the completion is carried as data, byte for byte');
  assert.ok(parsed.strings.includes(HOSTILE_OUTPUT));
  // Only the page's own script may run (CSP by hash), and nothing is loaded from anywhere.
  assert.match(
    html,
    /Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-[A-Za-z0-9+/]+=*'"/,
  );
  assert.doesNotMatch(html, /\b(src|href)=["']?(https?:|\/\/)/);
});

test('renderReportHtml: a metrics.json without the reproducibility fields (an older run) still renders, saying what is not recorded', async () => {
  const run = await hostileRun('old', true);
  const {
    runtimes: _runtimes,
    limits: _limits,
    executions: _executions,
    codeloopVersion: _version,
    isolation: _isolation,
    ...old
  } = run.metrics;
  const html = renderReportHtml({ ...run, metrics: old as typeof run.metrics });
  assert.match(html, /<dt>runtimes<\/dt><dd>not recorded<\/dd>/);
  assert.match(html, /<dt>limits<\/dt><dd>not recorded<\/dd>/);
  assert.match(html, /<dt>sandbox<\/dt><dd>not recorded<\/dd>/);
  assert.match(html, /<dt>samples<\/dt><dd>3 over 3 task\(s\), 3 counted in pass@k<\/dd>/);
});

test('reportPageData: tasks in order with their outcome, counts and samples; programs as before/after strings', async () => {
  const run = await hostileRun('data', false);
  const data = reportPageData(run);
  assert.deepEqual(
    data.tasks.map((task) => [task.id, task.outcome, task.c, task.n, task.first, task.flip]),
    [
      ['examples/py/fizzbuzz', 'none', 0, 1, 0, null],
      ['examples/js/sum-range', 'all', 1, 1, 1, null],
      ['examples/ts/median', 'compile-error', 0, 1, 2, null],
    ],
  );
  const [index, verdict, reason, text, kind, execution, verified] = data.samples[0] ?? [];
  assert.deepEqual(
    [index, data.verdicts[verdict ?? -1], data.strings[reason ?? -1], data.strings[text ?? -1], kind, verified],
    [0, 'failed', 'exited with code 1 (AssertionError)', HOSTILE, 0, 1],
  );
  assert.equal(data.strings[data.executions[execution ?? -1]?.[1] ?? -1], HOSTILE_OUTPUT);
  const template = data.tasks[0]?.completion;
  assert.ok(template !== null && template !== undefined);
  assert.match(data.strings[template[0]] ?? '', /^def fizzbuzz\(n: int\) -> list\[str\]:/);
  assert.match(data.strings[template[1]] ?? '', /check\(fizzbuzz\)\s*$/);
  assert.equal(data.comparing, false);
});

test('renderReportHtml with a comparison: side-by-side pass@k with deltas, flipped tasks listed and marked in the data', async () => {
  const run = await hostileRun('run', false);
  const baseline = await hostileRun('baseline', true);
  const comparison = compareRuns(run, baseline);
  const html = renderReportHtml(run, { comparison });
  assert.match(
    html,
    /<tr data-key="pass@1"><th>pass@1<\/th><td class="base-run">33\.33%<\/td><td class="base-baseline">66\.67%<\/td><td class="base-delta delta down">−33\.33<\/td><\/tr>/,
  );
  assert.match(
    html,
    /<ul class="flips" id="flips-pass-fail"><li><button type="button" class="task-link" data-task="examples\/py\/fizzbuzz">examples\/py\/fizzbuzz<\/button> 1\/1 → 0\/1 \(pass → fail\)<\/li><\/ul>/,
  );
  assert.match(html, /<h3>better \(0\)<\/h3><p class="note">none<\/p>/);
  assert.doesNotMatch(html, /value="flipped" disabled/);
  const data = reportPageData(run, comparison);
  assert.deepEqual(
    data.tasks.map((task) => [task.id, task.flip, task.baseline?.c]),
    [
      ['examples/py/fizzbuzz', 'pass-fail', 1],
      ['examples/js/sum-range', null, 1],
      ['examples/ts/median', null, 0],
    ],
  );
  // Only the flipped task carries the baseline's samples, with execution indices past the run's.
  const flipped = data.tasks[0];
  assert.equal(flipped?.baselineSamples?.n, 1);
  const baselineRow = data.samples[flipped?.baselineSamples?.first ?? -1] ?? [];
  assert.equal(data.verdicts[baselineRow[1] ?? -1], 'passed');
  assert.ok((baselineRow[5] ?? -1) >= run.executions.length);
  assert.deepEqual([data.tasks[1]?.baselineSamples, data.tasks[2]?.baselineSamples], [null, null]);
  // Without a comparison the flipped filter is there but disabled.
  assert.match(renderReportHtml(run), /value="flipped" disabled> flipped \(needs --compare\)/);
});

test('renderReportHtml: the table lists every k of the curve; one k draws no chart and says why', async () => {
  const run = await hostileRun('one-k', false);
  // One sample per task: pass@1 only, so no curve to draw.
  const single = renderReportHtml(run);
  assert.doesNotMatch(single, /<figure id="chart">/);
  assert.match(
    single,
    /<p class="note" id="no-chart">No pass@k curve: every task has only 1 sample, so pass@1 is the only point\./,
  );
  // A curve to k = 3 while metrics.json reported only pass@1 (--k 1): the table still lists pass@2 and pass@3.
  const curved = {
    ...run,
    curve: [
      { k: 1, base: 0.5 },
      { k: 2, base: 0.75 },
      { k: 3, base: 0.9 },
    ],
    metrics: { ...run.metrics, passAtK: { 'pass@1': 0.5 }, ks: [1] },
  };
  const html = renderReportHtml(curved);
  assert.deepEqual(
    [...html.matchAll(/<tr data-key="(pass@\d+)"><th>pass@\d+<\/th><td class="base">([\d.]+%)<\/td>/g)].map((match) => [
      match[1],
      match[2],
    ]),
    [
      ['pass@1', '50.00%'],
      ['pass@2', '75.00%'],
      ['pass@3', '90.00%'],
    ],
  );
  assert.match(html, /<figure id="chart">/);
});

test('compareRuns: 1/2 → 2/2 is "improved", 0/2 → 1/2 "fail → pass", 2/2 → 1/2 "worse"', async () => {
  const run = await hostileRun('change-run', false);
  const task = (id: string, c: number, n: number) =>
    ({
      ...run.tasks[0]!,
      id,
      c,
      n,
      outcome: c === n ? 'all' : c === 0 ? 'none' : 'some',
    }) as (typeof run.tasks)[number];
  const after = { ...run, tasks: [task('a', 2, 2), task('b', 1, 2), task('c', 1, 2), task('d', 0, 2)] };
  const before = {
    ...run,
    dir: '/elsewhere',
    tasks: [task('a', 1, 2), task('b', 0, 2), task('c', 2, 2), task('d', 1, 2)],
  };
  assert.deepEqual(
    compareRuns(after, before).flips.map((flip) => [flip.taskId, flip.direction, flip.change]),
    [
      ['a', 'fail-pass', 'improved'],
      ['b', 'fail-pass', 'fail → pass'],
      ['c', 'pass-fail', 'worse'],
      ['d', 'pass-fail', 'pass → fail'],
    ],
  );
});

test('passAtKChartSvg: points on a log k axis, one path per line, the baseline dashed; one point draws a marker only', () => {
  const svg = passAtKChartSvg([
    {
      label: 'base',
      color: '#0072B2',
      dashed: false,
      points: [1, 2, 4, 8, 16].map((k) => ({ k, value: 1 - 0.5 ** k })),
    },
    {
      label: 'baseline',
      color: '#0072B2',
      dashed: true,
      points: [
        { k: 1, value: 0.25 },
        { k: 16, value: 0.75 },
      ],
    },
  ]);
  assert.equal(svg.match(/<path class="curve"/g)?.length, 2);
  assert.match(
    svg,
    /<path class="curve" data-series="1" d="[^"]+" fill="none" stroke="#0072B2" stroke-width="2\.5" stroke-dasharray="7 4"\/>/,
  );
  const xs = [...svg.matchAll(/data-series="0" data-k="(\d+)" data-value="[^"]+" cx="([\d.]+)"/g)].map((match) => [
    Number(match[1]),
    Number(match[2]),
  ]);
  assert.deepEqual(
    xs.map(([k]) => k),
    [1, 2, 4, 8, 16],
  );
  // Log axis: k = 1, 2, 4, 8, 16 are evenly spaced.
  const gaps = xs.slice(1).map(([, x], index) => (x ?? 0) - (xs[index]?.[1] ?? 0));
  assert.ok(
    gaps.every((gap) => Math.abs(gap - (gaps[0] ?? 0)) < 0.2),
    `gaps ${gaps.join(', ')}`,
  );
  const single = passAtKChartSvg([
    { label: 'pass@k', color: '#0072B2', dashed: false, points: [{ k: 1, value: 0.5 }] },
  ]);
  assert.doesNotMatch(single, /<path/);
  assert.equal(single.match(/<circle class="point"/g)?.length, 1);
  assert.match(passAtKChartSvg([]), /no counted task, so no pass@k/);
});

const { dataDir, skip: noData } = sharedDatasets();

test(
  'an EvalPlus run (humaneval+): programs verified by solution text, plus counts, both curves and both score columns',
  { skip: noData },
  async () => {
    const dataset = await loadDataset('humaneval+', { dataDir });
    const canonical = (id: string): string => dataset.tasks.find((task) => task.id === id)?.canonicalSolution ?? '';
    const dir = join(scratch, 'humaneval-plus');
    const metrics = writeRunFolder(
      dir,
      dataset,
      [
        { taskId: 'HumanEval/0', completion: canonical('HumanEval/0'), verdict: 'passed', plus: 'passed' },
        { taskId: 'HumanEval/0', completion: '    return False\n', verdict: 'passed', plus: 'failed' },
        { taskId: 'HumanEval/1', completion: canonical('HumanEval/1'), verdict: 'passed', plus: 'timed-out' },
        { taskId: 'HumanEval/1', completion: '    return []\n', verdict: 'failed' },
      ],
      { ks: [1, 2] },
    );
    assert.deepEqual(metrics.passAtKPlus, { 'pass@1': 0.25, 'pass@2': 0.5 });
    const folder = readRunFolder(dir);
    const loaded = await loadRunDataset(folder.metrics);
    assert.ok(
      'dataset' in loaded,
      'the dataset is found from the data folder metrics.json recorded, checksums matching',
    );
    const changed = await loadRunDataset({
      ...folder.metrics,
      dataset: { ...folder.metrics.dataset, files: [{ path: 'HumanEvalPlus.jsonl.gz', sha256: '0'.repeat(64) }] },
    });
    assert.ok(
      'unavailable' in changed &&
        /HumanEvalPlus\.jsonl\.gz changed since the run \(SHA-256 differs from metrics\.json\), so only each sample’s own text is shown\.$/.test(
          changed.unavailable,
        ),
      JSON.stringify(changed),
    );
    const run = reportRun(folder, { dataset: loaded.dataset });
    assert.deepEqual(run.warnings, []);
    assert.ok(run.samples.every((sample) => sample.programVerified));
    assert.deepEqual(
      run.tasks.map((task) => [task.id, task.c, task.cPlus, task.n]),
      [
        ['HumanEval/0', 2, 1, 2],
        ['HumanEval/1', 1, 0, 2],
      ],
    );
    assert.deepEqual(run.curve, [
      { k: 1, base: 0.75, plus: 0.25 },
      { k: 2, base: 1, plus: 0.5 },
    ]);
    // EvalPlus runs the solution on its inputs: the program shown is prompt + completion, nothing after.
    assert.deepEqual(run.tasks[0]?.programTemplate?.completion, [dataset.tasks[0]?.prompt, '']);
    const html = renderReportHtml(run);
    assert.match(
      html,
      /<tr><th>k<\/th><th>base<\/th><th>plus<\/th><\/tr><tr data-key="pass@1"><th>pass@1<\/th><td class="base">75\.00%<\/td><td class="plus">25\.00%<\/td><\/tr>/,
    );
    assert.equal(html.match(/<path class="curve"/g)?.length, 2, 'base and plus curves');
    const data = reportPageData(run);
    const timedOut = data.samples[2] ?? [];
    assert.equal(data.verdicts[timedOut[7] ?? -1], 'timed-out', 'the plus verdict of HumanEval/1 sample 0');
    assert.equal(
      data.strings[data.executions[timedOut[5] ?? -1]?.[3] ?? -1],
      'base: pass, 3 input(s) passed\nplus: timeout, 1 input(s) passed, failed on input 1 (input 1: timed out)',
    );
  },
);

test('renderReportHtml: a run with sandbox failures says beside pass@k that the score is incomplete', async () => {
  const run = await hostileRun('incomplete', true);
  assert.doesNotMatch(renderReportHtml(run), /id="incomplete"/);
  const metrics = {
    ...run.metrics,
    excludedTasks: ['examples/ts/median'],
    verdicts: { ...run.metrics.verdicts, 'infra-error': 1 },
  };
  const html = renderReportHtml({ ...run, metrics });
  assert.match(
    html,
    /<p class="warning" id="incomplete">INCOMPLETE: pass@k leaves out 1 of 3 task\(s\) on which the sandbox failed \(infra-error on 1 sample\(s\)\); it is not the dataset&#39;s score/,
  );
  assert.ok(html.indexOf('id="incomplete"') < html.indexOf('id="pass-at-k"'), 'the warning comes before the scores');
});
