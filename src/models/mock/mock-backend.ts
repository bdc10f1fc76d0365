/**
 * A scripted backend for tests: answers come from a function or a list, and every call is recorded. It implements
 * the whole contract (stop sequences, maxTokens in word pieces, streaming, abort, n) through `createTextBackend`, so
 * code under test sees the same behaviour as with a real backend, without a model.
 */
import { createTextBackend, type GenerationRequest, type TextAnswer } from '../text-backend.js';
import type { GenerateOptions, ModelBackend, ModelCapabilities } from '../spec.js';

/** What the mock was asked: `complete(prompt)`, `infill(prefix, suffix)` or `chat(messages)`. */
export type MockRequest = GenerationRequest;

/**
 * One scripted answer. `text` is the whole generation before stop sequences and maxTokens are applied; `pieces`
 * (optional) says how it is streamed; `error` makes the call fail with that error instead.
 */
export interface MockAnswer extends Partial<TextAnswer> {
  error?: unknown;
}

export interface MockCall {
  request: MockRequest;
  options: GenerateOptions;
  /** 0-based index of the choice within its call (a call with n = 3 asks three times). */
  choiceIndex: number;
}

/** Computes the answer for one choice. */
export type MockRespond = (
  request: MockRequest,
  call: { options: GenerateOptions; choiceIndex: number; callNumber: number },
) => string | MockAnswer | Promise<string | MockAnswer>;

export interface MockBackendOptions {
  /**
   * A function of the request, or a script: a list consumed one entry per choice, in order (a call with n = 2 takes
   * two). A script that runs out fails the call with a message saying so.
   */
  respond: MockRespond | readonly (string | MockAnswer)[];
  /** Default `mock`. */
  modelId?: string;
  /** Default: infill and chat supported, seed supported, no logprobs. */
  capabilities?: Partial<ModelCapabilities>;
  /** Milliseconds before each streamed piece; use it to test aborts and timeouts. Default 0. */
  pieceDelayMs?: number;
}

export interface MockBackend extends ModelBackend {
  /** Every choice asked for, in order. */
  readonly calls: readonly MockCall[];
  /** Whether `close` was called. */
  readonly closed: boolean;
}

export function createMockBackend(options: MockBackendOptions): MockBackend {
  const { respond, modelId = 'mock', pieceDelayMs = 0 } = options;
  const capabilities: ModelCapabilities = {
    supportsInfill: true,
    supportsChat: true,
    supportsLogprobs: false,
    supportsSeed: true,
    ...options.capabilities,
  };
  const calls: MockCall[] = [];
  let closed = false;
  let scriptIndex = 0;

  const next = async (
    request: MockRequest,
    callOptions: GenerateOptions,
    choiceIndex: number,
  ): Promise<string | MockAnswer> => {
    if (typeof respond === 'function')
      return respond(request, { options: callOptions, choiceIndex, callNumber: calls.length - 1 });
    const entry = respond[scriptIndex++];
    if (entry === undefined) {
      throw new Error(
        `mock backend: the script has ${respond.length} answers and answer ${scriptIndex} was asked for ` +
          `(${request.kind}); add answers to respond.`,
      );
    }
    return entry;
  };

  const backend = createTextBackend({
    provider: 'mock',
    modelId,
    capabilities,
    pieceDelayMs,
    async answer(request, { options: callOptions, choiceIndex }) {
      calls.push({ request, options: callOptions, choiceIndex });
      const reply = await next(request, callOptions, choiceIndex);
      if (typeof reply === 'string') return { text: reply };
      if (reply.error !== undefined) throw reply.error;
      return { ...reply, text: reply.text ?? reply.pieces?.join('') ?? '' };
    },
    onClose() {
      closed = true;
    },
  });
  const mock = Object.assign(backend, { calls, closed: false });
  // A getter via defineProperty: Object.assign would copy a getter's value once instead of the getter.
  Object.defineProperty(mock, 'closed', { get: () => closed, enumerable: true });
  return mock;
}
