/**
 * The socket-level limits of `codeloop serve --http` on a real 127.0.0.1 port (security review F7): slow clients are
 * cut off by the header and request timeouts, connections are capped, unfinished bodies share a byte budget, and the
 * DNS-rebinding reproducer is refused over the wire. Every wait is bounded; the server is closed at the end.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { createCompletionEngine } from '../../src/fim/index.js';
import { createMockBackend } from '../../src/models/index.js';
import { createHttpHandler, startHttpServer, type RunningHttpServer } from '../../src/server/http/index.js';

let server: RunningHttpServer;
const sockets: Socket[] = [];

before(async () => {
  const engine = createCompletionEngine({ model: createMockBackend({ respond: () => 'return 1' }) });
  server = await startHttpServer({
    handler: createHttpHandler({ engine }),
    port: 0,
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    maxConnections: 4,
    maxBodyBytes: 4000,
    maxInFlightBodyBytes: 6000,
  });
});
after(async () => {
  for (const socket of sockets) socket.destroy();
  await server.close();
});

/** A raw connection; `closed` resolves with everything the server sent once it closes (or after `limitMs`). */
async function open(limitMs = 5000): Promise<{ socket: Socket; closed: Promise<{ data: string; byServer: boolean }> }> {
  const socket = connect(server.port, '127.0.0.1');
  sockets.push(socket);
  let data = '';
  socket.on('data', (chunk) => (data += chunk.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<{ data: string; byServer: boolean }>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, byServer: false });
    }, limitMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ data, byServer: true });
    });
  });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return { socket, closed };
}

const head = (length: number, extra = ''): string =>
  `POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nContent-Type: ` +
  `application/json\r\nContent-Length: ${length}\r\n${extra}\r\n`;

test('a client that never finishes its headers, or its body, is cut off (408) by the timeouts, not kept for minutes', async () => {
  const slowHeaders = await open();
  slowHeaders.socket.write(`POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\n`);
  const slowBody = await open();
  slowBody.socket.write(head(1000) + '{"prompt": "');
  const [headers, body] = await Promise.all([slowHeaders.closed, slowBody.closed]);
  assert.equal(headers.byServer, true, 'the server closed the connection with unfinished headers');
  assert.match(headers.data, /^HTTP\/1\.1 408/);
  assert.equal(body.byServer, true, 'the server closed the connection with an unfinished body');
  assert.match(body.data, /^HTTP\/1\.1 408/);
});

test('unfinished bodies share a byte budget (503 + Retry-After past it), a body over the limit is 413 before it is sent', async () => {
  const holder = await open();
  holder.socket.write(head(3500) + '{"prompt": "');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const response = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'x'.repeat(3000) }),
  });
  assert.equal(response.status, 503);
  assert.equal(response.headers.get('retry-after'), '1');
  assert.match(
    ((await response.json()) as { error: { message: string } }).error.message,
    /unfinished request bodies; the limit is 6000/,
  );
  const big = await open();
  big.socket.write(head(5000));
  const refused = await big.closed;
  assert.match(refused.data, /^HTTP\/1\.1 413[\s\S]*5000 bytes, over the 4000-byte limit/);
  // Once the holder is gone (here: cut off by the request timeout), the budget is free again.
  await holder.closed;
  const after = await fetch(`${server.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ prompt: 'x'.repeat(3000) }),
  });
  assert.equal(after.status, 200);
});

test('connections over maxConnections are dropped while every one is serving a request', async () => {
  // Headers complete, bodies still coming: each connection holds a request, so none makes room.
  const held = await Promise.all([open(), open(), open(), open()]);
  for (const { socket } of held) socket.write(head(1000) + '{"prompt": "');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const extra = await open(2000);
  extra.socket.write(head(2, '') + '{}');
  const dropped = await extra.closed;
  assert.equal(dropped.byServer, true);
  assert.equal(dropped.data, '', 'a dropped connection gets no reply');
  for (const { socket } of held) socket.destroy();
  await Promise.all(held.map(({ closed }) => closed));
  await new Promise((resolve) => setTimeout(resolve, 50));
  const response = await fetch(`${server.url}/health`);
  assert.equal(response.status, 200);
});

test('64 half-sent requests (the default maxConnections) do not lock a legitimate client out', async () => {
  const handler = createHttpHandler({
    engine: createCompletionEngine({ model: createMockBackend({ respond: () => '' }) }),
  });
  // Default limits, and many client addresses (127.0.0.0/8 is all loopback), as from a remote attacker's pool.
  const defaults = await startHttpServer({ handler, port: 0, maxConnectionsPerClient: 64 });
  try {
    const held: Socket[] = [];
    for (let index = 0; index < 64; index++) {
      const socket = connect({ port: defaults.port, host: '127.0.0.1', localAddress: `127.0.0.${2 + (index % 8)}` });
      sockets.push(socket);
      held.push(socket);
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      socket.write(`POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1:${defaults.port}\r\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    // Well within the header deadline of the held connections: the client must not wait for them to time out.
    const response = await fetch(`${defaults.url}/health`, { signal: AbortSignal.timeout(1500) });
    assert.equal(response.status, 200);
    for (const socket of held) socket.destroy();
  } finally {
    await defaults.close();
  }
});

