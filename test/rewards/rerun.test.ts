import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { scoreItem } from '../../src/rewards/index.js';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';
import { PYTHON_ROW } from './reward-hacks.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

/** Wrong only when add(1, 2) is its very first call: the verdict depends on the order of the tests. */
const ORDER_DEPENDENT = [
  'calls = []',
  'def add(a, b):',
  '    calls.append((a, b))',
  '    if calls == [(1, 2)]:',
  '        return 0',
  '    return a + b',
].join('\n');

describe('--rerun', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('an item whose verdict changes with the order of its tests is flaky, reward null', async () => {
    const item = { row: PYTHON_ROW, completion: `\`\`\`python\n${ORDER_DEPENDENT}\n\`\`\`` };
    const once = await scoreItem(item, { executor, mode: 'binary' });
    assert.equal(once.verdict, 'failed');
    assert.equal(once.reward, 0);
    const rerun = await scoreItem(item, { executor, mode: 'binary', rerun: 3 });
    assert.equal(rerun.verdict, 'flaky', rerun.reason);
    assert.equal(rerun.reward, null);
    assert.equal(rerun.infraError, false);
    assert.match(
      rerun.reason,
      /^flaky: failed \(0\.6666666666666666\) first, passed \(1\) with the tests in another order/,
    );
    const stable = await scoreItem({ row: PYTHON_ROW, completion: '    return a + b\n' }, { executor, rerun: 2 });
    assert.equal(stable.verdict, 'passed');
    assert.equal(stable.reward, 1);
  });
});
