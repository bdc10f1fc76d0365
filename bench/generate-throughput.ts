/**
 * Question: how many tokens/s does the llama backend (src/models/llama) decode, against node-llama-cpp called
 * directly on the same GGUF with the same settings in the same run (target ≥ 90 %), and how does batched sampling
 * scale with n = 1, 10, 100 samples of one prompt?
 *
 *   npm run build && node dist/bench/generate-throughput.js [--tokens 128] [--rounds 9] [--model PATH]
 *
 * Models: a random-weight Llama built in the run with src/train (tokenizer: 4096-token BPE trained on this repo's
 * src/; d 256, 6 layers, 8 heads, ff 768, untied output: 8.4M parameters, Q8_0), plus models/codeloop-embedded.gguf
 * when it exists, plus --model PATH. Random weights are fine for speed: llama.cpp does the same work per token.
 * Order within a round alternates; the ratios are the median of per-round ratios.
 *
 * Single-stream rows: each round runs, in alternating order, (a) the backend's `complete` with temperature 0.8,
 * seed, maxTokens N; (b) node-llama-cpp's `LlamaCompletion.generateCompletion` with the same settings; (c) a bare
 * `LlamaContextSequence.evaluate` loop that stops after N tokens (the floor: no detokenizing, no stop handling).
 * All use threads 1, flash attention off, f32 KV cache, one context per side created once. tokens/s = generated
 * tokens / wall time of the call (prompt evaluation included; the prompt is 30 tokens). Median of the rounds.
 *
 * Batched rows: `complete(prompt, { n, temperature 0.8 })` on a backend with `sequences = n` (contextSize 256 per
 * sequence), total generated tokens / wall time, with flash attention off (the default) and on, against n sequential
 * one-sample calls on a one-sequence backend (for n = 10 only: n = 100 would take minutes).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  getLlama,
  LlamaCompletion,
  LlamaLogLevel,
  type LlamaContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { EMBEDDED_SPECIAL_TOKENS } from '../src/models/index.js';
import { createLlamaBackend, type LlamaBackend } from '../src/models/llama/index.js';
import { trainBpeTokenizer } from '../src/train/bpe-tokenizer.js';
import { writeLlamaGguf } from '../src/train/llama-gguf.js';
import { randomLlamaWeights, repoSourceText } from '../test/models/tiny-gguf.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs from dist/bench/
const PROMPT =
  'export function parseConfig(text: string): Config {\n  const lines = text.split("\\n");\n  for (const line of lines) {\n';

const { values } = parseArgs({
  options: {
    tokens: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '9' },
    model: { type: 'string' },
  },
});
const TOKENS = Number(values.tokens);
const ROUNDS = Number(values.rounds);

const median = (numbers: number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2]!
    : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

async function timed<T>(run: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = performance.now();
  const value = await run();
  return { value, ms: performance.now() - started };
}

async function buildBenchModel(dir: string): Promise<string> {
  const tokenizer = trainBpeTokenizer(await repoSourceText(2_000_000), {
    vocabSize: 4096,
    specialTokens: EMBEDDED_SPECIAL_TOKENS,
  });
  const config = {
    vocabSize: tokenizer.vocabSize,
    dim: 256,
    layers: 6,
    heads: 8,
    kvHeads: 8,
    ffDim: 768,
    contextLength: 2048,
    ropeTheta: 10000,
    normEps: 1e-5,
  };
  const path = join(dir, 'bench-8m-q8_0.gguf');
  await writeLlamaGguf(path, {
    name: 'codeloop-bench-random',
    config,
    tokenizer,
    weights: randomLlamaWeights(config, 1, true),
    fileType: 'q8_0',
  });
  return path;
}

interface SingleRow {
  model: string;
  backend: number;
  completion: number;
  evaluate: number;
  ratioCompletion: number;
  ratioEvaluate: number;
  backendTokens: number;
}

async function singleStream(label: string, path: string): Promise<SingleRow> {
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model: LlamaModel = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  const contextOptions = {
    contextSize: 1024,
    sequences: 1,
    threads: 1,
    flashAttention: false,
    experimentalKvCacheKeyType: 'F32',
    experimentalKvCacheValueType: 'F32',
  } as const;
  const completionContext: LlamaContext = await model.createContext(contextOptions);
  const evaluateContext: LlamaContext = await model.createContext(contextOptions);
  const completion = new LlamaCompletion({ contextSequence: completionContext.getSequence() });
  const evaluateSequence = evaluateContext.getSequence();
  const backend: LlamaBackend = await createLlamaBackend({
    modelPath: path,
    contextSize: 1024,
    sequences: 1,
    threads: 1,
  });
  const rates = { backend: [] as number[], completion: [] as number[], evaluate: [] as number[] };
  let backendTokens = 0;
  const promptTokens = model.tokenize(PROMPT, true);
  const sides: Record<keyof typeof rates, (seed: number) => Promise<number>> = {
    backend: async (seed) => {
      const result = await backend.complete(PROMPT, { maxTokens: TOKENS, temperature: 0.8, seed });
      backendTokens = result.usage.completionTokens;
      return result.usage.completionTokens;
    },
    completion: async (seed) => {
      let count = 0;
      await completion.generateCompletion(PROMPT, {
        maxTokens: TOKENS,
        temperature: 0.8,
        seed,
        topK: 0,
        topP: 1,
        minP: 0,
        onToken: (tokens) => (count += tokens.length),
      });
      return count;
    },
    evaluate: async (seed) => {
      await evaluateSequence.clearHistory();
      let count = 0;
      for await (const _token of evaluateSequence.evaluate(promptTokens as Token[], {
        temperature: 0.8,
        seed,
        topK: 0,
        topP: 1,
        minP: 0,
      })) {
        if (++count >= TOKENS) break;
      }
      return count;
    },
  };
  // Warm-up (first evaluation allocates buffers), then rounds in alternating order.
  for (const side of Object.values(sides)) await side(0);
  for (let round = 0; round < ROUNDS; round++) {
    const order = (Object.keys(sides) as (keyof typeof rates)[]).sort(() => (round % 2 === 0 ? 1 : -1));
    for (const name of order) {
      const { value, ms } = await timed(() => sides[name](round + 1));
      rates[name].push(value / (ms / 1000));
    }
  }
  await backend.close();
  await completionContext.dispose();
  await evaluateContext.dispose();
  await model.dispose();
  // Ratios per round (the three sides ran back to back), then the median: steadier than a ratio of medians when the
  // machine's load drifts during the run.
  const ratios = rates.backend.map((rate, round) => ({
    completion: rate / rates.completion[round]!,
    evaluate: rate / rates.evaluate[round]!,
  }));
  return {
    model: label,
    backend: median(rates.backend),
    completion: median(rates.completion),
    evaluate: median(rates.evaluate),
    ratioCompletion: median(ratios.map((ratio) => ratio.completion)),
    ratioEvaluate: median(ratios.map((ratio) => ratio.evaluate)),
    backendTokens,
  };
}

async function batchedRate(path: string, n: number, flashAttention: boolean, tokens: number): Promise<number> {
  const backend = await createLlamaBackend({
    modelPath: path,
    contextSize: 256,
    sequences: n,
    threads: 1,
    flashAttention,
  });
  await backend.complete(PROMPT, { maxTokens: 4, n, temperature: 0.8, seed: 1 }); // warm-up: creates the context
  const { value, ms } = await timed(() =>
    backend.complete(PROMPT, { maxTokens: tokens, n, temperature: 0.8, seed: 10 }),
  );
  await backend.close();
  return value.usage.completionTokens / (ms / 1000);
}

async function batched(
  path: string,
  n: number,
): Promise<{ n: number; tokensPerSecond: number; flashAttention: number; sequential?: number }> {
  const tokens = 64;
  const row: { n: number; tokensPerSecond: number; flashAttention: number; sequential?: number } = {
    n,
    tokensPerSecond: await batchedRate(path, n, false, tokens),
    flashAttention: await batchedRate(path, n, true, tokens),
  };
  if (n === 10) {
    const single = await createLlamaBackend({ modelPath: path, contextSize: 256, sequences: 1, threads: 1 });
    await single.complete(PROMPT, { maxTokens: 4, temperature: 0.8, seed: 1 });
    let generated = 0;
    const { ms: sequentialMs } = await timed(async () => {
      for (let index = 0; index < n; index++)
        generated += (await single.complete(PROMPT, { maxTokens: tokens, temperature: 0.8, seed: 10 + index })).usage
          .completionTokens;
    });
    await single.close();
    row.sequential = generated / (sequentialMs / 1000);
  }
  return row;
}

const dir = mkdtempSync(join(tmpdir(), 'codeloop-bench-generate-'));
try {
  const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  console.log(
    `commit ${commit}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
  const models: [string, string][] = [['random 8.4M (4k vocab, d256×6, ff768), Q8_0', await buildBenchModel(dir)]];
  const embedded = join(REPO_ROOT, 'models', 'codeloop-embedded.gguf');
  if (existsSync(embedded)) models.push(['models/codeloop-embedded.gguf', embedded]);
  if (values.model !== undefined) models.push([values.model, values.model]);
  console.log(
    `\nSingle stream, ${TOKENS} tokens, temperature 0.8, threads 1, median of ${ROUNDS} rounds (tokens/s; ratios: ` +
      `median of per-round ratios):`,
  );
  console.log(
    '| model | llama backend | LlamaCompletion | bare evaluate loop | backend / LlamaCompletion | backend / bare loop |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const [label, path] of models) {
    const row = await singleStream(label, path);
    console.log(
      `| ${row.model} | ${row.backend.toFixed(0)} | ${row.completion.toFixed(0)} | ${row.evaluate.toFixed(0)} | ` +
        `${row.ratioCompletion.toFixed(2)} | ${row.ratioEvaluate.toFixed(2)} |`,
    );
    if (row.backendTokens < TOKENS)
      console.log(`  (the backend's last call stopped at ${row.backendTokens} tokens: an end-of-generation token)`);
  }
  for (const [label, path] of models) {
    console.log(`\nBatched sampling, ${label}, 64 tokens per sample, temperature 0.8, sequences = n:`);
    console.log('| n | total tokens/s | with flash attention | n sequential calls, tokens/s | batched / sequential |');
    console.log('|---|---|---|---|---|');
    for (const n of [1, 10, 100]) {
      const row = await batched(path, n);
      console.log(
        `| ${row.n} | ${row.tokensPerSecond.toFixed(0)} | ${row.flashAttention.toFixed(0)} | ` +
          `${row.sequential === undefined ? '' : row.sequential.toFixed(0)} | ` +
          `${row.sequential === undefined ? '' : (row.tokensPerSecond / row.sequential).toFixed(2)} |`,
      );
    }
  }
  console.log(
    `\nload average at the end ${loadavg()
      .map((value) => value.toFixed(2))
      .join(' ')}`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
