import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/index.js';
import type { Sample } from './samples.js';

/**
 * What makes a run folder one run: the dataset (name and file checksums), the samples scored (a digest of their task
 * ids and texts, so the same samples in another format or path still match) and the settings that change verdicts or
 * the scored tasks. Written to `OUT/run.json` before the first execution; a later run into the same folder must match,
 * or its metrics.json and report.html would silently replace this run's.
 */
export interface RunIdentity {
  dataset: string;
  /** SHA-256 of each dataset file, in load order. */
  datasetFiles: string[];
  /** SHA-256 over every sample's task id and text, in order (`samplesDigest`). */
  samples: string;
  /**
   * How many samples that digest covers. A later run whose first `sampleCount` samples have the recorded digest is the
   * same run topped up (`eval --model` appends the samples a rerun adds with a larger -n), not another run.
   */
  sampleCount: number;
  /** The samples file or folder as given, for the message (not compared: a moved file is the same samples). */
  samplesFile: string;
  sanitize: boolean;
  /** The tasks scored when not the whole dataset (`TaskSubset.selection`), else "all". */
  tasks: string;
}

/** SHA-256 over the samples' task ids and texts, independent of the file format they were read from. */
export function samplesDigest(samples: readonly Sample[]): string {
  const hash = createHash('sha256');
  for (const sample of samples)
    hash.update(JSON.stringify([sample.taskId, sample.completion ?? null, sample.solution ?? null])).update('\n');
  return hash.digest('hex');
}

const LABELS: Record<Exclude<keyof RunIdentity, 'samplesFile' | 'sampleCount'>, string> = {
  dataset: 'the dataset',
  datasetFiles: "the dataset files' checksums",
  samples: 'the samples',
  sanitize: '--sanitize',
  tasks: 'the tasks scored (--limit, --id-range, --subset)',
};

/**
 * Checks `identity` against `OUT/run.json` (writing it when absent). A folder of another run is a UsageError naming
 * what differs, the two values where they are short, and the fix (another --out). A folder written before codeloop
 * recorded run.json is checked by its metrics.json's dataset.
 */
export function claimRunFolder(outDir: string, identity: RunIdentity, samples: readonly Sample[]): void {
  const path = join(outDir, 'run.json');
  let recorded: Partial<RunIdentity> | undefined;
  if (existsSync(path)) {
    try {
      recorded = JSON.parse(readFileSync(path, 'utf8')) as Partial<RunIdentity>;
    } catch (error) {
      throw new UsageError(
        `${path} is not valid JSON (${(error as Error).message}): delete it, or use another --out for this run.`,
        { cause: error },
      );
    }
  } else if (existsSync(join(outDir, 'metrics.json'))) {
    try {
      const metrics = JSON.parse(readFileSync(join(outDir, 'metrics.json'), 'utf8')) as {
        dataset?: { name?: string };
      };
      if (metrics.dataset?.name !== undefined && metrics.dataset.name !== identity.dataset) {
        throw new UsageError(
          `${outDir} holds a run of ${metrics.dataset.name} (its metrics.json), not ${identity.dataset}: use another --out for this run.`,
        );
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
    }
  }
  if (recorded !== undefined) {
    for (const key of Object.keys(LABELS) as (keyof typeof LABELS)[]) {
      const before = JSON.stringify(recorded[key]);
      const now = JSON.stringify(identity[key]);
      if (before === now) continue;
      if (key === 'samples' && isTopUp(recorded, samples)) continue;
      const values = key === 'samples' || key === 'datasetFiles' ? '' : ` (${before} there, ${now} now)`;
      const samplesNote =
        key === 'samples'
          ? ` (that run scored ${recorded.samplesFile ?? 'other samples'}, this one ${identity.samplesFile})`
          : '';
      throw new UsageError(
        `${outDir} belongs to another run: ${LABELS[key]} differ${values}${samplesNote}. A run folder holds one run, ` +
          `and this one would replace its metrics.json and report.html: give this run its own --out, or delete ` +
          `${outDir} first.`,
      );
    }
    // A top-up extends the recorded samples: the record now covers all of them.
    if (recorded.samples === identity.samples && recorded.sampleCount === identity.sampleCount) return;
  }
  writeFileSync(path, `${JSON.stringify(identity, null, 2)}\n`);
}

/** The recorded run's samples are the first samples of this one, in the same order (a top-up appends). */
function isTopUp(recorded: Partial<RunIdentity>, samples: readonly Sample[]): boolean {
  const count = recorded.sampleCount;
  if (typeof count !== 'number' || !Number.isInteger(count) || count <= 0 || count > samples.length) return false;
  return samplesDigest(samples.slice(0, count)) === recorded.samples;
}
