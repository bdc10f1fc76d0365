import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/index.js';

/**
 * Which command wrote a run folder: `codeloop rewards score` (run.json and results.jsonl), `codeloop solve`
 * (attempts.jsonl) or `codeloop eval` (metrics.json). Anything else is a UsageError that says what was looked for.
 */
export function runFolderKind(dir: string): 'rewards' | 'solve' | 'eval' {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new UsageError(
      `--from ${dir}: not a folder. Give the --out folder of a codeloop eval, solve or rewards score run.`,
    );
  if (existsSync(join(dir, 'run.json')) && existsSync(join(dir, 'results.jsonl'))) return 'rewards';
  if (existsSync(join(dir, 'attempts.jsonl'))) return 'solve';
  if (existsSync(join(dir, 'metrics.json'))) return 'eval';
  throw new UsageError(
    `--from ${dir}: not a run folder (no run.json + results.jsonl of codeloop rewards score, no attempts.jsonl of ` +
      'codeloop solve, no metrics.json of codeloop eval). Give the --out folder of one of those runs.',
  );
}