test('one client address holds at most maxConnectionsPerClient connections; its oldest idle one makes room', async () => {
  const handler = createHttpHandler({
    engine: createCompletionEngine({ model: createMockBackend({ respond: () => '' }) }),
  });
  const small = await startHttpServer({ handler, port: 0, maxConnections: 10, maxConnectionsPerClient: 2 });
  try {
    const connectTo = async () => {
      const socket = connect(small.port, '127.0.0.1');
      sockets.push(socket);
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', resolve));
      const closed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 2000);
        socket.once('close', () => (clearTimeout(timer), resolve(true)));
      });
      return { socket, closed };
    };
    const first = await connectTo();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const second = await connectTo();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const third = await connectTo();
    assert.equal(await first.closed, true, 'the oldest idle connection of the client was closed');
    for (const { socket } of [second, third]) socket.destroy();
  } finally {
    await small.close();
  }
});

test('the header deadline is short by default, and with an API key a request without it is refused before its body', async () => {
  const handler = createHttpHandler({
    engine: createCompletionEngine({ model: createMockBackend({ respond: () => '' }) }),
    apiKey: 'k',
  });
  const keyed = await startHttpServer({ handler, port: 0, apiKey: 'k', requestTimeoutMs: 30_000 });
  try {
    assert.equal(keyed.server.headersTimeout, 3_000);
    const socket = connect(keyed.port, '127.0.0.1');
    sockets.push(socket);
    socket.on('error', () => {});
    let data = '';
    socket.on('data', (chunk) => (data += chunk.toString('latin1')));
    const closed = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 2000);
      socket.once('close', () => (clearTimeout(timer), resolve(true)));
    });
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    socket.write(`POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{"prompt": "`);
    assert.equal(await closed, true, 'the request without a key was not kept waiting for its body');
    assert.match(data, /^HTTP\/1\.1 401/);
    const health = await fetch(`${keyed.url}/health`);
    assert.equal(health.status, 200, '/health needs no key, as in the handler');
  } finally {
    await keyed.close();
  }
});

test('over the wire: the DNS-rebinding reproducer (foreign Host and Origin, empty Content-Type) gets no completion', async () => {
  const client = await open();
  const body = '{"prompt":"def f():\\n"}';
  client.socket.write(
    `POST /v1/completions HTTP/1.1\r\nHost: rebind.evil.example:${server.port}\r\nOrigin: ` +
      `http://rebind.evil.example:${server.port}\r\nContent-Type: \r\nContent-Length: ${body.length}\r\nConnection: ` +
      `close\r\n\r\n${body}`,
  );
  const { data } = await client.closed;
  assert.match(data, /^HTTP\/1\.1 403/);
  assert.doesNotMatch(data, /choices/);
});

test('the limits are checked when the server starts', async () => {
  const handler = createHttpHandler({
    engine: createCompletionEngine({ model: createMockBackend({ respond: () => '' }) }),
  });
  await assert.rejects(
    startHttpServer({ handler, port: 0, headersTimeoutMs: 5000, requestTimeoutMs: 1000 }),
    /headersTimeoutMs=5000 is longer than requestTimeoutMs=1000/,
  );
  await assert.rejects(
    startHttpServer({ handler, port: 0, maxConnections: 0 }),
    /maxConnections=0 must be an integer ≥ 1/,
  );
});

test('serve --prompt-tokens below the engine minimum is refused naming the flag, before any model is opened', async () => {
  const { serveCommand } = await import('../../src/cli/serve.js');
  await assert.rejects(
    serveCommand.run(['--http', '--prompt-tokens', '8', '--model', 'no-such-model-file.gguf']),
    /--prompt-tokens.*16/,
  );
});
