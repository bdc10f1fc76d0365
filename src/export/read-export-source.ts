import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/index.js';
import { readEvalSource, type ReadEvalSourceOptions } from './read-eval-source.js';
import { readRewardsSource } from './read-rewards-source.js';
import { readSolveSource } from './read-solve-source.js';
import type { ExportSource } from './records.js';

/**
 * Reads the canonical records of a run folder, whichever command wrote it: `codeloop rewards score` (run.json and
 * results.jsonl), `codeloop solve` (attempts.jsonl) or `codeloop eval` (metrics.json). Anything else is a UsageError
 * that says what was looked for.
 */
export async function readExportSource(dir: string, options: ReadEvalSourceOptions = {}): Promise<ExportSource> {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(
      `--from ${dir}: not a folder. Give the --out folder of a codeloop eval, solve or rewards score run.`,
    );
  if (existsSync(join(dir, 'run.json')) && existsSync(join(dir, 'results.jsonl'))) return readRewardsSource(dir);
  if (existsSync(join(dir, 'attempts.jsonl'))) return readSolveSource(dir);
  if (existsSync(join(dir, 'metrics.json'))) return readEvalSource(dir, options);
  throw new UsageError(
    `--from ${dir}: not a run folder (no run.json + results.jsonl of codeloop rewards score, no attempts.jsonl of ` +
      'codeloop solve, no metrics.json of codeloop eval). Give the --out folder of one of those runs.',
  );
}
