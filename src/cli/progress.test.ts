import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createProgressReporter, formatDuration, progressFrame, type ProgressStream } from './progress.js';

/** A stream that records what is written, a TTY of `columns` columns or not. */
function fakeStream(isTTY: boolean, columns = 80): ProgressStream & { chunks: string[] } {
  const chunks: string[] = [];
  return { isTTY, columns, chunks, write: (text: string) => chunks.push(text) };
}

/** What a terminal would show for a stream of `\r` redraws: each frame's text, without the erase-line code. */
function frames(chunks: string[]): string[] {
  return chunks
    .join('')
    .split(/[\r\n]/)
    .map((frame) => frame.replace(/\u001b\[K$/, ''))
    .filter((frame) => frame !== '');
}

test('formatDuration: m:ss, and h:mm:ss past an hour', () => {
  assert.equal(formatDuration(0), '0:00');
  assert.equal(formatDuration(75), '1:15');
  assert.equal(formatDuration(3725), '1:02:05');
});

test('progressFrame: bar, done/total, percentage, rate, ETA and passes, within the width', () => {
  const frame = progressFrame(
    { prefix: 'codeloop eval', label: 'humaneval', done: 50, total: 200, passed: 20, elapsedMs: 10_000 },
    100,
  );
  assert.match(frame, /^codeloop eval: humaneval \[#+-+\] 50\/200 25% 5\.0\/s ETA 0:30 20 passed$/);
  assert.ok(frame.length <= 99, `${frame.length} columns: ${frame}`);
  const bar = /\[(#*)(-*)\]/.exec(frame);
  assert.ok(bar !== null);
  assert.equal(
    bar[1]?.length,
    Math.round(((bar[1]?.length ?? 0) + (bar[2]?.length ?? 0)) / 4),
    'a quarter of the bar is filled',
  );
  // Nothing done yet: no rate to extrapolate from.
  assert.match(
    progressFrame({ prefix: 'p', label: 'x', done: 0, total: 10, passed: 0, elapsedMs: 0 }, 80),
    /0\/10 0% 0\.0\/s ETA -- 0 passed$/,
  );
  // A narrow terminal drops the bar and still never wraps.
  const narrow = progressFrame(
    { prefix: 'codeloop eval', label: 'humaneval', done: 5, total: 10, passed: 1, elapsedMs: 1000 },
    50,
  );
  assert.doesNotMatch(narrow, /\[/);
  assert.ok(narrow.length <= 49);
});

test('progressFrame: the bar keeps its width as the figures grow', () => {
  const state = { prefix: 'codeloop eval', label: 'mbpp', total: 1000, elapsedMs: 1000 };
  const widths = [0, 9, 10, 999, 1000].map(
    (done) => /\[[#-]+\]/.exec(progressFrame({ ...state, done, passed: done }, 90))?.[0].length,
  );
  assert.equal(new Set(widths).size, 1, `bar widths ${widths.join(', ')}`);
});

test('on a TTY: a first frame at start, redraws in place (\\r, erase to end of line), a final frame and a newline at the end', async () => {
  const stream = fakeStream(true, 100);
  let clock = 1_000_000;
  const reporter = createProgressReporter(stream, { prefix: 'codeloop eval', redrawIntervalMs: 20, now: () => clock });
  reporter.onRunStart({ label: 'examples', total: 4 });
  assert.equal(stream.chunks.length, 1);
  assert.match(stream.chunks[0] ?? '', /^\rcodeloop eval: examples \[-+\] 0\/4 0% 0\.0\/s ETA -- 0 passed\u001b\[K$/);
  clock += 2000;
  reporter.onSampleResult({ verdict: 'passed' });
  reporter.onSampleResult({ verdict: 'failed' });
  await sleep(80);
  const shown = frames(stream.chunks);
  assert.match(shown.at(-1) ?? '', /2\/4 50% 1\.0\/s ETA 0:02 1 passed$/);
  clock += 2000;
  reporter.onSampleResult({ verdict: 'passed' });
  reporter.onSampleResult({ verdict: 'timed-out' });
  reporter.onRunEnd();
  const text = stream.chunks.join('');
  assert.ok(text.endsWith('\n'), 'the last frame ends with a newline');
  assert.match(frames(stream.chunks).at(-1) ?? '', /\[#+\] 4\/4 100% 1\.0\/s ETA 0:00 2 passed$/);
  assert.ok(!text.slice(0, -1).includes('\n'), 'frames are redrawn in place, not printed as lines');
  const after = stream.chunks.length;
  await sleep(60);
  assert.equal(stream.chunks.length, after, 'nothing is drawn after onRunEnd');
});

test('on a TTY: a burst of results costs one frame per interval, not one per result', async () => {
  const stream = fakeStream(true);
  const reporter = createProgressReporter(stream, { prefix: 'codeloop eval', redrawIntervalMs: 50 });
  reporter.onRunStart({ label: 'burst', total: 100_000 });
  const started = Date.now();
  while (Date.now() - started < 300) {
    for (let index = 0; index < 1000; index++) reporter.onSampleResult({ verdict: 'passed' });
    await sleep(1);
  }
  const elapsed = Date.now() - started;
  reporter.onRunEnd();
  const drawn = frames(stream.chunks).length;
  // Start + end frames, and at most one per 50 ms tick in between (+1 for a tick landing at either edge).
  assert.ok(drawn <= 2 + Math.ceil(elapsed / 50) + 1, `${drawn} frames in ${elapsed} ms`);
  assert.ok(drawn >= 3, `some frames were drawn while results arrived (${drawn})`);
});

test('counting tokens (generation): the bar and the lines show tokens generated, not passes', async () => {
  const tty = fakeStream(true, 100);
  let clock = 1_000_000;
  const bar = createProgressReporter(tty, {
    prefix: 'codeloop generate',
    redrawIntervalMs: 20,
    now: () => clock,
    counts: 'tokens',
  });
  bar.onRunStart({ label: 'examples', total: 4 });
  clock += 2000;
  bar.onSampleResult({ tokens: 100 });
  bar.onSampleResult({ tokens: 28 });
  bar.onRunEnd();
  assert.match(frames(tty.chunks).at(-1) ?? '', /2\/4 50% 1\.0\/s ETA 0:02 128 tokens$/);
  const plain = fakeStream(false);
  const lines = createProgressReporter(plain, {
    prefix: 'codeloop generate',
    lineIntervalMs: 60_000,
    counts: 'tokens',
  });
  lines.onRunStart({ label: 'examples', total: 3 });
  lines.onSampleResult({ tokens: 40, verdict: 'passed' });
  assert.equal(plain.chunks.length, 0);
  lines.onRunEnd();
  assert.equal(plain.chunks.length, 1, 'a run shorter than the interval still ends with its figures');
  for (const line of plain.chunks)
    assert.match(
      line,
      /^codeloop generate: examples: 1\/3 samples generated, 40 tokens \(\d+\.\d samples\/s, \d+\.\d tokens\/s, \d+ s\)\n$/,
    );
});

test('not a TTY: plain progress lines every interval, no control characters, nothing at the end', async () => {
  const stream = fakeStream(false);
  const reporter = createProgressReporter(stream, { prefix: 'codeloop eval', lineIntervalMs: 30 });
  reporter.onRunStart({ label: 'examples', total: 3 });
  assert.deepEqual(stream.chunks, [], 'no frame at start');
  reporter.onSampleResult({ verdict: 'passed' });
  await sleep(100);
  reporter.onRunEnd();
  const count = stream.chunks.length;
  assert.ok(count >= 1, 'at least one line');
  for (const line of stream.chunks)
    assert.match(line, /^codeloop eval: examples: 1\/3 samples scored, 1 passed \(\d+\.\d\/s, \d+ s\)\n$/);
  await sleep(80);
  assert.equal(stream.chunks.length, count, 'no line after onRunEnd');
});

const script = '/usr/bin/script';
test(
  'in a real pseudo-terminal (script -qfec): stderr is a TTY, so the bar is drawn in place',
  { skip: existsSync(script) ? false : `${script} (util-linux) is missing` },
  () => {
    const module = fileURLToPath(new URL('./progress.js', import.meta.url));
    const program = [
      `import { createProgressReporter } from ${JSON.stringify(module)};`,
      "const reporter = createProgressReporter(process.stderr, { prefix: 'pty', redrawIntervalMs: 10 });",
      "reporter.onRunStart({ label: 'check', total: 2 });",
      "reporter.onSampleResult({ verdict: 'passed' });",
      'await new Promise((resolve) => setTimeout(resolve, 50));',
      "reporter.onSampleResult({ verdict: 'failed' });",
      'reporter.onRunEnd();',
      "process.stdout.write('isTTY=' + process.stderr.isTTY + '\\n');",
    ].join('\n');
    const folder = mkdtempSync(join(tmpdir(), 'codeloop-progress-'));
    try {
      const file = join(folder, 'pty.mjs');
      writeFileSync(file, program);
      const result = spawnSync(script, ['-qfec', `'${process.execPath}' '${file}'`, '/dev/null'], {
        encoding: 'utf8',
        timeout: 30_000,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', TERM: 'dumb' },
      });
      assert.equal(result.status, 0, `${result.stdout}${result.stderr}`);
      assert.match(result.stdout, /isTTY=true/);
      assert.match(result.stdout, /\rpty: check \[-+\] 0\/2 0% 0\.0\/s ETA -- 0 passed\u001b\[K/);
      assert.match(result.stdout, /\rpty: check \[#+\] 2\/2 100% \d+\.\d\/s ETA 0:00 1 passed\u001b\[K\r?\n/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
);
