/**
 * Question: how long does src/train/bpe-tokenizer.ts take to train an 8k vocabulary on ~10 MB of code (target: well
 * under a minute), and how fast does its encoder run against llama.cpp's own tokenizer (node-llama-cpp
 * `model.tokenize`) on the same text and the same vocabulary, in the same run? Also checks that both give the same ids.
 *
 *   npm run build && node dist/bench/bpe-tokenizer-throughput.js [--mb 10]
 *
 * Corpus: .ts/.js/.d.ts files under node_modules/ (typescript's lib first, then @types, then the rest; files over
 * 500 kB skipped), in directory order, up to --mb MB. The encoder is timed on a fresh tokenizer (empty word cache)
 * over the first 2 MB, then llama.cpp on the same 2 MB through a GGUF written with that vocabulary.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { EMBEDDED_SPECIAL_TOKENS } from '../src/models/index.js';
import { createBpeTokenizer, trainBpeTokenizer } from '../src/train/bpe-tokenizer.js';
import { writeLlamaGguf } from '../src/train/llama-gguf.js';
import { randomLlamaWeights } from '../test/models/tiny-gguf.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs from dist/bench/
const { values } = parseArgs({ options: { mb: { type: 'string', default: '10' } } });
const limit = Number(values.mb) * 1e6;

const texts: string[] = [];
let total = 0;
const seen = new Set<string>();
function walk(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name));
  } catch {
    return;
  }
  for (const entry of entries) {
    if (total >= limit) return;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (/\.(ts|js)$/.test(entry.name) && !seen.has(path) && statSync(path).size < 500_000) {
      seen.add(path);
      const text = readFileSync(path, 'utf8');
      texts.push(text);
      total += text.length;
    }
  }
}
for (const dir of ['node_modules/typescript/lib', 'node_modules/@types', 'node_modules']) walk(join(REPO_ROOT, dir));

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
console.log(
  `commit ${commit}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}, load average ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
console.log(`corpus: ${(total / 1e6).toFixed(1)} MB in ${texts.length} files`);

let started = performance.now();
const tokenizer = trainBpeTokenizer(texts, { vocabSize: 8192, specialTokens: EMBEDDED_SPECIAL_TOKENS });
const trainSeconds = (performance.now() - started) / 1000;
console.log(
  `train 8192 tokens: ${trainSeconds.toFixed(1)} s, heap ${(process.memoryUsage().heapUsed / 1e6).toFixed(0)} MB`,
);

const sample = texts.join('\n').slice(0, 2_000_000);
const fresh = createBpeTokenizer(tokenizer.data);
started = performance.now();
const ours = fresh.encode(sample);
const oursSeconds = (performance.now() - started) / 1000;

const dir = mkdtempSync(join(tmpdir(), 'codeloop-bench-bpe-'));
try {
  const config = {
    vocabSize: tokenizer.vocabSize,
    dim: 32,
    layers: 1,
    heads: 2,
    kvHeads: 2,
    ffDim: 32,
    contextLength: 256,
    ropeTheta: 10000,
    normEps: 1e-5,
  };
  const path = join(dir, 'vocab.gguf');
  await writeLlamaGguf(path, {
    name: 'bench-vocab',
    config,
    tokenizer,
    weights: randomLlamaWeights(config, 1),
    fileType: 'f32',
  });
  const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
  const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
  started = performance.now();
  const theirs = model.tokenize(sample);
  const theirsSeconds = (performance.now() - started) / 1000;
  let differences = 0;
  for (let index = 0; index < Math.max(ours.length, theirs.length); index++)
    if (ours[index] !== theirs[index]) differences++;
  console.log(
    `encode 2 MB: codeloop ${(2 / oursSeconds).toFixed(2)} MB/s, llama.cpp ${(2 / theirsSeconds).toFixed(2)} MB/s ` +
      `(ratio ${(theirsSeconds / oursSeconds).toFixed(2)}); ${ours.length} tokens, ` +
      `${(sample.length / ours.length).toFixed(2)} chars/token, ${differences} id differences`,
  );
  await model.dispose();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
