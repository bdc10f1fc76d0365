/**
 * Question: how much latency does codeloop's completion server add on top of the model, while someone types, and how
 * often does the cache answer instead of the model? Target (issue 5): server-added latency ≤ 2 ms p50, ≤ 10 ms p99.
 *
 *   npm run build && node dist/bench/completion-latency.js [--data-dir DIR] [--tasks 40] [--wrong 0.2]
 *
 * Typing simulation: for each of the first `--tasks` HumanEval problems, a user types the canonical solution after the
 * prompt one character at a time and asks for a completion after every keystroke (the editor's inline-completion
 * trigger), over real HTTP (`POST /infill` on 127.0.0.1, the llama.vscode shape). The model is a scripted oracle
 * that suggests the true rest of the current line and the next two lines, except for a `--wrong` share of calls
 * (chosen by a hash, so every run is the same) where it suggests a wrong line, so the user types past it.
 *
 * Server-added latency = client round trip − the model time the server reports (`timings.predicted_ms`): prompt
 * building, context, cache, post-processing with tree-sitter, JSON and HTTP. The reference measured in the same run is
 * the floor of that path: a bare node:http server that parses the same request bodies and answers a fixed reply.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { createCompletionEngine } from '../src/fim/index.js';
import { createMockBackend } from '../src/models/index.js';
import { createHttpHandler, startHttpServer } from '../src/server/http/index.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: join(REPO_ROOT, '..', 'shared', 'datasets') },
    tasks: { type: 'string', default: '40' },
    wrong: { type: 'string', default: '0.2' },
  },
});
const taskCount = Number(values.tasks);
const wrongShare = Number(values.wrong);

interface Problem {
  task_id: string;
  prompt: string;
  canonical_solution: string;
}
const problems = gunzipSync(readFileSync(join(values['data-dir'], 'humaneval', 'HumanEval.jsonl.gz')))
  .toString('utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Problem)
  .slice(0, taskCount);

/** The document as the user sees it when the oracle is asked. */
let truth = '';
let cursor = 0;
const oracle = (): string => {
  const rest = truth.slice(cursor);
  const lines = rest.split('\n');
  const hash = createHash('sha1').update(`${cursor}:${truth.length}`).digest()[0] ?? 0;
  if (hash / 256 < wrongShare) return 'wrong_guess = None\n';
  return lines.slice(0, 3).join('\n');
};

const percentile = (sorted: number[], p: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const summary = (samples: number[]): { p50: number; p99: number; mean: number } => {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: samples.reduce((sum, value) => sum + value, 0) / samples.length,
  };
};

