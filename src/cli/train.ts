import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import { SMOKE_DEFAULTS, TRAIN_DEFAULTS, type TrainDefaults } from '../train/defaults.js';
import { prepareRun } from '../train/prepare.js';
import { trainRun } from '../train/train.js';
import type { Command } from './main.js';

const usage = `Usage: codeloop train <step> --run DIR [options]

Trains codeloop's embedded code model (docs/embedded-model.md). Steps, in order:
  prepare   corpus (this checkout's node_modules, Node's npm, Python's stdlib) → DIR/corpus, tokenizer, token streams
  run       train (resumes from DIR/checkpoint.bin); checkpoints every 10 min and on SIGINT/SIGTERM
  all       prepare + run

Options:
  --run DIR           run directory (keep it outside the repo while training)
  --until TIME        stop and checkpoint at TIME: HH:MM (UTC, today) or an ISO date
  --max-steps N       stop after N steps in this invocation
  --smoke             tiny configuration (trains in well under 2 minutes); --run defaults to a temp dir
  --tokens N          token budget of the LR schedule (default ${TRAIN_DEFAULTS.train.totalTokens})
  --lr X              peak learning rate (default ${TRAIN_DEFAULTS.train.learningRate})`;

function repoRoot(): string {
  // dist/src/cli/train.js → repo root
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function parseUntil(value: string, now = new Date()): Date {
  const clock = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (clock) {
    const date = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), Number(clock[1]), Number(clock[2])));
    if (date.getTime() < now.getTime() - 12 * 3600_000) date.setUTCDate(date.getUTCDate() + 1);
    return date;
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--until ${JSON.stringify(value)} is not a time; give HH:MM (UTC) or an ISO date such as 2026-12-02T05:35:00Z`);
  return date;
}

function positiveNumber(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new UsageError(`${flag} ${JSON.stringify(value)} must be a positive number`);
  return number;
}

export const trainCommand: Command = {
  name: 'train',
  summary: "train codeloop's embedded code model (corpus, tokenizer, FIM, trainer)",
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        run: { type: 'string' },
        until: { type: 'string' },
        'max-steps': { type: 'string' },
        smoke: { type: 'boolean', default: false },
        tokens: { type: 'string' },
        lr: { type: 'string' },
      },
    });
    const step = positionals[0];
    const steps = ['prepare', 'run', 'all'];
    if (!step || !steps.includes(step)) throw new UsageError(`give a step: one of ${steps.join(', ')} (got ${JSON.stringify(step ?? '')})`);
    const base = values.smoke ? SMOKE_DEFAULTS : TRAIN_DEFAULTS;
    const tokens = positiveNumber('--tokens', values.tokens);
    const lr = positiveNumber('--lr', values.lr);
    const defaults: TrainDefaults = { ...base, train: { ...base.train, ...(tokens ? { totalTokens: tokens } : {}), ...(lr ? { learningRate: lr } : {}) } };
    const runDir = values.run ? resolve(values.run) : values.smoke ? mkdtempSync(join(tmpdir(), 'codeloop-train-smoke-')) : undefined;
    if (!runDir) throw new UsageError('--run DIR is required (a directory outside the repository, e.g. ../train-runs/embedded)');
    const log = (message: string): void => {
      process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
    };
    log(`run directory ${runDir}`);
    if (step === 'prepare' || step === 'all') {
      prepareRun(runDir, defaults, repoRoot(), { onLog: log, ...(values.smoke ? { maxTrainBytes: 400_000 } : {}) });
    }
    if (step === 'run' || step === 'all') {
      const controller = new AbortController();
      const stop = (signal: string) => () => {
        log(`${signal}: finishing the step and checkpointing`);
        controller.abort();
      };
      const onInt = stop('SIGINT');
      const onTerm = stop('SIGTERM');
      process.once('SIGINT', onInt);
      process.once('SIGTERM', onTerm);
      try {
        const result = await trainRun(runDir, defaults, {
          signal: controller.signal,
          onLog: log,
          ...(values.until ? { until: parseUntil(values.until) } : {}),
          ...(values['max-steps'] ? { maxSteps: positiveNumber('--max-steps', values['max-steps'])! } : {}),
        });
        process.stdout.write(`${JSON.stringify(result)}\n`);
      } finally {
        process.off('SIGINT', onInt);
        process.off('SIGTERM', onTerm);
      }
    }
    return 0;
  },
};
