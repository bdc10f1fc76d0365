// `codeloop report` end to end: two real `codeloop eval` runs on the examples dataset (passing, failing, timed-out,
// compile-error and hostile samples), the report of one compared with the other, opened in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core) and checked as a person would use it: scores, grid, drill-down, filters,
// the chart on a screenshot, and that hostile sample text did not run.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { sampleProgram } from '../../src/eval/index.js';
import { readRunFolder, renderReportHtml, reportRun } from '../../src/report/index.js';
import { loadDataset, type Task } from '../../src/tasks/index.js';
import { noSandbox, repositoryRoot } from '../eval/helpers.js';
import { decodePng } from './png.js';
import { writeRunFolder, type FixtureSample } from './report-fixture.js';

// The functions given to page.evaluate run in the page; codeloop compiles without the DOM's types.
declare const document: any;
declare const window: any;
declare const getComputedStyle: any;

const CHROMIUM = process.env.CODELOOP_CHROMIUM ?? '/usr/bin/chromium';
const noChromium = existsSync(CHROMIUM)
  ? false
  : `${CHROMIUM} not found: install Debian's chromium (scripts/install-system-deps.sh) or set CODELOOP_CHROMIUM`;
const skip = noSandbox || noChromium;

const bin = join(repositoryRoot(), 'bin', 'codeloop.js');
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-report-browser-'));
/** Screenshots are kept here when set, to look at. */
const keepScreenshots = process.env.CODELOOP_REPORT_SCREENSHOTS;

const HOSTILE =
  '    return None  # </script><script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">\n';
const MUTANTS: Record<string, [string, string]> = {
  'examples/py/bisect-left': ['lo, hi = 0, len(xs)', 'lo, hi = 0, len(xs) - 1'],
  'examples/py/to-roman': ['while n >= value', 'while n > value'],
  'examples/js/is-palindrome': ['let j = chars.length - 1', 'let j = chars.length - 2'],
  'examples/ts/window-max': ['start + k <= xs.length', 'start + k < xs.length'],
};

/** Two samples per task, as [run, baseline]; each entry is the task's two completions. */
type Plan = Record<string, [string, string]>;

function codeloop(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    timeout: 240_000,
  });
}

let tasks: Task[] = [];
let browser: Browser | undefined;
let page: Page;
let runDir = '';
let baselineDir = '';
let evalStdout = '';
/** Expected outcome class per task in the run, and the flipped tasks against the baseline. */
const EXPECTED_OUTCOMES: Record<string, string> = {
  'examples/py/fizzbuzz': 'none',
  'examples/py/bisect-left': 'some',
  'examples/py/to-roman': 'all',
  'examples/py/primes-up-to': 'timed-out',
  'examples/js/sum-range': 'all',
  'examples/js/rotate-right': 'all',
  'examples/js/is-palindrome': 'none',
  'examples/js/run-length-encode': 'all',
  'examples/ts/median': 'compile-error',
  'examples/ts/pascal-row': 'all',
  'examples/ts/merge-intervals': 'all',
  'examples/ts/window-max': 'some',
};
const FLIPPED = {
  'examples/py/fizzbuzz': 'pass-fail',
  'examples/py/to-roman': 'fail-pass',
  'examples/py/primes-up-to': 'pass-fail',
  // 1/2 in the baseline, 2/2 now: better, but "improved", not "fail → pass".
  'examples/ts/pascal-row': 'fail-pass',
};

function writeSamples(path: string, plan: Plan): void {
  const lines = tasks.flatMap((task) =>
    (plan[task.id] ?? ['', '']).map((completion) => JSON.stringify({ task_id: task.id, completion })),
  );
  writeFileSync(path, `${lines.join('\n')}\n`);
}

