/**
 * The last step: a run's checkpoint → the files the product ships in models/: the q8_0 GGUF, MANIFEST.json
 * (config, corpus summary, tokens seen, losses next to the baseline, commit), NOTICE (every corpus package and its
 * license), the loss curve as data (log.jsonl) and as an SVG plot, the tokenizer, and the gzipped checkpoint so a
 * later session can resume the run.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { corpusNotice, type CorpusManifest } from './corpus.js';
import { evaluateRun, type EvaluateRunResult } from './evaluate.js';
import { exportGguf } from './export.js';
import { trainingFlopsPerToken, type ModelConfig } from './model.js';
import type { LogRecord } from './train.js';
import { checkpointPath } from './train.js';

export interface PublishResult {
  ggufPath: string;
  bytes: number;
  evaluation: EvaluateRunResult;
}

/** An SVG line plot of the training loss (EMA) and held-out loss against tokens. */
export function lossCurveSvg(records: readonly LogRecord[], baseline?: number): string {
  const width = 720;
  const height = 360;
  const pad = { left: 56, right: 16, top: 24, bottom: 40 };
  const maxTokens = Math.max(1, ...records.map((record) => record.tokens));
  const losses = records.flatMap((record) => [
    record.trainLoss,
    ...(record.heldOutLoss !== undefined ? [record.heldOutLoss] : []),
  ]);
  const top = Math.ceil(Math.max(...losses, baseline ?? 0));
  const bottom = Math.floor(Math.min(...losses, baseline ?? Infinity));
  const x = (tokens: number): number => pad.left + ((width - pad.left - pad.right) * tokens) / maxTokens;
  const y = (loss: number): number =>
    pad.top + ((height - pad.top - pad.bottom) * (top - loss)) / Math.max(1e-9, top - bottom);
  let ema: number | undefined;
  const train = records.map((record) => {
    ema = ema === undefined ? record.trainLoss : 0.98 * ema + 0.02 * record.trainLoss;
    return `${x(record.tokens).toFixed(1)},${y(ema).toFixed(1)}`;
  });
  const heldOut = records
    .filter((record) => record.heldOutLoss !== undefined)
    .map((record) => `${x(record.tokens).toFixed(1)},${y(record.heldOutLoss!).toFixed(1)}`);
  const ticks: string[] = [];
  for (let loss = bottom; loss <= top; loss++)
    ticks.push(
      `<text x="${pad.left - 8}" y="${y(loss) + 4}" text-anchor="end">${loss}</text><line x1="${pad.left}" ` +
        `x2="${width - pad.right}" y1="${y(loss)}" y2="${y(loss)}" stroke="#eee"/>`,
    );
  for (let i = 0; i <= 4; i++)
    ticks.push(
      `<text x="${x((maxTokens * i) / 4)}" y="${height - pad.bottom + 16}" ` +
        `text-anchor="middle">${((maxTokens * i) / 4 / 1e6).toFixed(1)}M</text>`,
    );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="11">
<rect width="100%" height="100%" fill="white"/>
${ticks.join('\n')}
<text x="${width / 2}" y="${height - 6}" text-anchor="middle">tokens seen</text>
<text x="14" y="${height / 2}" transform="rotate(-90 14 ${height / 2})" text-anchor="middle">loss (nats/token)</text>
<polyline fill="none" stroke="#1f77b4" stroke-width="1.5" points="${train.join(' ')}"/>
<polyline fill="none" stroke="#d62728" stroke-width="2" points="${heldOut.join(' ')}"/>
${baseline !== undefined ? `<line x1="${pad.left}" x2="${width - pad.right}" y1="${y(baseline)}" y2="${y(baseline)}" stroke="#2ca02c" stroke-dasharray="6 4"/>` : ''}
<text x="${width - pad.right}" y="${pad.top - 8}" text-anchor="end"><tspan fill="#1f77b4">train (EMA, FIM mix)</tspan>  <tspan fill="#d62728">held-out</tspan>${baseline !== undefined ? '  <tspan fill="#2ca02c">5-gram held-out</tspan>' : ''}</text>
</svg>
`;
}

export function readLog(runDir: string): LogRecord[] {
  return readFileSync(join(runDir, 'log.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as LogRecord);
}

function gitCommit(cwd: string): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function publishRun(
  runDir: string,
  modelsDir: string,
  options: { repoRoot: string; onLog?: (message: string) => void },
): Promise<PublishResult> {
  mkdirSync(modelsDir, { recursive: true });
  const ggufPath = join(modelsDir, 'codeloop-embedded.gguf');
  const exported = await exportGguf(runDir, ggufPath, { fileType: 'q8_0' });
  const evaluation = await evaluateRun(runDir, { ggufPath, ...(options.onLog ? { onLog: options.onLog } : {}) });
  const corpus = JSON.parse(readFileSync(join(runDir, 'corpus', 'manifest.json'), 'utf8')) as CorpusManifest;
  const tokens = JSON.parse(readFileSync(join(runDir, 'tokens', 'tokens.json'), 'utf8')) as Record<string, unknown>;
  const run = JSON.parse(readFileSync(join(runDir, 'run.json'), 'utf8')) as {
    config: ModelConfig;
    defaults: unknown;
    phases?: unknown[];
    peakGflops: number;
  };
  const records = readLog(runDir);
  const recent = records.slice(-200);
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
  const manifest = {
    file: 'codeloop-embedded.gguf',
    bytes: statSync(ggufPath).size,
    format: 'GGUF v3, llama architecture, q8_0 matrices (norms f32), tokenizer gpt2/qwen2 with FIM ids',
    commit: gitCommit(options.repoRoot),
    exportedAt: new Date().toISOString(),
    config: run.config,
    parameters: exported.parameters,
    training: {
      step: exported.step,
      tokensSeen: exported.tokensSeen,
      defaults: run.defaults,
      phases: run.phases ?? [],
      flopsPerToken: trainingFlopsPerToken(run.config),
      medianTokensPerSecondLast200Steps: median(recent.map((record) => record.tokensPerSecond)),
      medianLoadAverageLast200Steps: median(recent.map((record) => record.loadAverage)),
      ortPeakGflops: run.peakGflops,
      lastTrainLoss: records.at(-1)?.trainLoss,
      finished: false,
    },
    evaluation,
    corpus: {
      dedupe: corpus.dedupe,
      filters: corpus.filters,
      heldOutRule: corpus.heldOutRule,
      sources: corpus.sources,
      totals: corpus.totals,
      dropped: corpus.dropped,
      packages: corpus.packages.length,
      excludedPackages: corpus.excludedPackages,
      tokens,
    },
  };
  manifest.training.finished =
    exported.tokensSeen >= (run.defaults as { train: { totalTokens: number } }).train.totalTokens;
  writeFileSync(join(modelsDir, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
  writeFileSync(join(modelsDir, 'NOTICE'), corpusNotice(corpus));
  writeFileSync(join(modelsDir, 'loss-curve.svg'), lossCurveSvg(records, evaluation.ngram.heldOut.overall));
  copyFileSync(join(runDir, 'log.jsonl'), join(modelsDir, 'training-log.jsonl'));
  copyFileSync(join(runDir, 'tokenizer.json'), join(modelsDir, 'tokenizer.json'));
  writeFileSync(join(modelsDir, 'checkpoint.bin.gz'), gzipSync(readFileSync(checkpointPath(runDir)), { level: 1 }));
  return { ggufPath, bytes: manifest.bytes, evaluation };
}
