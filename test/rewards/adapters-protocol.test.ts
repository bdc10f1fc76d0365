import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { ADAPTERS_DIR, callTrainer, runPython } from './python-adapters.js';

// The Python adapters' side of the HTTP contract, against a scripted stand-in for the service (a real HTTP server in
// this process, so the adapters' real urllib code runs): what each adapter sends for its trainer's calling
// convention, and how the client handles 429, 401, 400 and an unreachable service. The same adapters are run against
// the real `codeloop rewards serve` in adapters-service.test.ts.

interface Received {
  body: { items: { row: Record<string, unknown>; completion: unknown }[]; options?: { mode?: string } };
  headers: IncomingHttpHeaders;
}

let server: Server;
let url: string;
let received: Received[] = [];
/** Replies to send before scoring normally: [status, headers, body]. */
let scripted: [number, Record<string, string>, unknown][] = [];

function text(completion: unknown): string {
  if (typeof completion === 'string') return completion;
  return Array.isArray(completion) ? String((completion.at(-1) as { content?: unknown }).content) : '';
}

/** 1 when the completion holds `return a + b`, null (an infra error) when it holds INFRA, else 0. */
function score(completion: unknown): Record<string, unknown> {
  const code = text(completion);
  if (code.includes('INFRA'))
    return { reward: null, pass_rate: null, verdict: 'infra-error', infra_error: true, reason: 'worker died' };
  const passed = code.includes('return a + b');
  return {
    reward: passed ? 1 : 0,
    pass_rate: passed ? 1 : 0,
    verdict: passed ? 'passed' : 'failed',
    tests: [],
    infra_error: false,
    reason: passed ? '' : 'assert failed',
    format_reward: 1,
    duration_ms: 3,
  };
}

