/**
 * A `ModelBackend` over a source of whole answers (a test script, a recorded samples file). The source says what the
 * text is; this file does what every backend must: n choices, stop sequences, maxTokens, streaming in pieces, abort
 * (throw the reason, or return the partial text), warnings for settings it cannot honour, capability checks.
 *
 * There is no tokenizer here: a "token" is a word piece (a run of non-space characters with the whitespace before
 * it), so `maxTokens` and token counts are approximate. Real backends count real tokens.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UnsupportedCapabilityError } from './errors.js';
import {
  MODEL_SPEC_VERSION,
  type ChatMessage,
  type Choice,
  type FinishReason,
  type GenerateOptions,
  type GenerateResult,
  type ModelBackend,
  type ModelCapabilities,
  type StreamPart,
} from './spec.js';
import { createStopCutter } from '../core/index.js';

/** What a backend was asked for. */
export type GenerationRequest =
  | { kind: 'complete'; prompt: string }
  | { kind: 'infill'; prefix: string; suffix: string }
  | { kind: 'chat'; messages: ChatMessage[] };

/** A whole answer from the source, before stop sequences and maxTokens are applied. */
export interface TextAnswer {
  text: string;
  /** Why the source's text ended; used when neither a stop sequence nor maxTokens cuts it. Default `stop`. */
  finishReason?: 'stop' | 'length';
  /** Prompt tokens, when the source knows them (else word pieces of the prompt are counted). */
  promptTokens?: number;
  /**
   * Tokens of the whole `text`, when the source knows them (a recorded sample's usage). Reported when the text is
   * served uncut; a stop sequence or `maxTokens` that cuts it falls back to counting word pieces.
   */
  completionTokens?: number;
  /** How the text is streamed; must concatenate to `text`. Default: word pieces. */
  pieces?: readonly string[];
}

export interface AnswerContext {
  options: GenerateOptions;
  /** 0-based index of the choice within the call. */
  choiceIndex: number;
  signal: AbortSignal | undefined;
}

export interface TextBackendOptions {
  provider: string;
  modelId: string;
  capabilities: ModelCapabilities;
  answer(request: GenerationRequest, context: AnswerContext): Promise<TextAnswer>;
  /** Pause before each streamed piece (ms), to simulate generation time. Default 0. */
  pieceDelayMs?: number;
  /** Extra warnings for a call (settings the source cannot honour); `choices` is how many it will ask `answer` for. */
  warnings?(request: GenerationRequest, options: GenerateOptions, choices: number): string[];
  /** Runs once, on the first `close`. */
  onClose?(): Promise<void> | void;
}

/** Word pieces: each run of non-space characters with the whitespace before it; trailing whitespace is its own piece. */
export function wordPieces(text: string): string[] {
  return text.match(/\s*\S+|\s+/g) ?? [];
}

function promptText(request: GenerationRequest): string {
  if (request.kind === 'complete') return request.prompt;
  if (request.kind === 'infill') return request.prefix + request.suffix;
  return request.messages.map((message) => message.content).join('\n');
}

function abortReason(signal: AbortSignal | undefined): unknown {
  return signal?.reason;
}

