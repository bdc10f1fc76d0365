import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createExecutor, probeIsolation, type Executor } from '../../sandbox/index.js';
import { createRewardsService } from './rewards-service.js';

const skip = probeIsolation().level === null ? 'no OS sandbox on this machine (codeloop doctor says why)' : false;

const row = {
  prompt: 'def add(a, b):\n    """Add."""\n',
  entry_point: 'add',
  test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(2, 2) == 4\n',
};
const post = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  path: '/v1/rewards',
  headers,
  body: JSON.stringify(body),
});

describe('rewards service', { skip }, () => {
  let executor: Executor;
  before(async () => {
    executor = await createExecutor({ concurrency: 2 });
  });
  after(async () => {
    await executor.close();
  });

  test('scores a batch in order, snake_case results', async () => {
    const service = createRewardsService({ executor });
    const response = await service.handler(
      post({
        items: [
          { row, completion: '    return a + b\n' },
          { row, completion: [{ role: 'assistant', content: '```python\ndef add(a, b):\n    return a - b\n```' }] },
          { row, completion: '' },
        ],
        options: { mode: 'binary' },
      }),
    );
    assert.equal(response.status, 200);
    const { results } = JSON.parse(response.body as string);
    assert.deepEqual(
      results.map((result: { reward: number; verdict: string; pass_rate: number }) => [
        result.reward,
        result.verdict,
        result.pass_rate,
      ]),
      [
        [1, 'passed', 1],
        [0, 'failed', 0],
        [0, 'no-code', 0],
      ],
    );
    assert.equal(results[0].tests.length, 2);
    assert.equal(results[0].infra_error, false);
    assert.equal(typeof results[0].format_reward, 'number');
    const metrics = await service.handler({ method: 'GET', path: '/metrics', headers: {}, body: '' });
    assert.match(metrics.body as string, /codeloop_rewards_executions_total\{verdict="passed"\} 1/);
    assert.match(metrics.body as string, /codeloop_rewards_request_duration_seconds_count 1/);
    assert.match(metrics.body as string, /codeloop_rewards_queue_depth 0/);
  });

  test('an item whose many tests each run near their limit gets 0 (timed-out), not null', async () => {
    // Ten tests, each call sleeping 0.8 s under a 1 s per-test limit: 8 s of program in all, past the 6 s item limit.
    // The programs get half of it, so the item ends as timed-out (a result) before the service would have to give up.
    const slowRow = {
      prompt: 'def add(a, b):\n    """Add."""\n',
      entry_point: 'add',
      test:
        'def check(candidate):\n' +
        Array.from({ length: 10 }, (_, index) => `    assert candidate(${index}, 1) == ${index + 1}\n`).join(''),
    };
    const service = createRewardsService({ executor, itemTimeoutMs: 6000, scoreDefaults: { perTestMs: 1000 } });
    const response = await service.handler(
      post({
        items: [{ row: slowRow, completion: '    import time\n    time.sleep(0.8)\n    return a + b\n' }],
        options: { mode: 'binary' },
      }),
    );
    const [result] = JSON.parse(response.body as string).results;
    assert.equal(result.reward, 0, `${result.verdict}: ${result.reason}`);
    assert.equal(result.verdict, 'timed-out');
    assert.equal(result.infra_error, false);
    assert.ok(result.pass_rate < 1, `the tests past the budget did not pass: ${result.pass_rate}`);
    const fast = await service.handler(post({ items: [{ row: slowRow, completion: '    return a + b\n' }] }));
    assert.equal(JSON.parse(fast.body as string).results[0].reward, 1);
  });

  test('a malformed item is a 400 naming its index and field', async () => {
    const service = createRewardsService({ executor });
    const response = await service.handler(
      post({
        items: [
          { row, completion: 'x' },
          { row: { nothing: 1 }, completion: 'x' },
        ],
      }),
    );
    assert.equal(response.status, 400);
    assert.match(JSON.parse(response.body as string).error.message, /^items\[1\]\.row: /);
    const mode = await service.handler(post({ items: [], options: { mode: 'best' } }));
    assert.equal(mode.status, 400);
    assert.match(JSON.parse(mode.body as string).error.message, /options\.mode "best"/);
  });

  test('API key, 429 with Retry-After when the queue is full, 503 while draining', async () => {
    const service = createRewardsService({ executor, apiKey: 'k1', maxQueuedItems: 2 });
    assert.equal((await service.handler(post({ items: [] }))).status, 401);
    assert.equal((await service.handler(post({ items: [] }, { authorization: 'Bearer nope' }))).status, 401);
    const health = await service.handler({ method: 'GET', path: '/health', headers: {}, body: '' });
    assert.equal(health.status, 200);
    const auth = { authorization: 'Bearer k1' };
    const first = service.handler(
      post(
        {
          items: [
            { row, completion: '    return a + b\n' },
            { row, completion: '    return a\n' },
          ],
        },
        auth,
      ),
    );
    const refused = await service.handler(post({ items: [{ row, completion: '    return 3\n' }] }, auth));
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    const drained = service.drain();
    assert.equal((await service.handler(post({ items: [] }, auth))).status, 503);
    const accepted = await first;
    await drained;
    assert.equal(accepted.status, 200, 'items accepted before the drain are answered');
    assert.equal(JSON.parse(accepted.body as string).results.length, 2);
  });
});
