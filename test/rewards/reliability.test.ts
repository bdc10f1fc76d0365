import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { createExecutor, probeIsolation, type Executor } from '../../src/sandbox/index.js';
import { createRewardsService } from '../../src/server/rewards/index.js';
import { CORRECT, HACKS, JS_ROW, PYTHON_IO_ROW, PYTHON_ROW } from './reward-hacks.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

interface Planned {
  item: { row: object; completion: string };
  /** The reward this item earns when the sandbox works. */
  expected: number;
}

/** 200 items: correct and wrong Python, stdin/stdout and JavaScript answers, and every 20th a hostile program. */
function plan(): Planned[] {
  const kinds: Planned[] = [
    { item: { row: PYTHON_ROW, completion: '    return a + b\n' }, expected: 1 },
    { item: { row: PYTHON_ROW, completion: '    return a - b\n' }, expected: 0 },
    { item: CORRECT[1]!, expected: 1 },
    { item: { row: PYTHON_IO_ROW, completion: '```python\nprint(0)\n```' }, expected: 0 },
    { item: { row: PYTHON_ROW, completion: '    return b + a\n' }, expected: 1 },
    { item: { row: JS_ROW, completion: '  return a + b;\n}\n' }, expected: 1 },
    { item: { row: JS_ROW, completion: '  return a * b;\n}\n' }, expected: 0 },
  ];
  const hostile = HACKS.filter((hack) => /sleep|exit|fork|bomb|flood|loop|kills/.test(hack.name));
  return Array.from({ length: 200 }, (_, index) =>
    index % 20 === 19
      ? { item: hostile[((index / 20) % hostile.length) | 0]!, expected: 0 }
      : kinds[index % kinds.length]!,
  );
}

describe('rewards service reliability', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('200 mixed items, 5% hostile, a worker SIGKILLed mid-batch: none lost, none 0 for an infra error', async () => {
    const service = createRewardsService({ executor });
    const planned = plan();
    const batches = Array.from({ length: 20 }, (_, batch) => planned.slice(batch * 10, batch * 10 + 10));
    let answered = 0;
    let killed: number | null = null;
    const replies = batches.map(async (batch) => {
      const response = await service.handler({
        method: 'POST',
        path: '/v1/rewards',
        headers: {},
        body: JSON.stringify({ items: batch.map((entry) => entry.item), options: { mode: 'binary' } }),
      });
      answered += batch.length;
      // Once a few batches are back, kill one sandbox worker (a direct child of this process) with SIGKILL.
      if (killed === null && answered >= 40) {
        const children = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' })
          .trim()
          .split('\n');
        killed = Number(children[0]);
        process.kill(killed, 'SIGKILL');
      }
      return response;
    });
    const results: { reward: number | null; verdict: string; infra_error: boolean; reason: string }[] = [];
    for (const reply of replies) {
      const response = await reply;
      assert.equal(response.status, 200, String(response.body));
      results.push(...JSON.parse(response.body as string).results);
    }
    assert.ok(killed !== null, 'a worker was killed');
    assert.equal(results.length, planned.length, 'no item lost');
    const verdicts = new Set(['passed', 'failed', 'timed-out', 'compile-error', 'no-code', 'infra-error', 'flaky']);
    const problems: string[] = [];
    results.forEach((result, index) => {
      const { expected } = planned[index]!;
      if (!verdicts.has(result.verdict)) problems.push(`${index}: verdict ${result.verdict}`);
      if (result.reward === null) {
        if (!result.infra_error) problems.push(`${index}: null without an infra error`);
      } else {
        if (result.infra_error) problems.push(`${index}: infra error scored ${result.reward}`);
        if (result.reward !== expected)
          problems.push(
            `${index}: reward ${result.reward}, expected ${expected} (${result.verdict}: ${result.reason})`,
          );
      }
    });
    assert.deepEqual(problems, []);
    const nulls = results.filter((result) => result.reward === null).length;
    assert.ok(nulls <= 4, `${nulls} items null: a killed worker is retried in a fresh one, so few should be`);
  });
});