before(async () => {
  server = createServer((request, response) => {
    let data = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (data += chunk));
    request.on('end', () => {
      const body = JSON.parse(data) as Received['body'];
      received.push({ body, headers: request.headers });
      const next = scripted.shift();
      if (next !== undefined) {
        response.writeHead(next[0], { 'content-type': 'application/json', ...next[1] });
        response.end(JSON.stringify(next[2]));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ results: body.items.map((item) => score(item.completion)) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  received = [];
  scripted = [];
});

const ADD_ROW = { prompt: 'def add(a, b):\n', test: 'def check(f):\n    assert f(1, 2) == 3\n', entry_point: 'add' };
const COMPLETIONS = ['    return a + b\n', '    return a - b\n', '    INFRA\n'];

test('TRL sync: the row column is the row; rewards are floats, None for an infra error; verdicts logged', async () => {
  const output = await callTrainer(
    'trl_call.py',
    ['sync'],
    {
      prompts: [ADD_ROW.prompt, ADD_ROW.prompt, ADD_ROW.prompt],
      completions: COMPLETIONS,
      columns: { row: COMPLETIONS.map(() => JSON.stringify(ADD_ROW)), task_id: ['add', 'add', 'add'] },
    },
    { CODELOOP_REWARDS_URL: url, CODELOOP_REWARDS_MODE: 'fraction' },
  );
  assert.deepEqual(output.rewards, [1, 0, null]);
  assert.equal(output.name, 'codeloop_execution');
  assert.deepEqual((output.extra as Record<string, unknown>).codeloop_verdict, ['passed', 'failed', 'infra-error']);
  assert.deepEqual((output.metrics as Record<string, number[]>)['codeloop/infra_error_rate'], [1 / 3]);
  assert.equal(received.length, 1);
  assert.deepEqual(received[0]?.body, {
    items: COMPLETIONS.map((completion) => ({ row: ADD_ROW, completion })),
    options: { mode: 'fraction' },
  });
});

test('TRL async, chat: messages pass through; a row is built from the test columns and the prompt', async () => {
  const prompt = [{ role: 'user', content: 'Write add(a, b).' }];
  const completions = COMPLETIONS.slice(0, 2).map((content) => [{ role: 'assistant', content }]);
  const output = await callTrainer(
    'trl_call.py',
    ['async'],
    {
      prompts: [prompt, prompt],
      completions,
      columns: { test: [ADD_ROW.test, ADD_ROW.test], entry_point: ['add', 'add'], language: ['python', 'python'] },
    },
    { CODELOOP_REWARDS_URL: url },
  );
  assert.deepEqual(output.rewards, [1, 0]);
  // A chat prompt is no code to continue: it is not put in the row.
  assert.deepEqual(received[0]?.body.items[0], {
    row: { test: ADD_ROW.test, entry_point: 'add', language: 'python' },
    completion: completions[0],
  });
  assert.equal(received[0]?.body.options, undefined);
});

test('TRL execution and format rewards from make_reward_functions: one request for both', async () => {
  const output = await callTrainer(
    'trl_call.py',
    ['pair'],
    {
      prompts: [ADD_ROW.prompt, ADD_ROW.prompt],
      completions: COMPLETIONS.slice(0, 2),
      columns: { row: [ADD_ROW, ADD_ROW].map((row) => JSON.stringify(row)) },
    },
    { CODELOOP_REWARDS_URL: url },
  );
  assert.deepEqual(output, {
    rewards: [
      [1, 0],
      [1, 1],
    ],
    names: ['codeloop_execution', 'codeloop_format'],
  });
  assert.equal(received.length, 1, "the second function reused the first one's results");
});

const VERL_ROWS = [
  {
    data_source: 'codeloop',
    response: '    return a + b\n',
    reward_model: { style: 'rule', ground_truth: JSON.stringify(ADD_ROW) },
    extra_info: { index: 0, task_id: 'add', language: 'python' },
  },
  {
    data_source: 'codecontests',
    response: 'print(input())',
    // verl's own code ground truth: the language comes from extra_info.
    reward_model: { style: 'rule', ground_truth: JSON.stringify({ inputs: ['x\n'], outputs: ['x\n'] }) },
    extra_info: { index: 1, language: 'typescript' },
  },
];

test('verl naive manager: one compute_score call per response, reward_kwargs passed through', async () => {
  const output = await callTrainer('verl_call.py', ['naive', join(ADAPTERS_DIR, 'verl.py'), 'compute_score'], {
    rows: VERL_ROWS,
    reward_kwargs: { url, api_key: 'k1' },
  });
  assert.deepEqual(output.scores, [
    { score: 1, pass_rate: 1, format_reward: 1, infra_error: false, verdict: 'passed' },
    { score: 0, pass_rate: 0, format_reward: 1, infra_error: false, verdict: 'failed' },
  ]);
  assert.equal(received.length, 2);
  assert.equal(received[0]?.headers.authorization, 'Bearer k1');
  assert.deepEqual(received[1]?.body.items[0]?.row, {
    ground_truth: { inputs: ['x\n'], outputs: ['x\n'] },
    language: 'typescript',
  });
});

test('verl: an infra error raises unless on_infra_error scores it; the batch manager sends one request', async () => {
  const infra = [{ ...VERL_ROWS[0], response: 'INFRA' }];
  const raised = await callTrainer('verl_call.py', ['naive', join(ADAPTERS_DIR, 'verl.py'), 'compute_score'], {
    rows: infra,
    reward_kwargs: { url },
  });
  assert.equal(raised.error, 'RewardsError');
  assert.match(
    String(raised.message),
    /could not score a response \(infra-error: worker died\).*on_infra_error=<float>/,
  );
  const scored = await callTrainer('verl_call.py', ['batch', join(ADAPTERS_DIR, 'verl.py'), 'compute_score_batch'], {
    rows: [...VERL_ROWS, ...infra],
    reward_kwargs: { url, on_infra_error: -1 },
  });
  assert.deepEqual(
    (scored.scores as { score: number; infra_error: boolean }[]).map((entry) => [entry.score, entry.infra_error]),
    [
      [1, false],
      [0, false],
      [-1, true],
    ],
  );
  assert.equal(received.length, 2, 'the batch went in one request');
  assert.equal(received[1]?.body.items.length, 3);
});

test('OpenRLHF: the response is cut out of the query; rewards, scores and extra logs per query', async () => {
  const prompt = '<|im_start|>user\nWrite add(a, b).<|im_end|>\n<|im_start|>assistant\n';
  const samples = ['```python\ndef add(a, b):\n    return a + b\n```', 'def add(a, b):\n    return a - b'].map(
    (response) => ({ prompt, query: `${prompt}${response}<|im_end|>`, label: JSON.stringify(ADD_ROW) }),
  );
  const output = await callTrainer(
    'openrlhf_call.py',
    [join(ADAPTERS_DIR, 'openrlhf.py')],
    { samples },
    {
      CODELOOP_REWARDS_URL: url,
    },
  );
  assert.deepEqual(output.results, [
    {
      rewards: [1],
      scores: [1],
      extra_logs: { codeloop_format_reward: [1], codeloop_infra_error: [0] },
    },
    {
      rewards: [0],
      scores: [0],
      extra_logs: { codeloop_format_reward: [1], codeloop_infra_error: [0] },
    },
  ]);
  const sent = received.map((request) => request.body.items[0]?.completion).sort();
  assert.deepEqual(sent, ['```python\ndef add(a, b):\n    return a + b\n```', 'def add(a, b):\n    return a - b']);
  const infra = await callTrainer(
    'openrlhf_call.py',
    [join(ADAPTERS_DIR, 'openrlhf.py')],
    { samples: [{ prompt, query: `${prompt}INFRA`, label: JSON.stringify(ADD_ROW) }] },
    { CODELOOP_REWARDS_URL: url },
  );
  assert.equal(infra.error, 'RewardsError');
  assert.match(String(infra.message), /CODELOOP_REWARDS_ON_INFRA_ERROR/);
});

/** Runs a few lines of Python against RewardsClient and returns what they print. */
async function client(code: string): Promise<string> {
  const run = await runPython(['-c', `from codeloop_rewards import *\n${code}`], '');
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.trim();
}

test('client: waits out a full queue (429, Retry-After), and names the fix for 401, 400 and no service', async () => {
  scripted = [[429, { 'retry-after': '0' }, { error: { code: 'queue-full', message: 'queue is full' } }]];
  const items = JSON.stringify([{ row: ADD_ROW, completion: COMPLETIONS[0] }]);
  assert.equal(await client(`print(RewardsClient(url=${JSON.stringify(url)}).score(${items})[0]["reward"])`), '1');
  assert.equal(received.length, 2);

  const attempt = (status: number, body: unknown) => {
    scripted = [[status, {}, body]];
    return client(
      `try:\n    RewardsClient(url=${JSON.stringify(url)}).score(${items})\n` +
        'except RewardsError as e:\n    print(type(e).__name__, e)',
    );
  };
  assert.match(await attempt(401, {}), /^RewardsAuthError .*refused the request \(401\): set CODELOOP_REWARDS_API_KEY/);
  assert.match(
    await attempt(400, { error: { code: 'bad-row', message: 'items[0].row: unknown row format' } }),
    /^RewardsRequestError .*rejected the batch: items\[0\]\.row: unknown row format$/,
  );
  // Nothing listens on port 9 of the loopback: the error says how to start the service.
  assert.match(
    await client(
      'try:\n    RewardsClient(url="http://127.0.0.1:9", retries=0).score([{"row": {}, "completion": ""}])\n' +
        'except RewardsError as e:\n    print(e)',
    ),
    /^cannot reach the reward service at http:\/\/127\.0\.0\.1:9 .*start it with `codeloop rewards serve`/,
  );
});