export function createTextBackend(options: TextBackendOptions): ModelBackend {
  const { provider, modelId, capabilities, answer, pieceDelayMs = 0 } = options;
  let closed = false;

  const check = (request: GenerationRequest): void => {
    if (request.kind === 'infill' && !capabilities.supportsInfill) {
      throw new UnsupportedCapabilityError(
        'infill',
        `${modelId} (${provider}) cannot infill: its capabilities say supportsInfill: false. Use complete() with a ` +
          `rendered FIM prompt instead.`,
      );
    }
    if (request.kind === 'chat' && !capabilities.supportsChat) {
      throw new UnsupportedCapabilityError(
        'chat',
        `${modelId} (${provider}) has no chat: its capabilities say supportsChat: false. Use complete() with a prompt instead.`,
      );
    }
  };

  const warningsFor = (request: GenerationRequest, callOptions: GenerateOptions, streaming: boolean): string[] => {
    const warnings: string[] = [];
    if (callOptions.logprobs === true && !capabilities.supportsLogprobs)
      warnings.push(`logprobs: ${provider} returns no log-probabilities; the setting is ignored.`);
    if (callOptions.seed !== undefined && !capabilities.supportsSeed)
      warnings.push(`seed: ${provider} has no sampler to seed; the setting is ignored.`);
    if (streaming && (callOptions.n ?? 1) > 1)
      warnings.push(`n=${callOptions.n}: a stream carries one choice; only the first is streamed.`);
    warnings.push(...(options.warnings?.(request, callOptions, streaming ? 1 : (callOptions.n ?? 1)) ?? []));
    return warnings;
  };

  /**
   * One choice as a stream of deltas, then its end. Applies maxTokens (word pieces) and stop sequences; on abort,
   * throws the reason or (returnPartialOnAbort) ends with reason `abort`.
   */
  async function* choiceParts(
    request: GenerationRequest,
    callOptions: GenerateOptions,
    choiceIndex: number,
  ): AsyncGenerator<
    | { type: 'text-delta'; text: string }
    | { type: 'end'; finishReason: FinishReason; stopSequence?: string; promptTokens: number; completionTokens: number }
  > {
    const { signal, returnPartialOnAbort = false, maxTokens = 256 } = callOptions;
    let completionTokens = 0;
    let promptTokens = wordPieces(promptText(request)).length;
    const aborted = (): boolean => signal?.aborted === true;
    try {
      signal?.throwIfAborted();
      const whole = await answer(request, { options: callOptions, choiceIndex, signal });
      signal?.throwIfAborted();
      if (whole.promptTokens !== undefined) promptTokens = whole.promptTokens;
      const pieces = whole.pieces ?? wordPieces(whole.text);
      const cutter = createStopCutter(callOptions.stop);
      for (const piece of pieces) {
        if (completionTokens >= maxTokens) {
          const rest = cutter.flush();
          if (rest !== '') {
            yield { type: 'text-delta', text: rest };
            signal?.throwIfAborted();
          }
          yield { type: 'end', finishReason: 'length', promptTokens, completionTokens };
          return;
        }
        if (pieceDelayMs > 0) await sleep(pieceDelayMs, undefined, signal === undefined ? {} : { signal });
        signal?.throwIfAborted();
        completionTokens++;
        const cut = cutter.push(piece);
        if (cut.text !== '') {
          yield { type: 'text-delta', text: cut.text };
          signal?.throwIfAborted(); // the consumer may have aborted while it held the delta
        }
        if (cut.stopSequence !== undefined) {
          yield { type: 'end', finishReason: 'stop', stopSequence: cut.stopSequence, promptTokens, completionTokens };
          return;
        }
      }
      const rest = cutter.flush();
      if (rest !== '') {
        yield { type: 'text-delta', text: rest };
        signal?.throwIfAborted();
      }
      yield {
        type: 'end',
        finishReason: whole.finishReason ?? 'stop',
        promptTokens,
        completionTokens: whole.completionTokens ?? completionTokens,
      };
    } catch (error) {
      if (!aborted()) throw error;
      // Never wrap an abort: rethrow the signal's reason unchanged, or end the choice here.
      if (!returnPartialOnAbort) throw abortReason(signal);
      yield { type: 'end', finishReason: 'abort', promptTokens, completionTokens };
    }
  }

  async function generate(request: GenerationRequest, callOptions: GenerateOptions = {}): Promise<GenerateResult> {
    check(request);
    const warnings = warningsFor(request, callOptions, false);
    const n = callOptions.n ?? 1;
    const choices: Choice[] = [];
    let promptTokens = 0;
    for (let index = 0; index < n; index++) {
      let text = '';
      for await (const part of choiceParts(request, callOptions, index)) {
        if (part.type === 'text-delta') text += part.text;
        else {
          promptTokens = part.promptTokens;
          choices.push({
            text,
            finishReason: part.finishReason,
            ...(part.stopSequence === undefined ? {} : { stopSequence: part.stopSequence }),
            completionTokens: part.completionTokens,
          });
        }
      }
    }
    return {
      choices,
      usage: { promptTokens, completionTokens: choices.reduce((sum, choice) => sum + choice.completionTokens, 0) },
      warnings,
      modelId,
    };
  }

  async function* stream(request: GenerationRequest, callOptions: GenerateOptions = {}): AsyncGenerator<StreamPart> {
    check(request);
    const warnings = warningsFor(request, callOptions, true);
    yield { type: 'start', modelId, warnings };
    for await (const part of choiceParts(request, callOptions, 0)) {
      if (part.type === 'text-delta') yield part;
      else {
        yield {
          type: 'finish',
          finishReason: part.finishReason,
          ...(part.stopSequence === undefined ? {} : { stopSequence: part.stopSequence }),
          usage: { promptTokens: part.promptTokens, completionTokens: part.completionTokens },
        };
      }
    }
  }

  return {
    specVersion: MODEL_SPEC_VERSION,
    provider,
    modelId,
    capabilities,
    complete: (prompt, callOptions) => generate({ kind: 'complete', prompt }, callOptions),
    streamComplete: (prompt, callOptions) => stream({ kind: 'complete', prompt }, callOptions),
    infill: (prefix, suffix, callOptions) => generate({ kind: 'infill', prefix, suffix }, callOptions),
    streamInfill: (prefix, suffix, callOptions) => stream({ kind: 'infill', prefix, suffix }, callOptions),
    chat: (messages, callOptions) => generate({ kind: 'chat', messages }, callOptions),
    streamChat: (messages, callOptions) => stream({ kind: 'chat', messages }, callOptions),
    countTokens: (text) => Promise.resolve(wordPieces(text).length),
    async close() {
      if (closed) return;
      closed = true;
      await options.onClose?.();
    },
  };
}