before(async () => {
  if (skip) return;
  tasks = (await loadDataset('examples')).tasks;
  const canonical = (id: string): string => tasks.find((task) => task.id === id)?.canonicalSolution ?? '';
  const mutant = (id: string): string => {
    const [from, to] = MUTANTS[id] ?? ['', ''];
    return canonical(id).replace(from, to);
  };
  const both = (text: string): [string, string] => [text, text];
  const run: Plan = Object.fromEntries(tasks.map((task) => [task.id, both(canonical(task.id))]));
  run['examples/py/fizzbuzz'] = both(HOSTILE);
  run['examples/py/bisect-left'] = [canonical('examples/py/bisect-left'), mutant('examples/py/bisect-left')];
  run['examples/py/primes-up-to'] = both('    while True:\n        pass\n');
  run['examples/js/is-palindrome'] = both(mutant('examples/js/is-palindrome'));
  run['examples/ts/median'] = both('  return "two";\n}\n');
  run['examples/ts/window-max'] = [canonical('examples/ts/window-max'), mutant('examples/ts/window-max')];
  const baseline: Plan = { ...run };
  baseline['examples/py/fizzbuzz'] = both(canonical('examples/py/fizzbuzz'));
  baseline['examples/py/to-roman'] = both(mutant('examples/py/to-roman'));
  baseline['examples/py/primes-up-to'] = both(canonical('examples/py/primes-up-to'));
  baseline['examples/ts/pascal-row'] = [canonical('examples/ts/pascal-row'), '  return [];\n}\n'];
  runDir = join(scratch, 'run');
  baselineDir = join(scratch, 'baseline');
  writeSamples(join(scratch, 'run.jsonl'), run);
  writeSamples(join(scratch, 'baseline.jsonl'), baseline);
  for (const [samples, out] of [
    ['run.jsonl', runDir],
    ['baseline.jsonl', baselineDir],
  ] as const) {
    if (out === baselineDir) {
      // Most of the baseline's programs are the run's: start from the run's journal (resume), so only the three that
      // differ are executed. The report must then tell the baseline's own lines from the run's by program SHA-256.
      mkdirSync(baselineDir, { recursive: true });
      copyFileSync(join(runDir, 'executions.jsonl'), join(baselineDir, 'executions.jsonl'));
    }
    const result = codeloop([
      'eval',
      '--dataset',
      'examples',
      '--samples',
      join(scratch, samples),
      '--subset',
      '--out',
      out,
      '--k',
      '1,2',
      '--concurrency',
      '2',
    ]);
    assert.equal(result.status, 0, result.stderr);
    if (out === runDir) evalStdout = result.stdout;
  }
  const report = codeloop(['report', runDir, '--compare', baselineDir, '--out', join(scratch, 'compare.html')]);
  assert.equal(report.status, 0, report.stderr);
  assert.equal(report.stdout, `${join(scratch, 'compare.html')}\n`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(pathToFileURL(join(scratch, 'compare.html')).href);
  assert.deepEqual(errors, [], 'the page script ran without errors');
});

after(async () => {
  await browser?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('codeloop eval --out writes report.html and prints its path', { skip }, () => {
  assert.match(
    evalStdout,
    new RegExp(`^  report: ${join(runDir, 'report.html').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
  );
  const html = readFileSync(join(runDir, 'report.html'), 'utf8');
  assert.match(html, /<title>codeloop report: examples<\/title>/);
  assert.doesNotMatch(html, /\b(src|href)=["']?(https?:|\/\/)/, 'self-contained: nothing loaded from the network');
});

test('the pass@k table shows both runs’ metrics.json values side by side, with the difference', { skip }, async () => {
  const metrics = (dir: string) =>
    JSON.parse(readFileSync(join(dir, 'metrics.json'), 'utf8')) as { passAtK: Record<string, number> };
  const run = metrics(runDir).passAtK;
  const baseline = metrics(baselineDir).passAtK;
  const rows = await page.$$eval('#pass-at-k tr[data-key]', (trs) =>
    trs.map((tr) => [tr.getAttribute('data-key'), ...[...tr.querySelectorAll('td')].map((td) => td.textContent)]),
  );
  const percent = (value: number | undefined): string => `${((value ?? Number.NaN) * 100).toFixed(2)}%`;
  assert.deepEqual(
    rows,
    ['pass@1', 'pass@2'].map((key) => {
      const delta = ((run[key] ?? 0) - (baseline[key] ?? 0)) * 100;
      return [
        key,
        percent(run[key]),
        percent(baseline[key]),
        `${delta > 0 ? '+' : delta < 0 ? '−' : '±'}${Math.abs(delta).toFixed(2)}`,
      ];
    }),
  );
  assert.equal(run['pass@1'], 7 / 12, 'six tasks pass both samples, two one of two: (6 + 2 × 0.5) / 12');
});

test('the grid has one cell per task, classed by outcome and marked when flipped', { skip }, async () => {
  const cells = await page.$$eval('#grid .cell', (nodes) =>
    nodes.map((node) => [node.getAttribute('data-task'), node.className, node.textContent]),
  );
  assert.equal(cells.length, 12);
  for (const [id, className] of cells) {
    const expected = EXPECTED_OUTCOMES[id ?? ''];
    assert.ok(className?.split(' ').includes(`o-${expected}`), `${id}: ${className}, expected o-${expected}`);
    const flip = (FLIPPED as Record<string, string>)[id ?? ''];
    assert.equal(/flip-(pass-fail|fail-pass)/.exec(className ?? '')?.[1], flip, `${id}: flip mark`);
  }
  // Task ids are on the grid (without the "examples/" every id shares), not only in the hover title.
  const labels = await page.$$eval('#grid .cell', (nodes) =>
    nodes.map((node) => [node.getAttribute('data-task'), getComputedStyle(node, '::before').content]),
  );
  for (const [id, content] of labels) assert.equal(content, JSON.stringify((id ?? '').slice('examples/'.length)));
  // A flipped cell's mark (its border and the ▲/▼ badge, which reaches 4 px above and 3 px right of the cell) stays
  // clear of its neighbours.
  const boxes = await page.$$eval('#grid .cell', (nodes) =>
    nodes.map((node) => {
      const rect = node.getBoundingClientRect();
      return {
        flipped: /flip-/.test(node.className),
        outline: getComputedStyle(node).outlineStyle,
        box: [rect.left, rect.top, rect.right, rect.bottom],
      };
    }),
  );
  for (const [index, cell] of boxes.entries()) {
    if (!cell.flipped) continue;
    assert.equal(cell.outline, 'none');
    const [left = 0, top = 0, right = 0, bottom = 0] = cell.box;
    for (const [other, neighbour] of boxes.entries()) {
      if (other === index) continue;
      const [l = 0, t = 0, r = 0, b = 0] = neighbour.box;
      const overlaps = l < right + 3 && r > left && t < bottom && b > top - 4;
      assert.equal(overlaps, false, `cell ${index}'s flip mark overlaps cell ${other}`);
    }
  }
  // The text cue: a glyph per outcome, so colour is not the only signal.
  assert.deepEqual(
    Object.fromEntries(
      cells
        .filter(([id]) =>
          [
            'examples/py/fizzbuzz',
            'examples/py/bisect-left',
            'examples/py/to-roman',
            'examples/py/primes-up-to',
            'examples/ts/median',
          ].includes(id ?? ''),
        )
        .map(([id, , glyph]) => [id, glyph]),
    ),
    {
      'examples/py/fizzbuzz': '✗',
      'examples/py/bisect-left': '½',
      'examples/py/to-roman': '✓',
      'examples/py/primes-up-to': 'T',
      'examples/ts/median': 'C',
    },
  );
});

test(
  'clicking a failing task shows its program as run (verified), verdict, reason and output; the hostile text did not run',
  { skip },
  async () => {
    await page.click('#grid .cell[data-task="examples/py/fizzbuzz"]');
    await page.waitForSelector('#sample-detail .program');
    const detail = await page.evaluate(() => ({
      summary: document.querySelector('#detail .task-summary')?.textContent,
      verdict: document.querySelector('#sample-detail .verdict')?.textContent,
      fields: document.querySelector('#sample-detail')?.textContent,
      note: document.querySelector('#sample-detail .program-note')?.textContent,
      program: document.querySelector('#sample-detail .program')?.textContent,
      sampleText: document.querySelector('#sample-detail .program .text')?.textContent,
      stderr: document.querySelector('#sample-detail .stderr')?.textContent,
      gutter: document.querySelector('#sample-detail .listing .gutter')?.textContent,
      failedLine: document.querySelector('#sample-detail .gutter .failed-line')?.textContent,
      failedAt: document.querySelector('#sample-detail .failed-at')?.textContent,
      images: document.querySelectorAll('img').length,
      scripts: document.querySelectorAll('script').length,
      pwned: (window as unknown as { __pwned?: unknown }).__pwned,
    }));
    const task = tasks.find((candidate) => candidate.id === 'examples/py/fizzbuzz');
    assert.ok(task !== undefined);
    assert.equal(detail.summary, '0/2 samples passed; baseline: 2/2 (flipped: pass → fail)');
    assert.equal(detail.verdict, 'failed');
    assert.match(detail.fields ?? '', /reason: exited with code 1 \(AssertionError\)/);
    assert.match(detail.fields ?? '', /duration: \d+ ms/);
    assert.match(detail.note ?? '', /^Program as run: rebuilt from the dataset, its SHA-256 matches the journal\./);
    assert.equal(
      detail.program,
      sampleProgram(task, { completion: HOSTILE }),
      'prompt + completion + tests, byte for byte',
    );
    assert.equal(detail.sampleText, HOSTILE, 'the hostile completion is shown as text');
    assert.match(detail.stderr ?? '', /AssertionError/);
    // Line numbers beside the program (not in its text), and the assertion the traceback ends in, quoted and marked.
    const programLines = (detail.program ?? '').replace(/\n$/, '').split('\n');
    assert.equal(detail.gutter, programLines.map((_, index) => String(index + 1)).join('\n'));
    const cited = [...(detail.stderr ?? '').matchAll(/File "(?:<string>|[^"]*main\.py)", line (\d+)/g)].at(-1)?.[1];
    assert.ok(cited !== undefined, detail.stderr);
    assert.equal(detail.failedLine, cited);
    assert.equal(detail.failedAt, `line ${cited}: ${programLines[Number(cited) - 1]?.trim()}`);
    assert.match(detail.failedAt ?? '', /^line \d+: assert /);
    assert.equal(detail.images, 0, 'no <img> was created from sample text');
    assert.equal(detail.scripts, 2, 'no <script> was added');
    assert.equal(detail.pwned, undefined, 'the injected script did not run');

    // A flipped task also lists the baseline's samples: the baseline's passing program, verified.
    assert.equal(await page.locator('#baseline-samples .sample').count(), 2);
    await page.click('#baseline-samples .sample >> nth=0');
    assert.equal(await page.textContent('#sample-detail h3'), 'baseline: examples/py/fizzbuzz sample 0');
    assert.equal(await page.textContent('#sample-detail .verdict'), 'passed');
    assert.equal(
      await page.textContent('#sample-detail .program'),
      sampleProgram(task, { completion: task.canonicalSolution ?? '' }),
    );
    assert.match((await page.textContent('#sample-detail .program-note')) ?? '', /^Program as run: /);
    // An unflipped task has no baseline list.
    await page.click('#grid .cell[data-task="examples/js/sum-range"]');
    assert.equal(await page.locator('#baseline-samples').count(), 0);

    // A timed-out task shows its verdict and reason too.
    await page.click('#grid .cell[data-task="examples/py/primes-up-to"]');
    await page.waitForFunction(
      () => document.querySelector('#detail')?.getAttribute('data-task') === 'examples/py/primes-up-to',
    );
    assert.equal(await page.textContent('#sample-detail .verdict'), 'timed-out');
  },
);

test('the filters: flipped shows exactly the flipped tasks, failing every task not all passing', { skip }, async () => {
  const visible = () =>
    page.$$eval('#grid .cell', (nodes) =>
      nodes
        .filter(
          (node) =>
            !(node as { hidden?: boolean }).hidden &&
            (node as unknown as { offsetParent: unknown }).offsetParent !== null,
        )
        .map((node) => node.getAttribute('data-task')),
    );
  await page.check('input[name="filter"][value="flipped"]');
  assert.deepEqual((await visible()).sort(), Object.keys(FLIPPED).sort());
  assert.equal(await page.textContent('#shown'), 'showing 4 of 12 tasks');
  await page.check('input[name="filter"][value="failing"]');
  assert.deepEqual(
    (await visible()).sort(),
    Object.entries(EXPECTED_OUTCOMES)
      .filter(([, outcome]) => outcome !== 'all')
      .map(([id]) => id)
      .sort(),
  );
  await page.check('input[name="filter"][value="all"]');
  assert.equal((await visible()).length, 12);
  // The flipped list links to the task.
  assert.match(
    (await page.textContent('#flips-fail-pass')) ?? '',
    /examples\/py\/to-roman 0\/2 → 2\/2 \(fail → pass\).*examples\/ts\/pascal-row 1\/2 → 2\/2 \(improved\)/,
  );
  await page.click('#flips-fail-pass .task-link[data-task="examples/py/to-roman"]');
  assert.equal(await page.getAttribute('#detail', 'data-task'), 'examples/py/to-roman');
});

test(
  'screenshot: the chart renders its curves (pixels of the run’s colour at each point and along the lines)',
  { skip },
  async () => {
    const chart = page.locator('#chart svg');
    const png = await chart.screenshot();
    if (keepScreenshots !== undefined) writeFileSync(join(keepScreenshots, 'report-chart.png'), png);
    const image = decodePng(png);
    const at = (x: number, y: number): number[] => {
      const offset = (Math.round(y) * image.width + Math.round(x)) * 4;
      return [image.rgba[offset] ?? 0, image.rgba[offset + 1] ?? 0, image.rgba[offset + 2] ?? 0];
    };
    const points: { x: number; y: number }[] = await page.$$eval(
      '#chart circle.point[data-series="0"]',
      (circles: any[]) =>
        circles.map((circle) => ({ x: Number(circle.getAttribute('cx')), y: Number(circle.getAttribute('cy')) })),
    );
    const isRunBlue = (rgb: number[] | null): boolean =>
      rgb !== null &&
      Math.abs((rgb[0] ?? 0) - 0) < 40 &&
      Math.abs((rgb[1] ?? 0) - 114) < 40 &&
      Math.abs((rgb[2] ?? 0) - 178) < 40;
    let blue = 0;
    for (let y = 0; y < image.height; y++) for (let x = 0; x < image.width; x++) if (isRunBlue(at(x, y))) blue++;
    const [first, second] = points;
    const result = {
      width: image.width,
      height: image.height,
      colours: points.map((point) => at(point.x, point.y)),
      middle:
        first === undefined || second === undefined ? null : at((first.x + second.x) / 2, (first.y + second.y) / 2),
      blue,
      background: at(2, 2),
    };
    // The SVG is 640 × 320 CSS pixels; the element's box may sit on a fractional pixel, so the clip can be one larger.
    assert.ok(
      Math.abs(result.width - 640) <= 1 && Math.abs(result.height - 320) <= 1,
      `${result.width} × ${result.height}`,
    );
    assert.deepEqual(result.background, [255, 255, 255]);
    assert.equal(result.colours.length, 2, 'k = 1 and k = 2');
    for (const colour of result.colours)
      assert.ok(isRunBlue(colour), `a point's centre is the run's blue: ${colour.join(',')}`);
    assert.ok(isRunBlue(result.middle), `the line between the points is drawn: ${result.middle?.join(',')}`);
    assert.ok(result.blue > 300, `${result.blue} pixels of the curve's colour`);
  },
);

test('codeloop report: usage errors name the value and the fix', { skip: noSandbox }, () => {
  const missing = codeloop(['report']);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /codeloop report: RUN is missing: give the --out folder of a codeloop eval run/);
  const notRun = codeloop(['report', scratch]);
  assert.equal(notRun.status, 2);
  assert.match(notRun.stderr, /metrics\.json not found: is .* the --out folder of a codeloop eval run\?/);
  if (runDir !== '') {
    const self = codeloop(['report', runDir, '--compare', runDir]);
    assert.equal(self.status, 2);
    assert.match(self.stderr, /--compare .* is the run itself/);
  }
});

test(
  'a large run (1,000 tasks × 10 samples) loads with only the grid built; a drill-down builds one task’s samples',
  { skip: noChromium, timeout: 120_000 },
  async () => {
    // bench/report-scale.ts measures the 1,000 × 200 case; this checks the lazy rendering that makes it usable.
    const examples = await loadDataset('examples');
    const base = examples.tasks[0] as Task;
    const dataset = {
      ...examples,
      tasks: Array.from({ length: 1000 }, (_, index) => ({ ...base, id: `Synthetic/${index}` })),
    };
    const samples: FixtureSample[] = dataset.tasks.flatMap((task, index) =>
      Array.from({ length: 10 }, (_, sample): FixtureSample => ({
        taskId: task.id,
        completion: `    return variant_${index}_${sample}(n)\n`,
        verdict: (index + sample) % 4 === 0 ? 'failed' : 'passed',
      })),
    );
    const dir = join(scratch, 'large');
    writeRunFolder(dir, dataset, samples, { ks: [1, 10] });
    const file = join(dir, 'report.html');
    writeFileSync(file, renderReportHtml(reportRun(readRunFolder(dir), { dataset })));
    // Without a sandbox the runs above are skipped and no browser was started; this test needs none of them.
    const own =
      browser === undefined ? await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] }) : undefined;
    const large = await ((browser ?? own) as Browser).newPage();
    try {
      await large.goto(pathToFileURL(file).href);
      const loaded = await large.evaluate(() => ({
        cells: document.querySelectorAll('#grid .cell').length,
        samples: document.querySelectorAll('.sample').length,
        nodes: document.querySelectorAll('*').length,
      }));
      assert.equal(loaded.cells, 1000);
      assert.equal(loaded.samples, 0, 'no sample is rendered before a task is opened');
      assert.ok(loaded.nodes < 1500, `${loaded.nodes} elements for 10,000 samples`);
      await large.click('#grid .cell[data-task="Synthetic/999"]');
      await large.waitForSelector('#sample-detail .program');
      assert.equal(await large.evaluate(() => document.querySelectorAll('#detail .sample').length), 10);
      assert.match(
        (await large.textContent('#sample-detail .program .text')) ?? '',
        /^    return variant_999_\d\(n\)\n$/,
      );
    } finally {
      await large.close();
      await own?.close();
    }
  },
);
