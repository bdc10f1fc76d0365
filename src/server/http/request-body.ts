/** Reading a JSON request body and its fields, with a 4xx `HttpError` naming the field for each bad value. */
import { HttpError } from './http-error.js';
import type { HttpRequest, Json } from './http-message.js';

/** `application/json`, with parameters (`; charset=utf-8`) or none. */
const JSON_TYPE = /^\s*application\/json\s*(;.*)?$/i;

export function parseBody(request: HttpRequest, maxBodyBytes: number): Json {
  if (Buffer.byteLength(request.body) > maxBodyBytes)
    throw new HttpError(
      413,
      `request body is ${Buffer.byteLength(request.body)} bytes; the limit is ${maxBodyBytes} ` +
        `(start the server with a larger --max-body-bytes, or send less context).`,
    );
  // A body without `Content-Type: application/json` is what a web page can send without a CORS preflight (a form, or
  // fetch with a text/plain or untyped body): refusing it keeps pages from posting to the server. Every real client
  // (llama.vscode via axios, Continue, codeloop's own backend, curl -H) sends the header.
  const type = request.headers['content-type'];
  if (type === undefined || type.trim() === '')
    throw new HttpError(
      415,
      'the request has no Content-Type header; send the body as JSON with the header Content-Type: application/json.',
    );
  if (!JSON_TYPE.test(type))
    throw new HttpError(
      415,
      `Content-Type ${JSON.stringify(type)} is not supported; ` +
        `send the body as JSON with the header Content-Type: application/json.`,
    );
  let body: unknown;
  try {
    body = JSON.parse(request.body);
  } catch (error) {
    throw new HttpError(400, `request body is not valid JSON (${(error as Error).message}).`);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new HttpError(400, 'request body must be a JSON object.');
  return body as Json;
}

export function stringField(body: Json, name: string, required: boolean): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) {
    if (required) throw new HttpError(400, `missing field '${name}' (a string).`);
    return undefined;
  }
  if (typeof value !== 'string')
    throw new HttpError(
      400,
      `field '${name}' must be a string, got ${Array.isArray(value) ? 'an array' : typeof value}.`,
    );
  return value;
}

export function integerField(body: Json, name: string, min: number, max: number): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new HttpError(400, `field '${name}' must be an integer, got ${JSON.stringify(value)}.`);
  // llama.cpp uses -1 for "no limit" in n_predict and n_indent 0 for "off".
  if (value < min || value > max)
    throw new HttpError(400, `field '${name}'=${value} is out of range [${min}, ${max}].`);
  return value;
}

export function booleanField(body: Json, name: string): boolean {
  const value = body[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean')
    throw new HttpError(400, `field '${name}' must be true or false, got ${JSON.stringify(value)}.`);
  return value;
}

/** `stop`: a string or an array of strings. */
export function stopsField(body: Json): string[] {
  const value = body.stop ?? [];
  const stops = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(stops) || stops.some((stop) => typeof stop !== 'string'))
    throw new HttpError(400, "field 'stop' must be a string or an array of strings.");
  return stops as string[];
}
