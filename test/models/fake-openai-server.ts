// A fake OpenAI-compatible server on 127.0.0.1 that answers from a fixture folder (test/fixtures/openai-compatible/
// SERVER/exchanges.json and its .sse files): the first exchange whose method, path and `match` fields fit the request
// is served, JSON as is, streams in small chunks so that clients meet events split anywhere. Every request is kept
// for assertions; one that matches nothing gets a 400 naming it, so a missing fixture fails loudly.
import { isDeepStrictEqual } from 'node:util';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repositoryRoot } from '../tasks/shared-datasets.js';

export interface Exchange {
  name: string;
  method: string;
  path: string;
  /** Request body fields that must be equal; an exchange with `sse` also needs `stream: true`, one with `body` not. */
  match: Record<string, unknown>;
  status?: number;
  /** Response headers as recorded (e.g. the server's own `content-type`), for JSON answers and streams alike. */
  headers?: Record<string, string>;
  /** The whole request body as it was sent when the answer was recorded (documentation; not compared). */
  request?: Record<string, unknown>;
  body?: unknown;
  sse?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
  /** Which exchange answered, or undefined. */
  exchange: string | undefined;
}

export interface FakeServer {
  /** `http://127.0.0.1:PORT` (no `/v1`). */
  url: string;
  requests: RecordedRequest[];
  /** Fixture metadata: which server and model the responses imitate. */
  model: string;
  close(): Promise<void>;
}

export const fixturesRoot = (): string => join(repositoryRoot(), 'test', 'fixtures', 'openai-compatible');

export interface FakeServerOptions {
  /** Bytes per write of a stream. Default 11: events and UTF-8 sequences get split. */
  chunkBytes?: number;
  /** Answers tried before the fixture's (tests add errors and odd servers this way). */
  extra?: Exchange[];
}

export async function startFakeServer(server: string, options: FakeServerOptions = {}): Promise<FakeServer> {
  const folder = join(fixturesRoot(), server);
  const fixture = JSON.parse(readFileSync(join(folder, 'exchanges.json'), 'utf8')) as {
    model: string;
    exchanges: Exchange[];
  };
  const exchanges = [...(options.extra ?? []), ...fixture.exchanges];
  const chunkBytes = options.chunkBytes ?? 11;
  const requests: RecordedRequest[] = [];

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    const body = (text === '' ? {} : JSON.parse(text)) as Record<string, unknown>;
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const exchange = exchanges.find(
      (candidate) =>
        candidate.method === request.method &&
        candidate.path === path &&
        (candidate.sse === undefined ? body.stream !== true : body.stream === true) &&
        Object.entries(candidate.match).every(([key, value]) => isDeepStrictEqual(body[key], value)),
    );
    requests.push({ method: request.method ?? '', path, headers: request.headers, body, exchange: exchange?.name });
    if (exchange === undefined) {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end(
        JSON.stringify({
          error: { message: `fake server (${server}): no recorded exchange matches ${request.method} ${path} ${text}` },
        }),
      );
      return;
    }
    if (exchange.sse === undefined) {
      response.writeHead(exchange.status ?? 200, { 'content-type': 'application/json', ...exchange.headers });
      response.end(JSON.stringify(exchange.body));
      return;
    }
    const bytes = readFileSync(join(folder, exchange.sse));
    response.writeHead(exchange.status ?? 200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...exchange.headers,
    });
    let closed = false;
    response.on('close', () => (closed = true));
    for (let start = 0; start < bytes.length && !closed; start += chunkBytes) {
      response.write(bytes.subarray(start, start + chunkBytes));
      await new Promise((resolve) => setImmediate(resolve));
    }
    response.end();
  };

  const http = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      response.destroy(error as Error);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    model: fixture.model,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
