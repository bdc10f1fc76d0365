import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { ApiCallError } from '../errors.js';
import { createHttpClient, serverErrorMessage, type HttpClientOptions } from './http-client.js';

/** A server whose answer to the n-th request (0-based) is `script[n]`; the last entry repeats. */
type Script = ((request: IncomingMessage, response: ServerResponse, body: string) => void)[];

const servers: { close: () => void }[] = [];
after(() => servers.forEach((server) => server.close()));

async function serve(script: Script): Promise<{ url: string; count: () => number }> {
  let count = 0;
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += String(chunk)));
    request.on('end', () => (script[Math.min(count++, script.length - 1)] as Script[number])(request, response, body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, count: () => count };
}

const json =
  (status: number, body: unknown, headers: Record<string, string> = {}) =>
  (_request: IncomingMessage, response: ServerResponse): void => {
    response.writeHead(status, { 'content-type': 'application/json', ...headers });
    response.end(JSON.stringify(body));
  };

const client = (options: Partial<HttpClientOptions> = {}) =>
  createHttpClient({
    apiKey: 'k',
    maxConcurrency: 4,
    timeoutMs: 2000,
    maxRetries: 2,
    retryBaseDelayMs: 1,
    maxRetryAfterMs: 1000,
    headers: {},
    serverName: () => 'TestServer',
    ...options,
  });

test('server error messages are read from every shape servers use', () => {
  assert.equal(serverErrorMessage('{"error":{"message":"a","type":"x"}}'), 'a');
  assert.equal(serverErrorMessage('{"object":"error","message":"b","code":400}'), 'b');
  assert.equal(serverErrorMessage('{"error":"c"}'), 'c');
  assert.equal(
    serverErrorMessage('{"detail":[{"loc":["body","max_tokens"],"msg":"must be positive"}]}'),
    'body.max_tokens: must be positive',
  );
  assert.equal(serverErrorMessage('<html>Bad Gateway</html>'), '<html>Bad Gateway</html>');
  assert.equal(serverErrorMessage(''), '(empty body)');
});

test('5xx and 429 are retried (Retry-After honoured); the answer that finally works is returned', async () => {
  const server = await serve([
    json(503, { error: { message: 'loading model' } }),
    json(429, { error: { message: 'slow down' } }, { 'retry-after': '0' }),
    json(200, { ok: true }),
  ]);
  assert.deepEqual(await client().postJson(`${server.url}/v1/x`, {}), { ok: true });
  assert.equal(server.count(), 3);
});

test('a 400 is not retried, and says what the server said', async () => {
  const server = await serve([json(400, { object: 'error', message: 'bad n' })]);
  await assert.rejects(client().postJson(`${server.url}/v1/x`, {}), (error: unknown) => {
    assert.ok(error instanceof ApiCallError);
    assert.deepEqual(
      [error.statusCode, error.retryable, error.url, error.responseBody],
      [400, false, `${server.url}/v1/x`, '{"object":"error","message":"bad n"}'],
    );
    assert.equal(error.message, `TestServer answered 400 to POST ${server.url}/v1/x: bad n.`);
    return true;
  });
  assert.equal(server.count(), 1);
});

test('a Retry-After longer than codeloop waits fails at once, saying so', async () => {
  const server = await serve([json(429, { error: { message: 'quota' } }, { 'retry-after': '120' })]);
  await assert.rejects(client().postJson(`${server.url}/x`, {}), {
    message: `TestServer answered 429 to POST ${server.url}/x: quota. The server is rate-limiting: lower maxConcurrency or wait. It asked to retry after 120 s, longer than codeloop waits (1 s).`,
  });
  assert.equal(server.count(), 1);
});

test('a dropped connection is a retryable network error; when retries run out it says how to check the server', async () => {
  const server = await serve([(request) => request.socket.destroy()]);
  await assert.rejects(client({ maxRetries: 1 }).postJson(`${server.url}/x`, {}), (error: unknown) => {
    assert.ok(error instanceof ApiCallError);
    assert.equal(error.retryable, true);
    assert.equal(error.statusCode, undefined);
    assert.match(
      error.message,
      new RegExp(
        `^cannot reach TestServer at ${server.url}/x \\(.+\\); is the server running, and is the base URL right\\?$`,
      ),
    );
    return true;
  });
  assert.equal(server.count(), 2);
  const closed = await serve([json(200, {})]);
  servers.at(-1)?.close();
  await assert.rejects(
    client({ maxRetries: 0 }).postJson(`${closed.url}/x`, {}),
    new RegExp(`cannot reach TestServer at ${closed.url}/x \\(ECONNREFUSED\\)`),
  );
});

// 400 ms, not less: each attempt must reach the server before it times out, also on a loaded 2-core machine.
test('a server that sends nothing times out per attempt, retryably', async () => {
  const server = await serve([() => undefined]);
  await assert.rejects(client({ timeoutMs: 400, maxRetries: 1 }).postJson(`${server.url}/x`, {}), (error: unknown) => {
    assert.ok(error instanceof ApiCallError);
    assert.equal(error.retryable, true);
    assert.equal(
      error.message,
      `TestServer sent nothing for 400 ms (${server.url}/x); raise timeoutMs if generation is slow on this server.`,
    );
    return true;
  });
  assert.equal(server.count(), 2);
});

test('an abort during the backoff rethrows the reason unchanged', async () => {
  const server = await serve([json(503, { error: { message: 'busy' } })]);
  const controller = new AbortController();
  const reason = new Error('user gave up');
  setTimeout(() => controller.abort(reason), 30);
  await assert.rejects(
    client({ retryBaseDelayMs: 10_000 }).postJson(`${server.url}/x`, {}, controller.signal),
    (error) => error === reason,
  );
});

test('maxConcurrency holds requests back; a stream left early frees its slot and cancels the request', async () => {
  let closedByClient = 0;
  const server = await serve([
    (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write('data: {"n":1}\n\n');
      const timer = setInterval(() => response.write(': keep-alive\n\n'), 5);
      response.on('close', () => {
        clearInterval(timer);
        closedByClient++;
      });
    },
  ]);
  const http = client({ maxConcurrency: 1 });
  const first = http.postEvents(`${server.url}/s`, {});
  assert.deepEqual((await first.next()).value, { n: 1 });
  const second = http.postEvents(`${server.url}/s`, {});
  const waiting = second.next();
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(server.count(), 1, 'the second request waits for the slot');
  await first.return(undefined); // what leaving a `for await` early does
  assert.deepEqual((await waiting).value, { n: 1 });
  assert.equal(server.count(), 2);
  await second.return(undefined);
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(closedByClient, 2, 'both HTTP requests were closed by the client');
});

test('a stream event that is not JSON fails with the text; [DONE] ends the stream; a JSON answer to a stream request is one event', async () => {
  const server = await serve([
    (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('data: {"a":1}\n\ndata: [DONE]\n\ndata: {"never":1}\n\n');
    },
    (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.end('data: {oops\n\n');
    },
    json(200, { whole: true }),
  ]);
  const events: unknown[] = [];
  for await (const event of client().postEvents(`${server.url}/s`, {})) events.push(event);
  assert.deepEqual(events, [{ a: 1 }]);
  await assert.rejects(
    (async () => {
      for await (const _ of client().postEvents(`${server.url}/s`, {})) void _;
    })(),
    /TestServer sent a stream event that is not JSON: \{oops/,
  );
  const whole: unknown[] = [];
  for await (const event of client().postEvents(`${server.url}/s`, {})) whole.push(event);
  assert.deepEqual(whole, [{ whole: true }]);
});
