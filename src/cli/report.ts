import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import {
  compareRuns,
  loadRunDataset,
  PROGRAMS_UNAVAILABLE_META,
  readRunFolder,
  renderReportHtml,
  reportRun,
  type ReportRun,
} from '../report/index.js';
import type { LoadedDataset } from '../tasks/index.js';
import type { Command } from './command.js';

const usage = `Usage: codeloop report RUN [--compare BASELINE_RUN] [--out FILE.html] [--data-dir DIR]

Writes one self-contained HTML page (no network, no external files) about the codeloop eval run in folder RUN (its
--out folder): the run's reproducibility record, the pass@k table and curve, a grid of tasks coloured by outcome, and
for each task its samples with the program as run (rebuilt from the dataset and checked against the journal's
SHA-256), verdict, reason, output tails and duration.

With --compare, BASELINE_RUN is another run of the same dataset: pass@k side by side with the difference (run −
baseline), and the tasks that flipped (pass → fail, fail → pass) listed and marked in the grid.

Options:
  --out FILE.html      where to write the page (default: RUN/report.html)
  --compare DIR        a baseline run folder of the same dataset (same files, same checksums)
  --data-dir DIR       folder with the dataset files, to show whole programs (default: the folder the run read them
                       from, recorded in RUN/metrics.json)
  --force              replace a page that shows programs with one that cannot (refused by default: a wrong
                       --data-dir would otherwise overwrite a good report)`;

export interface WriteRunReportOptions {
  /** Baseline run folder to compare with. */
  compare?: string;
  /** Where to write the page. Default: `<runDir>/report.html`. */
  outFile?: string;
  /** Data folder for the dataset (see `loadRunDataset`). */
  dataDir?: string;
  /** The run's dataset when the caller has it loaded already (codeloop eval). */
  dataset?: LoadedDataset;
  /** Replace a page that shows programs with one that cannot (default false: refused, see `writeRunReport`). */
  force?: boolean;
}

async function joinRun(
  dir: string,
  dataset: LoadedDataset | undefined,
  dataDir: string | undefined,
): Promise<ReportRun> {
  const folder = readRunFolder(dir);
  if (dataset !== undefined) return reportRun(folder, { dataset });
  const loaded = await loadRunDataset(folder.metrics, dataDir === undefined ? {} : { dataDir });
  return 'dataset' in loaded
    ? reportRun(folder, { dataset: loaded.dataset })
    : reportRun(folder, { datasetUnavailable: loaded.unavailable });
}

/** Whether `path` is a report page that shows programs (exists, and lacks the programs-unavailable mark). */
function showsPrograms(path: string): boolean {
  if (!existsSync(path)) return false;
  return !readFileSync(path, 'utf8').includes(`<meta name="${PROGRAMS_UNAVAILABLE_META}"`);
}

/** Reads a run folder (and a baseline), writes the report page, and returns its path and what the page warns of. */
export async function writeRunReport(
  runDir: string,
  options: WriteRunReportOptions = {},
): Promise<{ path: string; warnings: string[] }> {
  const { compare, outFile = join(runDir, 'report.html'), dataDir, dataset, force = false } = options;
  const run = await joinRun(runDir, dataset, dataDir);
  const baseline = compare === undefined ? undefined : await joinRun(compare, undefined, dataDir);
  if (baseline !== undefined && baseline.dir === run.dir)
    throw new UsageError(
      `--compare ${compare} is the run itself; give the folder of another run of ${run.metrics.dataset.name}.`,
    );
  const comparison = baseline === undefined ? undefined : compareRuns(run, baseline);
  const path = resolve(outFile);
  // A wrong --data-dir must not turn a good page into one without programs.
  if (run.programsUnavailable !== null && !force && showsPrograms(path))
    throw new UsageError(
      `Not replacing ${path}: it shows the run's programs, and this report could not (${run.programsUnavailable}). ` +
        `Fix --data-dir (or drop it to use the folder the run recorded), write elsewhere with --out, or pass --force ` +
        `to replace it anyway.`,
    );
  try {
    writeFileSync(path, renderReportHtml(run, comparison === undefined ? {} : { comparison }));
  } catch (error) {
    throw new UsageError(
      `Cannot write the report to ${path}: ${(error as Error).message}; pass --out with a writable path.`,
      { cause: error },
    );
  }
  const warnings = [...run.warnings, ...(baseline?.warnings.map((warning) => `baseline: ${warning}`) ?? [])];
  if (run.programsUnavailable !== null) warnings.push(`programs are not shown: ${run.programsUnavailable}`);
  return { path, warnings };
}

export const reportCommand: Command = {
  name: 'report',
  summary: 'write a static HTML report of an eval run (pass@k curve, task grid, samples; --compare two runs)',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        compare: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
        force: { type: 'boolean', default: false },
      },
    });
    if (positionals.length === 0)
      throw new UsageError(
        'RUN is missing: give the --out folder of a codeloop eval run, e.g. codeloop report runs/he1.',
      );
    if (positionals.length > 1)
      throw new UsageError(
        `One run folder only (got ${positionals.map((value) => JSON.stringify(value)).join(', ')}); compare two runs ` +
          `with codeloop report RUN --compare OTHER_RUN.`,
      );
    const { path, warnings } = await writeRunReport(positionals[0] as string, {
      ...(values.compare === undefined ? {} : { compare: values.compare }),
      ...(values.out === undefined ? {} : { outFile: values.out }),
      ...(values['data-dir'] === undefined ? {} : { dataDir: values['data-dir'] }),
      force: values.force,
    });
    for (const warning of warnings) process.stderr.write(`codeloop report: warning: ${warning}\n`);
    process.stdout.write(`${path}\n`);
    return 0;
  },
};
