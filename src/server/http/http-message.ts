/**
 * The request and response shapes the handler works on (no sockets: http-server.ts adapts Node's), and the settings
 * every route reads.
 */
import type { CompletionEngine } from '../../fim/index.js';

export interface HttpRequest {
  method: string;
  /** Path with query string, e.g. `/v1/completions`. */
  path: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  body: string;
  /** Aborts when the client goes away. */
  signal?: AbortSignal;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  /** A whole body, or SSE chunks as they are ready. */
  body: string | AsyncIterable<string>;
}

/** A parsed JSON object body. */
export type Json = Record<string, unknown>;

/** What the routes need from the handler's options, with the defaults resolved. */
export interface RouteSettings {
  engine: CompletionEngine;
  /** The id `GET /v1/models` reports and completions echo. */
  modelName: string;
  /** Largest request body in bytes. */
  maxBodyBytes: number;
  /** Largest accepted `n_predict` / `max_tokens`. */
  maxTokensLimit: number;
}

export const json = (status: number, value: unknown): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify(value),
});
