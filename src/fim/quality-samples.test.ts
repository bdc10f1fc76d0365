import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionQualityMetrics, summarizeLatency } from './quality-metrics.js';
import {
  completionHole,
  completionMiddle,
  normalizeWhitespace,
  type CompletionSampleRecord,
} from './quality-samples.js';

test('completionHole: whole lines for HumanEval single/multi infilling, a span elsewhere', () => {
  assert.equal(completionHole({ dataset: 'humaneval-infilling-single', prompt: 'def f():\n' }), 'lines');
  assert.equal(completionHole({ dataset: 'humaneval-infilling-multi', prompt: '' }), 'lines');
  assert.equal(completionHole({ dataset: 'humaneval-infilling-single', prompt: 'def f(' }), 'span');
  assert.equal(completionHole({ dataset: 'humaneval-infilling-random-span', prompt: 'def f():\n' }), 'span');
  assert.equal(completionHole({ dataset: 'safim-block', prompt: '    ' }), 'span');
});

test('completionMiddle: the accepted document minus prefix and suffix', () => {
  // A whole-line hole: the document has an empty line at the cursor; its line break ends the middle.
  assert.equal(completionMiddle('lines', '    return x\n', '    y = 1', 0), '    y = 1\n');
  // The completion re-typed the line break and the next line; the merge replaced them.
  assert.equal(completionMiddle('lines', '    return x\n', '    y = 1\n    return x', 13), '    y = 1\n');
  assert.equal(completionMiddle('lines', 'pass\n', '', 0), '\n');
  // A span: inserted as is, or with the re-typed closer replaced.
  assert.equal(completionMiddle('span', ')\n', 'a, b', 0), 'a, b');
  assert.equal(completionMiddle('span', ')\n', 'a, b)', 1), 'a, b');
  // The merge skipped spaces the suffix has before the overlap: not a middle before the unchanged suffix, inserted as is.
  assert.equal(completionMiddle('span', '  )', 'a)', 3), 'a)');
});

test('normalizeWhitespace: runs of whitespace are one space, ends trimmed', () => {
  assert.equal(normalizeWhitespace('  for x in y:\r\n\t\tpass \n'), 'for x in y: pass');
});

test('summarizeLatency: nearest-rank p50/p95', () => {
  assert.deepEqual(summarizeLatency([]), { p50: 0, p95: 0, mean: 0, max: 0 });
  const values = Array.from({ length: 100 }, (_, index) => 100 - index);
  assert.deepEqual(summarizeLatency(values), { p50: 50, p95: 95, mean: 50.5, max: 100 });
});

test('completionQualityMetrics: rates over tasks with a canonical middle; cache hits and declined requests not timed', () => {
  const base: CompletionSampleRecord = {
    task_id: 't0',
    completion: 'a\n',
    expected: 'a\n',
    exact_match: true,
    exact_match_normalized: true,
    post_process: true,
    hole: 'lines',
    engine_text: 'a',
    replace_length: 0,
    raw_text: 'a\nb',
    mode: 'multi-line',
    mode_reason: 'blank line inside code',
    finish_reason: 'stop',
    rules: ['stop-at-suffix-line'],
    cache: 'miss',
    total_ms: 10,
    model_ms: 8,
    usage: { prompt_tokens: 5, completion_tokens: 2 },
    model: 'mock',
  };
  const metrics = completionQualityMetrics([
    base,
    {
      ...base,
      task_id: 't1',
      completion: ' a \n',
      exact_match: false,
      exact_match_normalized: true,
      total_ms: 30,
      model_ms: 20,
    },
    { ...base, task_id: 't2', cache: 'hit', total_ms: 0.1, model_ms: 0 },
    {
      ...base,
      task_id: 't3',
      mode: 'none',
      engine_text: '',
      completion: '\n',
      exact_match: false,
      exact_match_normalized: false,
      rules: [],
      total_ms: 0.1,
      model_ms: 0,
    },
  ]);
  assert.equal(metrics.samples, 4);
  assert.equal(metrics.exactMatch, 0.5);
  assert.equal(metrics.exactMatchNormalized, 0.75);
  assert.deepEqual(metrics.latencyMs, { p50: 10, p95: 30, mean: 20, max: 30 });
  assert.deepEqual(metrics.modes, { 'multi-line': 3, none: 1 });
  assert.deepEqual(metrics.rules, { 'stop-at-suffix-line': 3 });
  assert.equal(metrics.empty, 1);
});
