/** The state a backend's calls share (see openai-compatible-backend.ts, which builds it). */
import type { Call, RequestContext } from './build-request.js';
import type { HttpClient } from './http-client.js';
import type { ServerProfile } from './server-profiles.js';

/** What one call needs from its backend: the server's profile (found once), the HTTP client, the request settings. */
export interface BackendContext {
  /** The model name sent in each request. */
  model: string;
  http: HttpClient;
  requestContext: RequestContext;
  /** The server's profile, after flavor detection (waits for it, unless `signal` aborts first). */
  currentProfile(signal: AbortSignal | undefined): Promise<ServerProfile>;
  /** Throws when the server at hand cannot do `call` (infill without server-side infill or renderInfill). */
  check(call: Call, current: ServerProfile): void;
  /** Why detection fell back to plain OpenAI API behaviour, when it did. */
  detectionWarning(): string | undefined;
}
