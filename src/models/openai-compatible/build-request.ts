/**
 * Builds each request for the server at hand (its profile in server-profiles.ts): which endpoint, which fields,
 * which settings it cannot take (those become warnings), and every stop string to enforce on the answer.
 */
import type { ChatMessage, GenerateOptions } from '../spec.js';
import { normalizeStops } from '../../core/index.js';
import type { Endpoint } from './parse-response.js';
import type { InfillMode, ServerProfile } from './server-profiles.js';

/** A FIM prompt for a prefix and suffix, and the strings that end the middle (src/fim's `FimFormat.render` fits). */
export interface RenderedInfill {
  prompt: string;
  stop: readonly string[];
  warnings?: readonly string[];
}

export type RenderInfill = (prefix: string, suffix: string) => RenderedInfill;

/** What a request needs from the backend's construction options. */
export interface RequestContext {
  /** The API root, e.g. `http://127.0.0.1:8000/v1`. */
  baseURL: string;
  /** The server root without `/v1`, for llama-server's own endpoints. */
  origin: string;
  model: string;
  renderInfill?: RenderInfill;
  infillMode?: InfillMode;
}

/** What the caller asked for. */
export type Call =
  | { kind: 'complete'; prompt: string }
  | { kind: 'infill'; prefix: string; suffix: string }
  | { kind: 'chat'; messages: ChatMessage[] };

/** One HTTP request and what to do with its answer. */
export interface Plan {
  endpoint: Endpoint;
  url: string;
  body: Record<string, unknown>;
  /** Every stop string to enforce: the caller's and a rendered FIM format's. */
  stops: string[];
  warnings: string[];
}

/** How infill is sent to the current server, or undefined when it cannot be. */
export function infillModeFor(context: RequestContext, current: ServerProfile): InfillMode | undefined {
  if (context.infillMode !== undefined) return context.infillMode;
  if (current.flavor === 'generic') return context.renderInfill === undefined ? 'suffix' : 'render';
  if (current.infill === 'none') return context.renderInfill === undefined ? undefined : 'render';
  return current.infill;
}

/** The request for one call; `n` > 1 asks the server for n choices. */
export function buildPlan(
  context: RequestContext,
  call: Call,
  callOptions: GenerateOptions,
  current: ServerProfile,
  stream: boolean,
  n: number,
): Plan {
  const warnings: string[] = [];
  const name = current.displayName;
  let stops = normalizeStops(callOptions.stop);
  const sampling: Record<string, unknown> = { temperature: callOptions.temperature ?? 0, top_p: callOptions.topP ?? 1 };
  const topK = callOptions.topK ?? 0;
  if (current.topK !== 'unsupported') sampling.top_k = topK > 0 ? topK : current.topK.off;
  else if (topK > 0) warnings.push(`topK=${topK}: ${name} has no top_k; the setting is ignored.`);
  if (callOptions.seed !== undefined) {
    if (current.seed) sampling.seed = callOptions.seed;
    else warnings.push(`seed: ${name} takes no seed; the setting is ignored.`);
  }
  const logprobs = callOptions.logprobs === true && current.logprobs;
  if (callOptions.logprobs === true && !current.logprobs)
    warnings.push(`logprobs: ${name} returns no OpenAI-format log-probabilities; the setting is ignored.`);
  const maxTokens = callOptions.maxTokens ?? 256;

  let endpoint: Endpoint;
  let url: string;
  let body: Record<string, unknown>;
  const mode = call.kind === 'infill' ? infillModeFor(context, current) : undefined;
  if (call.kind === 'chat') {
    endpoint = 'chat';
    url = `${context.baseURL}/chat/completions`;
    body = {
      model: context.model,
      messages: call.messages.map(({ role, content }) => ({ role, content })),
      [current.chatMaxTokensField]: maxTokens,
      ...sampling,
      ...(logprobs ? { logprobs: true } : {}),
    };
  } else if (call.kind === 'infill' && mode === 'infill-endpoint') {
    endpoint = 'infill';
    url = `${context.origin}/infill`;
    body = {
      model: context.model,
      input_prefix: call.prefix,
      input_suffix: call.suffix,
      n_predict: maxTokens,
      ...sampling,
    };
  } else {
    endpoint = 'completions';
    url = `${context.baseURL}/completions`;
    let prompt: string;
    let suffix: string | undefined;
    if (call.kind === 'complete') prompt = call.prompt;
    else if (mode === 'render' && context.renderInfill !== undefined) {
      const rendered = context.renderInfill(call.prefix, call.suffix);
      prompt = rendered.prompt;
      stops = normalizeStops([...stops, ...rendered.stop]);
      warnings.push(...(rendered.warnings ?? []));
    } else {
      prompt = call.prefix;
      suffix = call.suffix;
      if (current.flavor === 'llama-server') {
        // Recorded (test/fixtures/openai-compatible/llama-server): a 200 with a plain completion of the prompt.
        warnings.push(
          `infill: llama-server's /v1/completions ignores \`suffix\` (older builds may reject it), so the text does not fit the hole; leave infillMode unset to use its /infill endpoint.`,
        );
      } else if (current.flavor === 'generic' && context.infillMode === undefined) {
        warnings.push(
          `infill: sent \`suffix\` to a server codeloop does not recognise; servers that ignore it (SGLang without --completion-template) return text that does not fit the hole. Pass renderInfill or flavor.`,
        );
      }
    }
    body = {
      model: context.model,
      prompt,
      ...(suffix === undefined ? {} : { suffix }),
      max_tokens: maxTokens,
      ...sampling,
      ...(logprobs ? { logprobs: 1 } : {}),
    };
  }
  // OpenAI takes at most 4 stop sequences; the rest are enforced here only.
  if (stops.length > 0) body.stop = current.maxStops === undefined ? stops : stops.slice(0, current.maxStops);
  if (n > 1) body.n = n;
  if (stream) {
    body.stream = true;
    if (endpoint !== 'infill') body.stream_options = { include_usage: true };
  }
  Object.assign(body, callOptions.backendOptions);
  return { endpoint, url, body, stops, warnings };
}
