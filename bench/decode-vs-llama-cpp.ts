/**
 * Question: does the llama backend (src/models/llama, node-llama-cpp in process) decode the embedded model as fast as
 * llama.cpp's own `llama-bench` does on the same GGUF with the same threads? Target (issue 7): ≥ 90 %.
 *
 *   npm run build && node dist/bench/decode-vs-llama-cpp.js --llama-bench PATH [--model GGUF] [--tokens 128]
 *       [--rounds 7] [--threads 1,2] [--temperatures 0,0.8]
 *
 * PATH is `llama-bench` built from the llama.cpp source node-llama-cpp ships (its git bundle, so both run the same
 * llama.cpp revision; not committed):
 *
 *   git clone node_modules/node-llama-cpp/llama/gitRelease.bundle ../llama.cpp-ref
 *   cmake -S ../llama.cpp-ref -B ../llama.cpp-ref/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
 *     -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF
 *   cmake --build ../llama.cpp-ref/build --target llama-bench -j 2
 *
 * Cells, per thread count, alternating in each round:
 * - llama.cpp: `llama-bench -p 0 -n N -t T -fa off -r 1 -o json` (token generation only: N single-token decodes of
 *   random token ids, no prompt, no sampling, no detokenizing; its own timer, process start and model load excluded).
 * - backend, decode only: the backend's `complete` at each temperature (0 = greedy; else seeded sampling over the
 *   whole vocabulary, the backend's default top-k off / top-p 1), N tokens; its wall time minus the
 *   time of the same call with 1 token (what prompt evaluation and call set-up cost), so what remains is N − 1
 *   decodes with sampling and detokenizing: the part llama-bench measures, plus the work a real completion does.
 * - backend, end to end: the same call's N tokens / its whole wall time (prompt of ~30 tokens included).
 * - node-llama-cpp, bare: a `LlamaContextSequence.evaluate` loop on its own context (the same sampling settings
 *   the backend sends), timed from the
 *   first generated token to the N-th: where the backend's and node-llama-cpp's own per-token costs part.
 * - node-llama-cpp addon floor: the same decode and sampling driven straight through node-llama-cpp's native addon
 *   (its internal `_ctx.initBatch/addToBatch/decodeBatch/sampleToken`, no JS scheduling, no detokenizing), timed the
 *   same way: the fastest any code can go through node-llama-cpp's binary, two async addon calls per token. Not a
 *   product path (internal API); it says how much of the gap is node-llama-cpp's JS and how much its addon design.
 * Ratios are per round, then the median.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel, type Token } from 'node-llama-cpp';
import { createLlamaBackend } from '../src/models/llama/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs from dist/bench/
const PROMPT =
  'export function parseConfig(text: string): Config {\n  const lines = text.split("\\n");\n  for (const line of lines) {\n';

const { values } = parseArgs({
  options: {
    'llama-bench': { type: 'string' },
    model: { type: 'string', default: join(REPO_ROOT, 'models', 'codeloop-embedded.gguf') },
    tokens: { type: 'string', default: '128' },
    rounds: { type: 'string', default: '7' },
    threads: { type: 'string', default: '1,2' },
    temperatures: { type: 'string', default: '0,0.8' },
  },
});
const llamaBench = values['llama-bench'];
if (llamaBench === undefined || !existsSync(llamaBench))
  throw new Error(
    "--llama-bench PATH: the llama-bench binary built from node-llama-cpp's bundled llama.cpp (see this file's header).",
  );
if (!existsSync(values.model)) throw new Error(`--model ${values.model}: no such GGUF file.`);
const TOKENS = Number(values.tokens);
const ROUNDS = Number(values.rounds);
const THREADS = values.threads.split(',').map(Number);
const TEMPERATURES = values.temperatures.split(',').map(Number);
if (TEMPERATURES.some((value) => !(value >= 0 && value <= 2)))
  throw new Error(`--temperatures ${values.temperatures}: a list of temperatures from 0 to 2, e.g. 0,0.8.`);
if (!(TOKENS >= 8) || !(ROUNDS >= 1) || THREADS.some((threads) => !Number.isInteger(threads) || threads < 1))
  throw new Error('--tokens ≥ 8, --rounds ≥ 1 and --threads a list of whole numbers ≥ 1, e.g. 1,2.');

const median = (numbers: number[]): number => {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted.length % 2 === 1
    ? sorted[(sorted.length - 1) / 2]!
    : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
};

function llamaCppRate(threads: number): number {
  const output = execFileSync(
    llamaBench!,
    ['-m', values.model, '-p', '0', '-n', String(TOKENS), '-t', String(threads), '-fa', 'off', '-r', '1', '-o', 'json'],
    { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const [row] = JSON.parse(output) as { avg_ts: number; n_gen: number }[];
  if (row === undefined || row.n_gen !== TOKENS)
    throw new Error(`llama-bench printed no tg${TOKENS} row: ${output.slice(0, 500)}`);
  return row.avg_ts;
}

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
console.log(
  `decode-vs-llama-cpp: ${values.model}, ${TOKENS} tokens, ${ROUNDS} rounds, commit ${commit}, ${cpus().length}× ${cpus()[0]?.model ?? 'cpu'}, load ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
const probe = JSON.parse(
  execFileSync(llamaBench, ['-m', values.model, '-p', '0', '-n', '8', '-t', '1', '-r', '1', '-o', 'json'], {
    encoding: 'utf8',
    env: { PATH: '/usr/bin:/bin' },
    stdio: ['ignore', 'pipe', 'ignore'],
  }),
) as { build_commit: string; build_number: number; cpu_info: string }[];
console.log(
  `llama-bench: build ${probe[0]?.build_commit ?? '?'} (${probe[0]?.build_number ?? '?'}), ${probe[0]?.cpu_info ?? ''}`,
);
console.log(
  '| threads | temperature | llama-bench tg (tok/s) | addon floor (tok/s) | node-llama-cpp bare loop (tok/s) | backend decode only (tok/s) | backend end to end (tok/s) | addon floor / llama-bench | bare loop / llama-bench | decode only / llama-bench | end to end / llama-bench |',
);
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const bareModel = await llama.loadModel({ modelPath: values.model });
for (const threads of THREADS)
  for (const temperature of TEMPERATURES) {
    const backend = await createLlamaBackend({ modelPath: values.model, contextSize: 512, sequences: 1, threads });
    const call = async (maxTokens: number, seed = 1): Promise<{ ms: number; tokens: number }> => {
      const started = performance.now();
      const result = await backend.complete(PROMPT, { maxTokens, temperature, seed });
      return { ms: performance.now() - started, tokens: result.usage.completionTokens };
    };
    const bareContext = await bareModel.createContext({
      contextSize: 512,
      sequences: 1,
      threads,
      flashAttention: false,
    });
    const bareSequence = bareContext.getSequence();
    const promptTokens = bareModel.tokenize(PROMPT) as Token[];
    const bare = async (seed: number): Promise<number> => {
      await bareSequence.clearHistory();
      let count = 0;
      let first = 0;
      for await (const _token of bareSequence.evaluate(promptTokens, {
        temperature,
        ...(temperature > 0 ? { seed } : {}),
        topK: 0,
        topP: 1,
        minP: 0,
        yieldEogToken: true,
      })) {
        if (count === 0) first = performance.now();
        if (++count >= TOKENS) break;
      }
      return (count - 1) / ((performance.now() - first) / 1000);
    };
    // node-llama-cpp's internals (pinned version): the context's native object and a native sampler.
    interface Addon {
      initBatch(size: number): void;
      addToBatch(
        sequenceId: number,
        firstTokenSequenceIndex: number,
        tokens: Uint32Array,
        logitIndexes: Uint32Array,
      ): Uint32Array;
      decodeBatch(): Promise<void>;
      sampleToken(batchLogitIndex: number, sampler: unknown): Promise<number>;
      removeTokenCellsFromSequence(sequenceId: number, startPos: number, endPos: number): boolean;
    }
    const addon = (bareContext as unknown as { _ctx: Addon })._ctx;
    const sequenceId = (bareSequence as unknown as { _sequenceId: number })._sequenceId;
    const bindings = (
      llama as unknown as {
        _bindings: { AddonSampler: new (model: unknown) => { applyConfig(config: object): void; dispose(): void } };
      }
    )._bindings;
    const sampler = new bindings.AddonSampler((bareModel as unknown as { _model: unknown })._model);
    const floor = async (seed: number): Promise<number> => {
      await bareSequence.clearHistory();
      sampler.applyConfig({ temperature, topK: 0, topP: 1, minP: 0, seed });
      addon.initBatch(promptTokens.length);
      let [index] = addon.addToBatch(
        sequenceId,
        0,
        Uint32Array.from(promptTokens),
        Uint32Array.of(promptTokens.length - 1),
      );
      await addon.decodeBatch();
      let token = await addon.sampleToken(index!, sampler);
      const first = performance.now();
      for (let position = promptTokens.length; position < promptTokens.length + TOKENS - 1; position++) {
        addon.initBatch(1);
        [index] = addon.addToBatch(sequenceId, position, Uint32Array.of(token), Uint32Array.of(0));
        await addon.decodeBatch();
        token = await addon.sampleToken(index!, sampler);
      }
      const rate = (TOKENS - 1) / ((performance.now() - first) / 1000);
      addon.removeTokenCellsFromSequence(sequenceId, 0, -1);
      return rate;
    };
    await call(TOKENS); // warm-up: the context is created on the first call
    await bare(1);
    await floor(1);
    llamaCppRate(threads);
    const rows = {
      llama: [] as number[],
      floor: [] as number[],
      bare: [] as number[],
      decode: [] as number[],
      endToEnd: [] as number[],
    };
    let short = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const ours = async (): Promise<void> => {
        const one = await call(1);
        const full = await call(TOKENS, round + 2);
        if (full.tokens < TOKENS) short++;
        rows.decode.push((full.tokens - 1) / ((full.ms - one.ms) / 1000));
        rows.endToEnd.push(full.tokens / (full.ms / 1000));
        rows.bare.push(await bare(round + 2));
        rows.floor.push(await floor(round + 2));
      };
      if (round % 2 === 0) {
        rows.llama.push(llamaCppRate(threads));
        await ours();
      } else {
        await ours();
        rows.llama.push(llamaCppRate(threads));
      }
    }
    await backend.close();
    sampler.dispose();
    await bareContext.dispose();
    const floorRatio = median(rows.floor.map((rate, round) => rate / rows.llama[round]!));
    const bareRatio = median(rows.bare.map((rate, round) => rate / rows.llama[round]!));
    const decodeRatio = median(rows.decode.map((rate, round) => rate / rows.llama[round]!));
    const endToEndRatio = median(rows.endToEnd.map((rate, round) => rate / rows.llama[round]!));
    console.log(
      `| ${threads} | ${temperature} | ${median(rows.llama).toFixed(0)} | ${median(rows.floor).toFixed(0)} | ` +
        `${median(rows.bare).toFixed(0)} | ${median(rows.decode).toFixed(0)} | ${median(rows.endToEnd).toFixed(0)} | ` +
        `${floorRatio.toFixed(2)} | ${bareRatio.toFixed(2)} | ${decodeRatio.toFixed(2)} | ` +
        `${endToEndRatio.toFixed(2)} |`,
    );
    if (short > 0)
      console.log(
        `  (${short} of the backend's calls stopped before ${TOKENS} tokens: an end-of-generation token; their rate ` +
          `counts the tokens made)`,
      );
  }
await bareModel.dispose();
console.log(
  `load average at the end ${loadavg()
    .map((value) => value.toFixed(2))
    .join(' ')}`,
);
