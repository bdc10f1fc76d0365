/**
 * Puts the HTTP handler on a socket with node:http. Loopback only unless the caller opts in to listening elsewhere
 * *and* sets an API key: a completion server reads whatever code it is sent and answers anyone who can reach it.
 *
 * Slow or many clients are bounded: a connection count (`maxConnections`) and a count per client address
 * (`maxConnectionsPerClient`), a short time to send the headers and a longer one for the whole request
 * (`headersTimeoutMs`, `requestTimeoutMs`, 408 then close), a per-request body limit (413) and a budget for the body
 * bytes all unfinished requests hold together (503 with Retry-After). When the server is full, a new connection takes
 * the place of the oldest one that holds no request (headers not yet complete, or idle between requests) of the client
 * with the most connections, so half-sent requests cannot lock a legitimate client out. With an API key, a request
 * without the right key is refused (401) as soon as its headers are in, before its body is read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { UsageError } from '../../core/index.js';
import type { HttpHandler } from './http-handler.js';

export interface HttpServerOptions {
  handler: HttpHandler;
  /** Default `127.0.0.1`. */
  host?: string;
  /** Default 8012 (llama.vscode's default endpoint port). 0 picks a free port. */
  port?: number;
  /** Listen on a non-loopback address. Needs `apiKey` too. Default false. */
  allowRemote?: boolean;
  /**
   * The key the handler checks. Here it refuses a remote listener without one, and a request without it (401) before
   * its body is read.
   */
  apiKey?: string;
  /** Bodies larger than this are refused with 413 before they are read in full. Default 1 MiB. */
  maxBodyBytes?: number;
  /**
   * Request body bytes held at once by all requests in progress, from the first byte until the reply is sent (a
   * declared Content-Length counts in full from the start). A request that would go over is refused with 503 and
   * `Retry-After: 1`. Default 16 MiB.
   */
  maxInFlightBodyBytes?: number;
  /**
   * Open connections at most. Past it a new connection replaces the oldest one that holds no request, or is dropped
   * when every connection is serving one. Default 64 (an editor needs a few).
   */
  maxConnections?: number;
  /** Open connections from one client address at most (past it, as for `maxConnections`). Default 16. */
  maxConnectionsPerClient?: number;
  /** A client gets this long to send the request headers, else 408 and the connection is closed (ms). Default 3 000. */
  headersTimeoutMs?: number;
  /** …and this long for the whole request, headers and body (ms). Default 30 000. Not the time to answer it. */
  requestTimeoutMs?: number;
}

export interface RunningHttpServer {
  /** `http://HOST:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Throws a UsageError for an address the server must not listen on (see startHttpServer); call it before loading a model. */
export function checkListenAddress(options: Pick<HttpServerOptions, 'host' | 'port' | 'allowRemote' | 'apiKey'>): void {
  const { host = '127.0.0.1', port = 8012, allowRemote = false, apiKey } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`--port ${port} is not a TCP port (0–65535).`);
  if (!isLoopbackHost(host)) {
    if (!allowRemote)
      throw new UsageError(
        `--host ${host} is not a loopback address; listening there exposes your code to the network. Add ` +
          `--allow-remote and --api-key KEY to do it anyway.`,
      );
    if (apiKey === undefined || apiKey === '')
      throw new UsageError(
        `--host ${host} with --allow-remote needs --api-key KEY (or CODELOOP_SERVER_API_KEY): a remote listener ` +
          `without a key would answer anyone.`,
      );
  }
}

function checkLimit(value: number, name: string, min: number): void {
  if (!Number.isInteger(value) || value < min) throw new UsageError(`${name}=${value} must be an integer ≥ ${min}.`);
}

