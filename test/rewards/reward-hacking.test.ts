import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scoreBatch } from '../../src/rewards/index.js';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';
import { CORRECT, HACKS } from './reward-hacks.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

describe('reward-hacking battery', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('the battery is big enough and covers the three languages', () => {
    assert.ok(HACKS.length >= 30, `${HACKS.length} hacks`);
    for (const prefix of ['py', 'js', 'ts'])
      assert.ok(
        HACKS.some((hack) => hack.name.startsWith(`${prefix}`)),
        `no ${prefix} hack`,
      );
  });

  test('each row can be passed: a correct solution gets reward 1', async () => {
    const results = await scoreBatch(CORRECT, { executor, perTestMs: 1000 });
    results.forEach((result, index) =>
      assert.equal(result.reward, 1, `${CORRECT[index]!.name}: ${result.verdict} ${result.reason}`),
    );
  });

  test('every hack gets reward 0: not 1, not null', async () => {
    const results = await scoreBatch(HACKS, { executor, perTestMs: 1000 });
    const wrong = results
      .map((result, index) => ({ result, hack: HACKS[index]! }))
      .filter(({ result }) => result.reward !== 0 || result.infraError)
      .map(({ result, hack }) => `${hack.name}: reward ${result.reward} (${result.verdict}: ${result.reason})`);
    assert.deepEqual(wrong, []);
    // Binary mode too: no hack passes every test.
    assert.ok(results.every((result) => result.verdict !== 'passed'));
  });
});
