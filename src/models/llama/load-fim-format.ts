/**
 * What the llama backend learns about a GGUF's FIM format on load: the family (from the tokenizer, or the one given),
 * the sentinel probe's findings, and the token ids of the sentinels and stop tokens its infill prompts use.
 */
import type { LlamaModel } from 'node-llama-cpp';
import { checkSentinels, detectFimFormat, FimFormatError, type FimFormat } from '../fim-formats/index.js';

export interface LoadedFimFormat {
  /** Undefined when no known family fits. */
  format: FimFormat | undefined;
  /** Why this family (or, with none, the detection error's message). */
  reason: string;
  /** For the warnings of infill calls: detection and probe findings. */
  warnings: string[];
  /** Token id of each sentinel and stop text that is a single token. */
  tokenIds: Record<string, number>;
}

/**
 * The FIM format infill uses (detected, or `family`), the sentinel probe's warnings, and the sentinels' token ids.
 * No family fitting is not an error: models without FIM tokens cannot infill anyway, and one whose tokens
 * node-llama-cpp finds still gets llama.cpp's PSM layout (with a warning that says so).
 */
export async function loadFimFormat(
  model: LlamaModel,
  metadata: Readonly<Record<string, unknown>>,
  family: string | undefined,
  hasFimTokens: boolean,
): Promise<LoadedFimFormat> {
  let detected;
  try {
    detected = detectFimFormat({ metadata, ...(family === undefined ? {} : { override: family }) });
  } catch (error) {
    if (!(error instanceof FimFormatError)) throw error;
    const warnings = hasFimTokens
      ? [`${error.message} Infill uses the FIM tokens node-llama-cpp found, in PSM order (llama.cpp's layout).`]
      : [];
    return { format: undefined, reason: error.message, warnings, tokenIds: {} };
  }
  // llama_tokenize with parse_special, no BOS: what a sentinel in a prompt becomes.
  const probe = await checkSentinels(detected.format, (text) => model.tokenize(text, true));
  const tokenIds = { ...probe.tokenIds };
  // Stop strings beyond the format's tokens (Qwen's <|im_end|>, the embedded <|codeloop|>): a single special token
  // ends the middle as a token; anything else is matched in the text.
  for (const text of detected.format.stop) {
    if (text in tokenIds) continue;
    const [id, ...rest] = model.tokenize(text, true);
    if (id !== undefined && rest.length === 0 && model.tokenize(text, false).length > 1) tokenIds[text] = id;
  }
  return {
    format: detected.format,
    reason: detected.reason,
    warnings: [...detected.warnings, ...probe.warnings],
    tokenIds,
  };
}