async function main(): Promise<void> {
  const model = createMockBackend({ respond: () => oracle() });
  const engine = createCompletionEngine({ model });
  const server = await startHttpServer({ handler: createHttpHandler({ engine }), port: 0 });

  // Reference: the same HTTP path with nothing behind it.
  const reference = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const body = JSON.stringify({ content: '', stop: true });
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      response.end(body);
    });
  });
  reference.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve) => reference.listen(0, '127.0.0.1', resolve));
  const referenceURL = `http://127.0.0.1:${(reference.address() as AddressInfo).port}`;

  const added: number[] = [];
  const floor: number[] = [];
  const engineOnly: number[] = [];
  const missesOnly: number[] = [];
  const byCache: Record<string, number> = {};
  let requests = 0;
  // Warm-up: load the Python grammar and JIT the path once, outside the figures.
  truth = 'def f():\n    return 1\n';
  cursor = 9;
  await fetch(`${server.url}/infill`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input_prefix: truth.slice(0, 9), input_suffix: '' }),
  }).then((response) => response.json());
  engine.close();

  const started = performance.now();
  for (const problem of problems) {
    truth = problem.prompt + problem.canonical_solution;
    for (cursor = problem.prompt.length; cursor <= truth.length; cursor += 1) {
      const body = JSON.stringify({ input_prefix: truth.slice(0, cursor), input_suffix: '', n_predict: 64 });
      const t0 = performance.now();
      const response = await fetch(`${server.url}/infill`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      const reply = (await response.json()) as {
        timings: { predicted_ms: number; total_ms: number };
        codeloop: { cache: string };
      };
      const roundTrip = performance.now() - t0;
      added.push(roundTrip - reply.timings.predicted_ms);
      engineOnly.push(reply.timings.total_ms - reply.timings.predicted_ms);
      if (reply.codeloop.cache === 'miss') missesOnly.push(roundTrip - reply.timings.predicted_ms);
      byCache[reply.codeloop.cache] = (byCache[reply.codeloop.cache] ?? 0) + 1;
      requests += 1;
      const r0 = performance.now();
      await (
        await fetch(`${referenceURL}/infill`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
      ).json();
      floor.push(performance.now() - r0);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  await server.close();
  await new Promise<void>((resolve) => reference.close(() => resolve()));

  // Worst case, in-process: every request a miss (cache off), the cursor inside a 3000-line file made of all HumanEval
  // solutions, 10 other open files as context (similar windows + imported definitions), tree-sitter post-processing.
  const all = gunzipSync(readFileSync(join(values['data-dir'], 'humaneval', 'HumanEval.jsonl.gz')))
    .toString('utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Problem);
  const bigFile = all.map((problem) => problem.prompt + problem.canonical_solution).join('\n\n');
  const openFiles = Array.from({ length: 10 }, (_, index) => ({
    path: `pkg/module_${index}.py`,
    text: all
      .slice(index * 16, index * 16 + 16)
      .map((problem) => problem.prompt + problem.canonical_solution)
      .join('\n\n'),
  }));
  const worstEngine = createCompletionEngine({ model: createMockBackend({ respond: () => oracle() }), cacheSize: 0 });
  const worst: number[] = [];
  const middle = all[80] as Problem;
  const at = bigFile.indexOf(middle.canonical_solution);
  truth = bigFile;
  const header = 'from pkg.module_1 import *\nfrom pkg.module_2 import has_close_elements\n';
  for (cursor = at; cursor < at + middle.canonical_solution.length; cursor += 1) {
    const result = await worstEngine.complete({
      text: header + bigFile.slice(0, cursor) + bigFile.slice(at + middle.canonical_solution.length),
      cursor: header.length + cursor,
      path: 'pkg/big.py',
      files: openFiles,
    });
    worst.push(result.totalMs - result.modelMs);
  }
  const w = summary(worst);

  const served = (byCache.hit ?? 0) + (byCache['typed-ahead'] ?? 0) + (byCache['in-flight'] ?? 0);
  const a = summary(added);
  const f = summary(floor);
  const e = summary(engineOnly);
  const m = summary(missesOnly);
  let commit = 'unknown';
  try {
    commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO_ROOT }).toString().trim();
  } catch {
    // not a git checkout
  }
  const fixed = (value: number): string => value.toFixed(2);
  console.log(`commit ${commit}; ${cpus()[0]?.model ?? 'unknown CPU'} × ${cpus().length}; Node ${process.version}`);
  console.log(
    `typing simulation: ${problems.length} HumanEval solutions typed character by character, ${requests} requests in ` +
      `${seconds.toFixed(1)} s, oracle wrong share ${wrongShare}`,
  );
  console.log(
    `server-added latency (round trip − model time), ms: p50 ${fixed(a.p50)}  p99 ${fixed(a.p99)}  mean ` +
      `${fixed(a.mean)}   (target ≤ 2 / ≤ 10)`,
  );
  console.log(`  of which inside the engine (handler total − model), ms: p50 ${fixed(e.p50)}  p99 ${fixed(e.p99)}`);
  console.log(
    `  requests the model answered (cache misses, ${missesOnly.length}), ms: p50 ${fixed(m.p50)}  p99 ${fixed(m.p99)}`,
  );
  console.log(
    `reference: bare node:http JSON round trip, ms: p50 ${fixed(f.p50)}  p99 ${fixed(f.p99)};  ratio p50 ` +
      `${fixed(a.p50 / f.p50)}  p99 ${fixed(a.p99 / f.p99)}`,
  );
  console.log(
    `worst case in-process (cache off, ${bigFile.split('\n').length}-line file, 10 open files of context, ` +
      `${worst.length} requests), engine-added ms: p50 ${fixed(w.p50)}  p99 ${fixed(w.p99)}`,
  );
  console.log(
    `cache: ${((100 * served) / requests).toFixed(1)} % of requests answered without the model (${JSON.stringify(byCache)})`,
  );
}

await main();
