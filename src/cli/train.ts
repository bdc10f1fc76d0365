import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import {
  evaluateRun,
  exportGguf,
  loadOnnxRuntime,
  prepareRun,
  publishRun,
  SMOKE_DEFAULTS,
  TRAIN_DEFAULTS,
  trainRun,
  type TrainDefaults,
} from '../train/index.js';
import type { Command } from './command.js';
import { numberFlag } from './flags.js';

const usage = `Usage: codeloop train <step> --run DIR [options]

Trains codeloop's embedded code model (docs/embedded-model.md). Steps, in order:
  prepare   corpus (this checkout's node_modules, Node's npm, Python's stdlib) → DIR/corpus, tokenizer, token streams
  run       train (resumes from DIR/checkpoint.bin); checkpoints every 10 min and on SIGINT/SIGTERM
  export    DIR/checkpoint.bin → a GGUF (--out, --type q8_0|f16|f32) that node-llama-cpp loads
  eval      held-out loss and single-line FIM exact match of DIR's model (--gguf) vs a 5-gram baseline
  all       prepare + run + export + eval (with --smoke: a CI-sized check of the whole pipeline)
  publish   export q8_0 to --models DIR (default models/) + eval + MANIFEST.json, NOTICE, loss curve, tokenizer,
            checkpoint.bin.gz (to resume: gunzip it into a run directory prepared from the same checkout)

Options:
  --run DIR           run directory (keep it outside the repo while training)
  --until TIME        stop and checkpoint at TIME: HH:MM (UTC, today) or an ISO date
  --max-steps N       stop after N steps in this invocation
  --smoke             tiny configuration (trains in well under 2 minutes); --run defaults to a temp dir, removed
                      at the end (its path is printed when kept or when the run fails)
  --keep              with --smoke and no --run: keep the temp dir
  --tokens N          token budget of the LR schedule (default ${TRAIN_DEFAULTS.train.totalTokens})
  --lr X              peak learning rate (default ${TRAIN_DEFAULTS.train.learningRate})
  --fim-rate X        fraction of document pieces made FIM examples, 0–1 (default ${TRAIN_DEFAULTS.data.fimRate})
  --line-spans X      of FIM examples, the fraction whose middle is 1–3 whole lines, 0–1 (default ${TRAIN_DEFAULTS.data.lineSpanFraction})
                      (changing --tokens, --lr or the FIM mix on a resumed run starts a new phase, recorded in
                      DIR/run.json and in the published MANIFEST.json)
  --out PATH          export: the GGUF to write (default DIR/codeloop-embedded.<type>.gguf)
  --type T            export: q8_0 (default, the shipped file), f16 or f32
  --gguf PATH         eval: the GGUF to score FIM with (default: export DIR's checkpoint as q8_0 first)
  --models DIR        publish: where the shipped files go (default: this checkout's models/)`;

function repoRoot(): string {
  // dist/src/cli/train.js → repo root
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
}

