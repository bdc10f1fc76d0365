/**
 * Question: is `codeloop report` usable on a large run (issue 3: 1,000 tasks × 200 samples)? How long do building the
 * page and opening it take, how big is the file, and how quickly does a drill-down open? And what does writing the
 * report add to `codeloop eval --out` on a HumanEval-sized run (164 tasks × 100 samples)?
 *
 *   npm run build && node dist/bench/report-scale.js [--tasks 1000] [--samples 200] [--chromium /usr/bin/chromium]
 *
 * The run folder is synthetic (test/report/report-fixture.ts: results file and metrics.json written by codeloop's own
 * writeEvalOutputs, one journal line per distinct program), on copies of an `examples` task, every sample text
 * distinct (no de-duplication helps), a fifth of the samples failing with a traceback. Reference in the same run:
 * reading the folder's files (`readRunFolder`), the least any report must do; the ratio is report build time to that.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';
import { readRunFolder, renderReportHtml, reportRun } from '../src/report/index.js';
import { loadDataset, type Task } from '../src/tasks/index.js';
import { writeRunFolder, type FixtureSample } from '../test/report/report-fixture.js';

// The functions given to page.evaluate run in the page; codeloop compiles without the DOM's types.
declare const document: any;

const { values } = parseArgs({
  options: {
    tasks: { type: 'string', default: '1000' },
    samples: { type: 'string', default: '200' },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});

async function timed<T>(work: () => T | Promise<T>): Promise<[T, number]> {
  const started = performance.now();
  const result = await work();
  return [result, performance.now() - started];
}

async function measure(taskCount: number, perTask: number, withBrowser: boolean): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'codeloop-report-bench-'));
  try {
    const examples = await loadDataset('examples');
    const base = examples.tasks[0] as Task;
    const dataset = {
      ...examples,
      tasks: Array.from({ length: taskCount }, (_, index) => ({ ...base, id: `Synthetic/${index}` })),
    };
    const samples: FixtureSample[] = [];
    for (const [index, task] of dataset.tasks.entries()) {
      for (let sample = 0; sample < perTask; sample++) {
        const failing = (index * 7 + sample) % 5 === 0;
        samples.push({
          taskId: task.id,
          completion: `    return fizzbuzz_variant_${index}_${sample}(n)\n`,
          verdict: failing ? 'failed' : 'passed',
          ...(failing
            ? {
                stderr: `Traceback (most recent call last):\n  File "/work/main.py", line 18, in <module>\nAssertionError: sample ${index}/${sample}\n`,
              }
            : {}),
        });
      }
    }
    const dir = join(scratch, 'run');
    writeRunFolder(dir, dataset, samples, { ks: [1, 10, 100] });
    const [folder, readMs] = await timed(() => readRunFolder(dir));
    const [run, joinMs] = await timed(() => reportRun(folder, { dataset }));
    const [html, renderMs] = await timed(() => renderReportHtml(run));
    const file = join(dir, 'report.html');
    writeFileSync(file, html);
    const buildMs = readMs + joinMs + renderMs;
    console.log(`${taskCount} tasks × ${perTask} samples (${samples.length.toLocaleString('en')}):`);
    console.log(
      `  read the run folder ${readMs.toFixed(0)} ms (reference), join ${joinMs.toFixed(0)} ms, render ${renderMs.toFixed(0)} ms`,
    );
    console.log(
      `  report built in ${buildMs.toFixed(0)} ms = ${(buildMs / readMs).toFixed(2)}× reading the files; report.html ` +
        `${(statSync(file).size / 1e6).toFixed(1)} MB`,
    );
    if (!withBrowser) return;
    const browser = await chromium.launch({ executablePath: values.chromium, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const [, loadMs] = await timed(() => page.goto(pathToFileURL(file).href, { timeout: 300_000 }));
      const elements: number = await page.evaluate(() => document.querySelectorAll('*').length);
      const [, clickMs] = await timed(async () => {
        await page.click(`#grid .cell[data-task="Synthetic/${taskCount - 1}"]`);
        await page.waitForSelector('#sample-detail .program');
      });
      const [, filterMs] = await timed(() => page.check('input[name="filter"][value="failing"]'));
      console.log(
        `  Chromium: page loaded in ${loadMs.toFixed(0)} ms (${elements} elements), a task's ${perTask} samples ` +
          `opened in ${clickMs.toFixed(0)} ms, filter applied in ${filterMs.toFixed(0)} ms`,
      );
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

console.log(`report-scale: ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}, Node ${process.version}`);
await measure(Number(values.tasks), Number(values.samples), true);
// What `codeloop eval --out` now spends on report.html after scoring, on a HumanEval-sized run.
await measure(164, 100, false);
