import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withRequestLog } from './request-log.js';

test('withRequestLog: one line per request with method, route, status, ms and tokens; streams log when done', async () => {
  const lines: string[] = [];
  const logged = withRequestLog(
    async (request) => {
      if (request.path.startsWith('/stream'))
        return {
          status: 200,
          headers: {},
          body: (async function* () {
            yield 'data: {"choices":[{"text":"a"}]}\n\n';
            yield 'data: {"choices":[],"usage":{"completion_tokens":7}}\n\n';
          })(),
        };
      if (request.path === '/missing') return { status: 404, headers: {}, body: '{"error":{}}' };
      return { status: 200, headers: {}, body: '{"content":"x","tokens_predicted":16}' };
    },
    (line) => lines.push(line),
  );
  await logged({ method: 'POST', path: '/infill?x=1', headers: {}, body: '' });
  await logged({ method: 'GET', path: '/missing', headers: {}, body: '' });
  const stream = await logged({ method: 'POST', path: '/stream', headers: {}, body: '' });
  assert.equal(lines.length, 2, 'a stream is logged when its last chunk is sent');
  for await (const _chunk of stream.body as AsyncIterable<string>);
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /^POST \/infill 200 \d+ ms 16 tokens$/);
  assert.match(lines[1] ?? '', /^GET \/missing 404 \d+ ms -$/);
  assert.match(lines[2] ?? '', /^POST \/stream 200 \d+ ms 7 tokens$/);
});
