import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkBudget, createBudgetMeter } from './budget-meter.js';

test('budget meter: tokens left cap max_tokens, then the token budget stops the loop', () => {
  const meter = createBudgetMeter({ maxTokens: 100 });
  assert.equal(meter.callMaxTokens(768), 100);
  meter.recordCall({ promptTokens: 60, completionTokens: 30 });
  assert.equal(meter.callMaxTokens(768), 10);
  assert.equal(meter.exhausted(false), null);
  meter.recordCall({ promptTokens: 5, completionTokens: 5 });
  assert.equal(meter.exhausted(false), 'budget-tokens');
  assert.equal(meter.callMaxTokens(768), 1, 'never below one token');
});

test('budget meter: the cost budget caps max_tokens by the completion price and stops when spent', () => {
  const meter = createBudgetMeter({
    maxCostUsd: 1,
    pricing: { promptUsdPerMillion: 1_000, completionUsdPerMillion: 2_000 },
  });
  assert.equal(meter.cost({ promptTokens: 100, completionTokens: 100 }), 0.3);
  assert.equal(meter.callMaxTokens(768), 500, '1 USD buys 500 completion tokens at 2000 USD per million');
  meter.recordCall({ promptTokens: 0, completionTokens: 250 });
  assert.equal(meter.spent.usd, 0.5);
  assert.equal(meter.callMaxTokens(768), 250);
  assert.equal(meter.exhausted(false), null);
  meter.recordCall({ promptTokens: 500, completionTokens: 0 });
  assert.equal(meter.exhausted(false), 'budget-cost');
});

test('budget meter: maxAttempts counts programs and stops only program-making calls', () => {
  const meter = createBudgetMeter({ maxAttempts: 2 });
  meter.recordProgram();
  assert.equal(meter.exhausted(true), null);
  meter.recordProgram();
  assert.equal(meter.exhausted(true), 'budget-attempts');
  assert.equal(meter.exhausted(false), null, 'a test-generation call makes no program');
  assert.equal(meter.spent.programs, 2);
  assert.equal(meter.deadline, undefined);
});

test('budget meter: the wall-clock deadline aborts and stops the loop', async () => {
  const meter = createBudgetMeter({ maxWallMs: 1 });
  await new Promise((resolve) => meter.deadline?.addEventListener('abort', resolve, { once: true }));
  assert.equal(meter.exhausted(false), 'budget-wall');
});

test('checkBudget: a cost limit without prices and a non-positive limit are usage errors naming the value', () => {
  assert.throws(() => checkBudget({ maxCostUsd: 2 }), /maxCostUsd=2 needs prices: give pricing \(--price/);
  assert.throws(() => checkBudget({ maxTokens: 0 }), /budget maxTokens=0 must be a positive number\./);
  assert.doesNotThrow(() => checkBudget({ maxTokens: 5, maxWallMs: 10 }));
});
