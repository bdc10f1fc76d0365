/**
 * A call's prompt as tokens, before any is evaluated: the raw prompt (special-token texts parsed), the FIM layout of
 * an infill request, or the chat template's rendering; with the stop strings and end tokens that end its choices.
 */
import type { ChatHistoryItem, LlamaModel, Token } from 'node-llama-cpp';
import type { FimFormat } from '../fim-formats/index.js';
import type { ChatMessage, GenerateOptions } from '../spec.js';
import { normalizeStops } from '../../core/index.js';
import type { LoadedFimFormat } from './load-fim-format.js';

/** A FIM prompt rendered by the caller (special tokens spelled out as text) and the stop strings that end its middle. */
export interface LlamaRenderedInfill {
  prompt: string;
  stop: readonly string[];
  warnings?: readonly string[];
}

export type LlamaRequest =
  | { kind: 'complete'; prompt: string }
  | { kind: 'infill'; prefix: string; suffix: string }
  | { kind: 'chat'; messages: ChatMessage[] };

/** A call's tokens and what ends its choices. */
export type Prepared = {
  tokens: Token[];
  stop: string[];
  /** Token ids that end the choice without being part of the text (besides the model's end-of-generation tokens). */
  endTokens: ReadonlySet<number>;
  warnings: string[];
};

/** What the prompt side knows of the loaded model. */
export interface PromptTokenizerOptions {
  model: LlamaModel;
  /** The BOS token to put first, or null when the GGUF says not to. */
  bos: Token | null;
  /** node-llama-cpp's FIM tokens (used when no known FIM format fits). */
  infillTokens: { prefix: Token | null; suffix: Token | null; middle: Token | null };
  /** The FIM format found on load (`format` undefined when none fits). */
  fim: Pick<LoadedFimFormat, 'format' | 'warnings' | 'tokenIds'>;
  renderInfill: ((prefix: string, suffix: string) => LlamaRenderedInfill) | undefined;
}

/** A call's request to its `Prepared` tokens. Requests are checked first (infill only when the model can). */
export type PromptTokenizer = (request: LlamaRequest, callOptions: GenerateOptions) => Promise<Prepared>;

export function createPromptTokenizer(options: PromptTokenizerOptions): PromptTokenizer {
  const { model, bos, infillTokens, fim, renderInfill } = options;

  const withBos = (tokens: Token[]): Token[] => (bos === null ? tokens : [bos, ...tokens]);

  const chatWrapper = async () => {
    const { resolveChatWrapper } = await import('node-llama-cpp');
    return resolveChatWrapper(model);
  };

  /** `[BOS] PRE prefix SUF suffix MID` (PSM), or `[BOS] SUF suffix PRE prefix` without a middle token. */
  function fimTokens(request: Extract<LlamaRequest, { kind: 'infill' }>): Token[] {
    const prefix = model.tokenize(request.prefix, false, 'trimLeadingSpace');
    const suffix = model.tokenize(request.suffix, false, 'trimLeadingSpace');
    const { prefix: pre, suffix: suf, middle: mid } = infillTokens;
    if (pre === null || suf === null) throw new Error('unreachable: check() refuses infill without FIM tokens');
    return withBos(mid !== null ? [pre, ...prefix, suf, ...suffix, mid] : [suf, ...suffix, pre, ...prefix]);
  }

  /**
   * The format's layout, token by token: special segments become their sentinel's id (from the load probe), text
   * segments are tokenized with special parsing off. Stop strings that are single tokens end the middle as tokens
   * (never part of the text); the others are matched in the text.
   */
  function formatTokens(
    format: FimFormat,
    request: Extract<LlamaRequest, { kind: 'infill' }>,
    stop: string[],
  ): Prepared {
    const rendered = format.render({ prefix: request.prefix, suffix: request.suffix });
    const tokens: Token[] = [];
    for (const segment of rendered.segments) {
      const id = segment.type === 'special' ? fim.tokenIds[segment.token] : undefined;
      // A sentinel the probe found split is sent as what the tokenizer makes of it (the load warning says so).
      if (id !== undefined) tokens.push(id as Token);
      else
        tokens.push(
          ...model.tokenize(
            segment.type === 'special' ? segment.token : segment.text,
            segment.type === 'special',
            'trimLeadingSpace',
          ),
        );
    }
    const endTokens = new Set<number>();
    const textStops: string[] = [];
    for (const text of rendered.stop) {
      const id = fim.tokenIds[text];
      if (id !== undefined) endTokens.add(id);
      else textStops.push(text);
    }
    return {
      tokens: withBos(tokens),
      stop: normalizeStops([...stop, ...textStops]),
      endTokens,
      warnings: [...fim.warnings, ...rendered.warnings],
    };
  }

  async function prepare(request: LlamaRequest, callOptions: GenerateOptions): Promise<Prepared> {
    const stop = normalizeStops(callOptions.stop);
    const warnings: string[] = [];
    const endTokens = new Set<number>();
    if (request.kind === 'complete')
      return { tokens: withBos(model.tokenize(request.prompt, true)), stop, endTokens, warnings };
    if (request.kind === 'infill') {
      if (renderInfill) {
        const rendered = renderInfill(request.prefix, request.suffix);
        warnings.push(...(rendered.warnings ?? []));
        return {
          tokens: withBos(model.tokenize(rendered.prompt, true)),
          stop: normalizeStops([...stop, ...rendered.stop]),
          endTokens,
          warnings,
        };
      }
      if (fim.format !== undefined) return formatTokens(fim.format, request, stop);
      warnings.push(...fim.warnings);
      // A FIM sentinel in the middle means the model started another FIM block: the middle is over.
      for (const token of Object.values(infillTokens)) if (token !== null) endTokens.add(token);
      return { tokens: fimTokens(request), stop, endTokens, warnings };
    }
    const wrapper = await chatWrapper();
    const history: ChatHistoryItem[] = request.messages.map((message): ChatHistoryItem =>
      message.role === 'assistant'
        ? { type: 'model', response: [message.content] }
        : { type: message.role, text: message.content },
    );
    history.push({ type: 'model', response: [] });
    const state = wrapper.generateContextState({ chatHistory: history });
    const triggers = state.stopGenerationTriggers
      .map((trigger) => model.detokenize(trigger.tokenize(model.tokenizer), true))
      .filter((text) => text !== '');
    let tokens = state.contextText.tokenize(model.tokenizer);
    // node-llama-cpp's wrappers start the context with BOS; follow the GGUF's add_bos_token instead, as llama-server
    // does when it tokenizes a rendered template.
    if (bos === null && tokens[0] === model.tokens.bos) tokens = tokens.slice(1);
    return { tokens, stop: normalizeStops([...stop, ...triggers]), endTokens, warnings };
  }

  return prepare;
}
