import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NgramModel } from './ngram.js';

test('n-gram probabilities sum to 1 over the vocabulary, for seen and unseen contexts', () => {
  const V = 20;
  const model = new NgramModel({ order: 5, vocabSize: V });
  const tokens = Array.from({ length: 2000 }, (_, i) => (i * 7 + (i % 3)) % V);
  model.train(tokens);
  for (const context of [tokens.slice(100, 104), [19, 19, 19, 19], [3]]) {
    let sum = 0;
    for (let w = 0; w < V; w++) sum += model.probability([...context, w], context.length);
    assert.ok(Math.abs(sum - 1) < 1e-9, `sum ${sum} after ${context}`);
  }
});

test('n-gram: a repeated pattern is predicted far better than uniform, and greedy decoding follows it', () => {
  const V = 50;
  const model = new NgramModel({ order: 3, vocabSize: V });
  const pattern = [5, 9, 13, 2, 40];
  model.train(Array.from({ length: 500 }, (_, i) => pattern[i % pattern.length]!));
  const p = model.probability([5, 9, 13], 2);
  assert.ok(p > 0.9, `P(13 | 5 9) = ${p}`);
  assert.equal(model.greedyNext([13, 2], new Set()), 40);
  assert.notEqual(model.greedyNext([13, 2], new Set([40])), 40);
});
