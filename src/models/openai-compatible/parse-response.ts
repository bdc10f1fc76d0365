/**
 * Reads what the servers send back: `/v1/completions` and `/v1/chat/completions` bodies and stream chunks (OpenAI
 * format, with each server's extra fields), and llama-server's own `/infill` format. Tolerant where servers differ
 * (a null `content`, zero usage in every Ollama chunk, `stop_reason` vs `matched_stop`), strict where a wrong read
 * would give wrong results (an error object inside a 200 stream).
 */
import { ApiCallError } from '../errors.js';
import type { Choice, FinishReason, TokenLogprob, TokenUsage } from '../spec.js';
import { cutAtStop } from '../../core/index.js';
import { isRetryableStatus, serverErrorMessage } from './http-client.js';

/** Which API a body came from. */
export type Endpoint = 'completions' | 'chat' | 'infill';

export interface ParsedChoice {
  index: number;
  /** Whole text (a body) or the new text (a stream chunk). */
  text: string;
  finishReason?: FinishReason;
  /** A stop string the server says ended the text (vLLM `stop_reason`, SGLang `matched_stop`, llama-server `stopping_word`). */
  stopSequence?: string;
  logprobs?: TokenLogprob[];
}

export interface ParsedResponse {
  choices: ParsedChoice[];
  usage?: TokenUsage;
  model?: string;
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** OpenAI finish reasons and the servers' own, as the contract's. */
export function mapFinishReason(reason: unknown): FinishReason | undefined {
  if (reason === null || reason === undefined || reason === '') return undefined;
  if (reason === 'length') return 'length';
  if (reason === 'stop' || reason === 'eos' || reason === 'tool_calls' || reason === 'function_call') return 'stop';
  // content_filter (OpenAI), abort (vLLM, SGLang: cancelled server-side), error
  return 'error';
}

function usageOf(value: unknown): TokenUsage | undefined {
  if (!isObject(value)) return undefined;
  const prompt = value.prompt_tokens;
  const completion = value.completion_tokens;
  if (typeof prompt !== 'number' && typeof completion !== 'number') return undefined;
  // Ollama puts an all-zero usage in every chunk when include_usage is set; only the last chunk's counts are real.
  if (!prompt && !completion) return undefined;
  return {
    promptTokens: typeof prompt === 'number' ? prompt : 0,
    completionTokens: typeof completion === 'number' ? completion : 0,
  };
}

/** Completions: `{tokens, token_logprobs}`; chat: `{content: [{token, logprob}]}`. */
function logprobsOf(value: unknown): TokenLogprob[] | undefined {
  if (!isObject(value)) return undefined;
  if (Array.isArray(value.content)) {
    return (value.content as unknown[]).filter(isObject).map((item) => ({
      token: String(item.token ?? ''),
      logprob: typeof item.logprob === 'number' ? item.logprob : Number.NaN,
    }));
  }
  if (Array.isArray(value.tokens) && Array.isArray(value.token_logprobs)) {
    const logprobs = value.token_logprobs as unknown[];
    return (value.tokens as unknown[]).map((token, index) => ({
      token: String(token),
      logprob: typeof logprobs[index] === 'number' ? (logprobs[index] as number) : Number.NaN,
    }));
  }
  return undefined;
}

/** Throws when a body or chunk is an error object (vLLM, SGLang and llama-server send these inside a 200 stream). */
function throwIfError(body: Json, url: string): void {
  const error = isObject(body.error)
    ? body.error
    : body.object === 'error'
      ? body
      : typeof body.error === 'string'
        ? { message: body.error }
        : undefined;
  if (error === undefined) return;
  const code = typeof error.code === 'number' ? error.code : undefined;
  throw new ApiCallError(`the server reported an error: ${serverErrorMessage(JSON.stringify(body))}`, {
    url,
    ...(code === undefined ? {} : { statusCode: code }),
    retryable: code !== undefined && isRetryableStatus(code),
    responseBody: JSON.stringify(body),
  });
}

function stopString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** A non-streamed body, or one stream chunk (`stream: true`: `text`/`delta` hold the new text only). */
export function parseResponse(endpoint: Endpoint, body: unknown, url: string): ParsedResponse {
  if (!isObject(body))
    throw new ApiCallError(`the server sent ${JSON.stringify(body)?.slice(0, 200)} where a JSON object was expected`, {
      url,
      retryable: false,
    });
  throwIfError(body, url);
  if (endpoint === 'infill') {
    // llama-server /infill: {content, stop, stop_type: eos|limit|word|none, stopping_word, tokens_predicted, tokens_evaluated}
    const finishReason =
      body.stop === true || body.stop_type !== undefined
        ? body.stop_type === 'limit'
          ? 'length'
          : body.stop_type === 'none'
            ? undefined
            : 'stop'
        : undefined;
    const stopSequence = stopString(body.stopping_word);
    const usage =
      typeof body.tokens_predicted === 'number' && (body.stop === true || body.stop_type !== undefined)
        ? {
            promptTokens: typeof body.tokens_evaluated === 'number' ? body.tokens_evaluated : 0,
            completionTokens: body.tokens_predicted,
          }
        : undefined;
    return {
      choices: [
        {
          index: typeof body.index === 'number' ? body.index : 0,
          text: typeof body.content === 'string' ? body.content : '',
          ...(finishReason === undefined ? {} : { finishReason }),
          ...(stopSequence === undefined ? {} : { stopSequence }),
        },
      ],
      ...(usage === undefined ? {} : { usage }),
      ...(typeof body.model === 'string' ? { model: body.model } : {}),
    };
  }
  const choices: ParsedChoice[] = [];
  for (const [position, raw] of (Array.isArray(body.choices) ? (body.choices as unknown[]) : []).entries()) {
    if (!isObject(raw)) continue;
    const message = isObject(raw.message) ? raw.message : isObject(raw.delta) ? raw.delta : undefined;
    const text =
      endpoint === 'chat'
        ? typeof message?.content === 'string'
          ? message.content
          : ''
        : typeof raw.text === 'string'
          ? raw.text
          : '';
    const finishReason = mapFinishReason(raw.finish_reason);
    const stopSequence = stopString(raw.stop_reason) ?? stopString(raw.matched_stop);
    const logprobs = logprobsOf(raw.logprobs);
    choices.push({
      index: typeof raw.index === 'number' ? raw.index : position,
      text,
      ...(finishReason === undefined ? {} : { finishReason }),
      ...(stopSequence === undefined ? {} : { stopSequence }),
      ...(logprobs === undefined ? {} : { logprobs }),
    });
  }
  const usage = usageOf(body.usage);
  return {
    choices,
    ...(usage === undefined ? {} : { usage }),
    ...(typeof body.model === 'string' ? { model: body.model } : {}),
  };
}

/** Logprobs of the tokens that make up the first `length` characters. */
function trimLogprobs(logprobs: TokenLogprob[] | undefined, length: number): TokenLogprob[] | undefined {
  if (logprobs === undefined) return undefined;
  const kept: TokenLogprob[] = [];
  let covered = 0;
  for (const entry of logprobs) {
    if (covered >= length) break;
    kept.push(entry);
    covered += entry.token.length;
  }
  return kept;
}

/** One request's choices, cut at the stop strings, with per-choice token counts. */
export function finishChoices(parsed: ParsedResponse, stops: readonly string[]): Choice[] {
  const raw = [...parsed.choices].sort((a, b) => a.index - b.index);
  const total = parsed.usage?.completionTokens ?? 0;
  const characters = raw.reduce((sum, choice) => sum + choice.text.length, 0);
  return raw.map((choice: ParsedChoice) => {
    const cut = cutAtStop(choice.text, stops);
    const logprobs = cut.stopSequence === undefined ? choice.logprobs : trimLogprobs(choice.logprobs, cut.text.length);
    // Usage is per request; with several choices it is shared out by their logprobs, else by their length.
    const completionTokens =
      raw.length === 1
        ? total
        : (choice.logprobs?.length ??
          (characters === 0 ? Math.round(total / raw.length) : Math.round((total * choice.text.length) / characters)));
    const serverStop =
      choice.stopSequence !== undefined && stops.includes(choice.stopSequence) ? choice.stopSequence : undefined;
    const stopSequence = cut.stopSequence ?? serverStop;
    return {
      text: cut.text,
      finishReason: cut.stopSequence !== undefined ? 'stop' : (choice.finishReason ?? 'stop'),
      ...(stopSequence === undefined ? {} : { stopSequence }),
      ...(logprobs === undefined ? {} : { logprobs }),
      completionTokens,
    };
  });
}
