import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import {
  DEFAULT_PAIR_RULE,
  EXPORT_FORMATS,
  evalSource,
  exportSource,
  isExportFormat,
  readRewardsSource,
  readSolveSource,
  runFolderKind,
  type ExportSource,
} from '../export/index.js';
import { loadRunDataset, readRunFolder, reportRun } from '../report/index.js';
import type { Command } from './command.js';
import { numberFlag } from './flags.js';

const usage = `Usage: codeloop export --from RUN --format FORMAT [--out FILE] [--data-dir DIR]

Writes training data for an RL or fine-tuning trainer from a run's records, as a pure function of them: RUN is the
--out folder of codeloop eval, codeloop solve or codeloop rewards score. Completions whose sandbox broke (infra
errors) or whose verdict was flaky are never exported as negatives. See docs/rewards.md ("Trainers").

Formats:
  trl-grpo   prompt-only rows for TRL GRPO/RLOO, each with its reward-service row (eval and rewards runs)
  trl-dpo    preference pairs (AceCoder's rule, plus fixed-vs-broken repair pairs from solve runs)
  trl-kto    unpaired completions labelled true when every test passed
  sft        repair trajectories that end in a pass (solve runs)
  openrlhf   prompt rows {input, label} for OpenRLHF with --data.input_key input --data.label_key label
  verl       verl RL rows as Parquet (needs --out)

Options:
  --from DIR        the run folder
  --format NAME     ${EXPORT_FORMATS.join(' | ')}
  --out FILE        where to write (default: standard output; required for verl)
  --data-dir DIR    eval runs: folder with the dataset files (default: the one the run recorded)
  --min-chosen X    trl-dpo: least pass rate of a chosen answer (default ${DEFAULT_PAIR_RULE.minChosen})
  --min-gap X       trl-dpo: least pass-rate gap between chosen and rejected (default ${DEFAULT_PAIR_RULE.minGap})`;

/**
 * The records of a run folder. An eval run is read through `report` (results, journal and dataset joined as the
 * report joins them); the export area cannot import `report`, which is on its own layer.
 */
async function readSource(dir: string, dataDir: string | undefined): Promise<ExportSource> {
  const kind = runFolderKind(dir);
  if (kind === 'rewards') return readRewardsSource(dir);
  if (kind === 'solve') return readSolveSource(dir);
  const folder = readRunFolder(dir);
  const loaded = await loadRunDataset(folder.metrics, dataDir === undefined ? {} : { dataDir });
  if ('unavailable' in loaded)
    throw new UsageError(
      `--from ${dir}: the prompts come from the run's dataset, which cannot be used: ${loaded.unavailable} ` +
        '(--data-dir DIR names the folder with the dataset files).',
    );
  const run = reportRun(folder, { dataset: loaded.dataset });
  return evalSource({
    dir: run.dir,
    resultsPath: run.resultsPath,
    datasetName: folder.metrics.dataset.name,
    samples: run.samples,
    tasks: loaded.dataset.tasks,
    warnings: run.warnings,
  });
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write trainer data (TRL GRPO/DPO/KTO, SFT, OpenRLHF, verl Parquet) from an eval, solve or rewards run',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      allowPositionals: false,
      options: {
        from: { type: 'string' },
        format: { type: 'string' },
        out: { type: 'string' },
        'data-dir': { type: 'string' },
        'min-chosen': { type: 'string' },
        'min-gap': { type: 'string' },
      },
    });
    if (values.from === undefined) throw new UsageError('--from is missing: give the --out folder of a run.');
    if (values.format === undefined || !isExportFormat(values.format))
      throw new UsageError(
        `--format ${values.format === undefined ? 'is missing' : JSON.stringify(values.format)}: ` +
          `use one of ${EXPORT_FORMATS.join(', ')}.`,
      );
    if (values.format === 'verl' && values.out === undefined)
      throw new UsageError('--format verl writes a Parquet file: give --out FILE.parquet.');
    const minChosen = numberFlag('--min-chosen', values['min-chosen'], { min: 0, max: 1 });
    const minGap = numberFlag('--min-gap', values['min-gap'], { min: 0, max: 1 });
    const source = await readSource(values.from, values['data-dir']);
    const result = exportSource(source, values.format, {
      pairRule: {
        ...(minChosen === undefined ? {} : { minChosen }),
        ...(minGap === undefined ? {} : { minGap }),
      },
    });
    for (const warning of result.warnings) process.stderr.write(`codeloop export: warning: ${warning}\n`);
    const content = result.kind === 'parquet' ? (result.bytes as Uint8Array) : (result.text as string);
    if (values.out === undefined) process.stdout.write(content);
    else {
      const path = resolve(values.out);
      try {
        writeFileSync(path, content);
      } catch (error) {
        throw new UsageError(`Cannot write ${path}: ${(error as Error).message}; pass --out with a writable path.`, {
          cause: error,
        });
      }
    }
    process.stderr.write(`codeloop export: ${result.summary}${values.out === undefined ? '' : ` -> ${values.out}`}\n`);
    return 0;
  },
};