export function parseUntil(value: string, now = new Date()): Date {
  const clock = /^(\d{1,2}):(\d{2})$/.exec(value);
  if (clock) {
    const date = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), Number(clock[1]), Number(clock[2])),
    );
    if (date.getTime() < now.getTime() - 12 * 3600_000) date.setUTCDate(date.getUTCDate() + 1);
    return date;
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime()))
    throw new UsageError(
      `--until ${JSON.stringify(value)} is not a time; give HH:MM (UTC) or an ISO date such as 2026-12-02T05:35:00Z`,
    );
  return date;
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
        keep: { type: 'boolean', default: false },
        tokens: { type: 'string' },
        lr: { type: 'string' },
        'fim-rate': { type: 'string' },
        'line-spans': { type: 'string' },
        out: { type: 'string' },
        type: { type: 'string', default: 'q8_0' },
        gguf: { type: 'string' },
        models: { type: 'string' },
      },
    });
    const step = positionals[0];
    const steps = ['prepare', 'run', 'export', 'eval', 'all', 'publish'];
    if (!step || !steps.includes(step))
      throw new UsageError(`give a step: one of ${steps.join(', ')} (got ${JSON.stringify(step ?? '')})`);
    const base = values.smoke ? SMOKE_DEFAULTS : TRAIN_DEFAULTS;
    const tokens = numberFlag('--tokens', values.tokens, { integer: true, min: 1 });
    const lr = numberFlag('--lr', values.lr, { positive: true });
    const fimRate = numberFlag('--fim-rate', values['fim-rate'], { min: 0, max: 1 });
    const lineSpans = numberFlag('--line-spans', values['line-spans'], { min: 0, max: 1 });
    const defaults: TrainDefaults = {
      ...base,
      train: { ...base.train, ...(tokens ? { totalTokens: tokens } : {}), ...(lr ? { learningRate: lr } : {}) },
      data: {
        ...base.data,
        ...(fimRate !== undefined ? { fimRate } : {}),
        ...(lineSpans !== undefined ? { lineSpanFraction: lineSpans } : {}),
      },
    };
    const runDir = values.run
      ? resolve(values.run)
      : values.smoke
        ? mkdtempSync(join(tmpdir(), 'codeloop-train-smoke-'))
        : undefined;
    if (!runDir)
      throw new UsageError('--run DIR is required (a directory outside the repository, e.g. ../train-runs/embedded)');
    const log = (message: string): void => {
      process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
    };
    // A smoke run without --run trains into a temp folder (tens of MB): removed at the end unless --keep, and named
    // when it is kept or left behind by a failure.
    const temporary = values.run === undefined && values.smoke;
    const body = async (): Promise<number> => {
      // Training and evaluating run the model in onnxruntime-node, an optional dependency: say so before any work.
      if (step === 'run' || step === 'eval' || step === 'all' || step === 'publish') await loadOnnxRuntime();
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
            ...(values['max-steps']
              ? { maxSteps: numberFlag('--max-steps', values['max-steps'], { integer: true, min: 1 })! }
              : {}),
          });
          process.stdout.write(`${JSON.stringify(result)}\n`);
        } finally {
          process.off('SIGINT', onInt);
          process.off('SIGTERM', onTerm);
        }
      }
      if (step === 'publish') {
        const modelsDir = values.models ? resolve(values.models) : join(repoRoot(), 'models');
        const result = await publishRun(runDir, modelsDir, { repoRoot: repoRoot(), onLog: log });
        process.stdout.write(
          `${JSON.stringify({ gguf: result.ggufPath, bytes: result.bytes, model: { heldOut: result.evaluation.model.heldOut.overall, fimExactMatch: result.evaluation.model.fim.overall, tokensSeen: result.evaluation.model.tokensSeen }, ngram: { heldOut: result.evaluation.ngram.heldOut.overall, fimExactMatch: result.evaluation.ngram.fim.overall } })}\n`,
        );
        return 0;
      }
      const fileType = values.type;
      if (fileType !== 'q8_0' && fileType !== 'f16' && fileType !== 'f32')
        throw new UsageError(`--type ${JSON.stringify(fileType)}: use q8_0, f16 or f32`);
      let exported = values.gguf ? resolve(values.gguf) : undefined;
      if (step === 'export' || step === 'all' || (step === 'eval' && !exported)) {
        const path =
          values.out && step !== 'eval' ? resolve(values.out) : join(runDir, `codeloop-embedded.${fileType}.gguf`);
        const result = await exportGguf(runDir, path, { fileType });
        log(
          `exported step ${result.step} (${result.tokensSeen} tokens, ${result.parameters} parameters) → ${path} (${statSync(path).size} bytes)`,
        );
        exported = path;
        if (step === 'export') process.stdout.write(`${JSON.stringify({ ...result, bytes: statSync(path).size })}\n`);
      }
      if (step === 'eval' || step === 'all') {
        const result = await evaluateRun(runDir, {
          ggufPath: exported!,
          onLog: log,
          ...(values.smoke ? { windows: 2, fimPerLanguage: 5 } : {}),
        });
        process.stdout.write(
          `${JSON.stringify({ model: { heldOut: result.model.heldOut.overall, fimExactMatch: result.model.fim.overall, step: result.model.step, tokensSeen: result.model.tokensSeen }, ngram: { heldOut: result.ngram.heldOut.overall, fimExactMatch: result.ngram.fim.overall } })}\n`,
        );
      }
      return 0;
    };
    let failed = true;
    try {
      const code = await body();
      failed = false;
      return code;
    } finally {
      if (temporary && (values.keep || failed))
        log(
          `the smoke run's files are in ${runDir}${failed ? ' (left for inspection)' : ''}; delete the folder when done`,
        );
      else if (temporary) {
        rmSync(runDir, { recursive: true, force: true });
        log(`removed the smoke run's temp folder ${runDir} (--keep keeps it)`);
      }
    }
  },
};
