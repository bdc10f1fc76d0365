/**
 * Who may talk to the server. Without a key, the server trusts anyone who can reach 127.0.0.1, so it must not be
 * reachable through a browser: the Host check stops DNS rebinding (a page whose name resolves to 127.0.0.1 could read
 * the replies), the Origin check stops cross-site posts. With a key, the key is what is checked, so other names and
 * origins are fine.
 */
import { HttpError } from './http-error.js';
import type { HttpRequest } from './http-message.js';

/** `127.0.0.0/8`, `localhost`, `[::1]` (the forms a Host header or an origin's host takes), with an optional port. */
export function isLoopbackHostHeader(value: string): boolean {
  const match = value
    .trim()
    .toLowerCase()
    .match(/^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/);
  if (match === null) return false;
  const name = match[1] ?? '';
  if (name === 'localhost' || name === '[::1]') return true;
  const octets = name.match(/^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/);
  return octets !== null && octets.slice(1).every((octet) => Number(octet) <= 255);
}

/**
 * Origins a keyless server accepts. No Origin at all is what editors send: llama.vscode (axios) and Continue (fetch)
 * make their requests from the extension host, a Node process, which sets no Origin. An editor's own webview or
 * window (`vscode-webview://…`, `vscode-file://…`) cannot be named by a web page, since a browser sets Origin itself,
 * so those are accepted too; so are pages served from loopback. Anything else, including `null` (sandboxed frames,
 * file: pages), is a web page that a browser let post to us: refused.
 */
export function isAllowedOrigin(origin: string): boolean {
  const value = origin.trim().toLowerCase();
  if (/^vscode-(webview|file):\/\/[^\s]*$/.test(value)) return true;
  const match = value.match(/^https?:\/\/([^/]+)\/?$/);
  return match !== null && isLoopbackHostHeader(match[1] ?? '');
}

/** Refuses (403) a non-loopback Host or a web Origin when the server has no API key. */
export function checkOrigin(request: HttpRequest, apiKey: string | undefined): void {
  if (apiKey !== undefined && apiKey !== '') return;
  const host = request.headers.host;
  if (host !== undefined && !isLoopbackHostHeader(host)) {
    throw new HttpError(
      403,
      `the Host header ${JSON.stringify(host)} is not a loopback name; without an API key this server answers only ` +
        `requests addressed to 127.0.0.1, [::1] or localhost (to stop DNS rebinding). Use one of those in the ` +
        `client's URL, or start the server with --api-key KEY (and --allow-remote for a non-loopback --host) to ` +
        `accept other names.`,
    );
  }
  const origin = request.headers.origin;
  if (origin !== undefined && !isAllowedOrigin(origin)) {
    throw new HttpError(
      403,
      `requests from the web origin ${JSON.stringify(origin)} are refused: without an API key this server accepts ` +
        `only clients that send no Origin (editors, curl), loopback pages and editor webviews. Start the server ` +
        `with --api-key KEY and send it as Authorization: Bearer KEY to allow this client.`,
    );
  }
}

/** Refuses (401) a request without the server's API key, when it has one. */
export function authorize(request: HttpRequest, apiKey: string | undefined): void {
  if (apiKey === undefined || apiKey === '') return;
  const header = request.headers.authorization ?? '';
  const given = header.match(/^Bearer\s+(.+)$/i)?.[1] ?? request.headers['x-api-key'];
  if (given !== apiKey)
    throw new HttpError(
      401,
      given === undefined
        ? 'this server needs an API key: send Authorization: Bearer <key>.'
        : 'the API key is not valid for this server.',
    );
}