/** Body bytes reserved by requests that are still being received, shared by all of one server's connections. */
interface BodyBudget {
  readonly limit: number;
  used: number;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const {
    handler,
    host = '127.0.0.1',
    port = 8012,
    maxBodyBytes = 1024 * 1024,
    maxInFlightBodyBytes = 16 * 1024 * 1024,
    maxConnections = 64,
    maxConnectionsPerClient = 16,
    headersTimeoutMs = 3_000,
    requestTimeoutMs = 30_000,
  } = options;
  checkListenAddress(options);
  checkLimit(maxBodyBytes, 'maxBodyBytes', 1);
  checkLimit(maxInFlightBodyBytes, 'maxInFlightBodyBytes', 1);
  checkLimit(maxConnections, 'maxConnections', 1);
  checkLimit(maxConnectionsPerClient, 'maxConnectionsPerClient', 1);
  checkLimit(headersTimeoutMs, 'headersTimeoutMs', 1);
  checkLimit(requestTimeoutMs, 'requestTimeoutMs', 1);
  if (headersTimeoutMs > requestTimeoutMs)
    throw new UsageError(
      `headersTimeoutMs=${headersTimeoutMs} is longer than requestTimeoutMs=${requestTimeoutMs}; the headers are part of the request.`,
    );

  const budget: BodyBudget = { limit: maxInFlightBodyBytes, used: 0 };
  const server = createServer(
    {
      headersTimeout: headersTimeoutMs,
      requestTimeout: requestTimeoutMs,
      // Node checks the two timeouts on this interval (default 30 s, which would let a slow client stay up to 30 s
      // past them).
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(headersTimeoutMs / 2))),
    },
    (incoming, outgoing) => {
      connections.requestStarted(incoming.socket, outgoing);
      const health = incoming.method === 'GET' && (incoming.url ?? '').split('?')[0] === '/health';
      if (options.apiKey && !health && !presentsKey(incoming, options.apiKey))
        return refuse(incoming, outgoing, 401, 'this server needs an API key: send Authorization: Bearer <key>.');
      void serve(handler, incoming, outgoing, maxBodyBytes, budget);
    },
  );
  const connections = new ConnectionTable(maxConnections, maxConnectionsPerClient);
  server.on('connection', (socket: Socket) => {
    // Completions are small and latency-bound: no Nagle delay on the replies.
    socket.setNoDelay(true);
    connections.admit(socket);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} on ${host} is in use; pick another with --port.`, { cause: error })
          : error,
      ),
    );
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The handler's own rule (http-handler.ts `authorize`): `Authorization: Bearer KEY` or `X-Api-Key: KEY`. */
function presentsKey(incoming: IncomingMessage, apiKey: string): boolean {
  const header = incoming.headers.authorization ?? '';
  const given = header.match(/^Bearer\s+(.+)$/i)?.[1] ?? incoming.headers['x-api-key'];
  return given === apiKey;
}

interface Connection {
  client: string;
  /** No request in progress: its headers are not complete yet, or it is idle between requests. */
  holdsNoRequest: boolean;
  /** When it last began to hold no request (ms): the oldest such connection is the first to go. */
  since: number;
}

/** The open connections, per client address, and which of them can make room for a new one. */
class ConnectionTable {
  private readonly open = new Map<Socket, Connection>();
  private readonly perClient = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly maxPerClient: number,
  ) {}

  admit(socket: Socket): void {
    const client = socket.remoteAddress ?? '';
    const count = this.perClient.get(client) ?? 0;
    const full = this.open.size >= this.max;
    if (count >= this.maxPerClient || full) {
      // Over its own limit a client can only displace itself; when the server is full, the client with the most.
      const victim = this.evictable(count >= this.maxPerClient ? client : this.busiestClient());
      if (victim === undefined) {
        socket.destroy();
        return;
      }
      this.forget(victim);
      victim.destroy();
    }
    this.open.set(socket, { client, holdsNoRequest: true, since: Date.now() });
    this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    socket.once('close', () => this.forget(socket));
  }

  requestStarted(socket: Socket, outgoing: ServerResponse): void {
    const connection = this.open.get(socket);
    if (!connection) return;
    connection.holdsNoRequest = false;
    outgoing.once('finish', () => {
      connection.holdsNoRequest = true;
      connection.since = Date.now();
    });
  }

  private forget(socket: Socket): void {
    const connection = this.open.get(socket);
    if (!connection) return;
    this.open.delete(socket);
    const count = (this.perClient.get(connection.client) ?? 1) - 1;
    if (count > 0) this.perClient.set(connection.client, count);
    else this.perClient.delete(connection.client);
  }

  private busiestClient(): string {
    let busiest = '';
    let most = -1;
    for (const [client, count] of this.perClient) {
      const holding = [...this.open.values()].some((c) => c.client === client && c.holdsNoRequest);
      if (holding && count > most) [busiest, most] = [client, count];
    }
    return busiest;
  }

  private evictable(client: string): Socket | undefined {
    let oldest: Socket | undefined;
    let since = Infinity;
    for (const [socket, connection] of this.open) {
      if (connection.client === client && connection.holdsNoRequest && connection.since < since)
        [oldest, since] = [socket, connection.since];
    }
    return oldest;
  }
}

function refuse(
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({
    error: { message, type: status === 503 ? 'server_busy' : 'invalid_request_error', code: status },
  });
  outgoing.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
    ...headers,
  });
  // Stop reading the rest of the body, but let the reply go out first.
  incoming.pause();
  outgoing.end(body, () => incoming.destroy());
}

async function serve(
  handler: HttpHandler,
  incoming: IncomingMessage,
  outgoing: ServerResponse,
  maxBodyBytes: number,
  budget: BodyBudget,
): Promise<void> {
  const controller = new AbortController();
  outgoing.on('close', () => {
    if (!outgoing.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  let reserved = 0;
  const release = (): void => {
    budget.used -= reserved;
    reserved = 0;
  };
  const reserve = (bytes: number): boolean => {
    if (budget.used + bytes > budget.limit) return false;
    budget.used += bytes;
    reserved += bytes;
    return true;
  };
  const busy = `the server is holding ${budget.used} bytes of unfinished request bodies; the limit is ${budget.limit} (maxInFlightBodyBytes). Retry in a moment, or send less context.`;
  const overLimit = (size: number): string =>
    `request body is ${size} bytes, over the ${maxBodyBytes}-byte limit; send less context or raise --max-body-bytes.`;
  outgoing.once('close', release);
  try {
    const declared = Number(incoming.headers['content-length'] ?? Number.NaN);
    if (Number.isFinite(declared) && declared > maxBodyBytes)
      return refuse(incoming, outgoing, 413, overLimit(declared));
    if (Number.isFinite(declared) && !reserve(declared))
      return refuse(incoming, outgoing, 503, busy, { 'retry-after': '1' });
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of incoming) {
        size += (chunk as Buffer).length;
        if (size > maxBodyBytes) return refuse(incoming, outgoing, 413, overLimit(size));
        // A chunked body (no Content-Length) reserves as it arrives.
        if (size > reserved && !reserve(size - reserved))
          return refuse(incoming, outgoing, 503, busy, { 'retry-after': '1' });
        chunks.push(chunk as Buffer);
      }
    } catch {
      return;
    }
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(incoming.headers))
      headers[name] = Array.isArray(value) ? value.join(', ') : value;
    const body = Buffer.concat(chunks).toString('utf8');
    chunks.length = 0;
    const response = await handler({
      method: incoming.method ?? 'GET',
      path: incoming.url ?? '/',
      headers,
      body,
      signal: controller.signal,
    });
    if (outgoing.destroyed) return;
    if (typeof response.body === 'string') {
      outgoing.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
      outgoing.end(response.body);
      return;
    }
    outgoing.writeHead(response.status, response.headers);
    // A stream's headers go out now, not with its first event: the client sees the reply start at once.
    outgoing.flushHeaders();
    for await (const chunk of response.body) {
      if (outgoing.destroyed) break;
      outgoing.write(chunk);
    }
    outgoing.end();
  } finally {
    // The request is answered (or refused): its body no longer counts against the budget.
    release();
  }
}
