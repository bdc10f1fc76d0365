/**
 * Puts the HTTP handler on a socket with node:http. Loopback only unless the caller opts in to listening elsewhere
 * *and* sets an API key: a completion server reads whatever code it is sent and answers anyone who can reach it.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
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
  /** The key the handler checks; only used here to refuse a remote listener without one. */
  apiKey?: string;
  /** Bodies larger than this are refused with 413 before they are read in full. Default 1 MiB. */
  maxBodyBytes?: number;
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
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port ${port} is not a TCP port (0–65535).`);
  if (!isLoopbackHost(host)) {
    if (!allowRemote) throw new UsageError(`--host ${host} is not a loopback address; listening there exposes your code to the network. Add --allow-remote and --api-key KEY to do it anyway.`);
    if (apiKey === undefined || apiKey === '') throw new UsageError(`--host ${host} with --allow-remote needs --api-key KEY (or CODELOOP_SERVER_API_KEY): a remote listener without a key would answer anyone.`);
  }
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const { handler, host = '127.0.0.1', port = 8012, maxBodyBytes = 1024 * 1024 } = options;
  checkListenAddress(options);

  const server = createServer((incoming, outgoing) => {
    void serve(handler, incoming, outgoing, maxBodyBytes);
  });
  // Completions are small and latency-bound: no Nagle delay on the replies.
  server.on('connection', (socket) => socket.setNoDelay(true));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new UsageError(`port ${port} on ${host} is in use; pick another with --port.`, { cause: error }) : error),
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

async function serve(handler: HttpHandler, incoming: IncomingMessage, outgoing: ServerResponse, maxBodyBytes: number): Promise<void> {
  const controller = new AbortController();
  outgoing.on('close', () => {
    if (!outgoing.writableFinished) controller.abort(new Error('the client closed the connection'));
  });
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of incoming) {
      size += (chunk as Buffer).length;
      if (size > maxBodyBytes) {
        outgoing.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
        outgoing.end(JSON.stringify({ error: { message: `request body is over the ${maxBodyBytes}-byte limit; send less context or raise --max-body-bytes.`, type: 'invalid_request_error', code: 413 } }));
        incoming.destroy();
        return;
      }
      chunks.push(chunk as Buffer);
    }
  } catch {
    return;
  }
  const headers: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(incoming.headers)) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  const response = await handler({ method: incoming.method ?? 'GET', path: incoming.url ?? '/', headers, body: Buffer.concat(chunks).toString('utf8'), signal: controller.signal });
  if (outgoing.destroyed) return;
  if (typeof response.body === 'string') {
    outgoing.writeHead(response.status, { ...response.headers, 'content-length': Buffer.byteLength(response.body) });
    outgoing.end(response.body);
    return;
  }
  outgoing.writeHead(response.status, response.headers);
  for await (const chunk of response.body) {
    if (outgoing.destroyed) break;
    outgoing.write(chunk);
  }
  outgoing.end();
}
