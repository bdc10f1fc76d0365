/**
 * The FIM format to render prompts in for a model, when the user named none: the one the backend detected (the llama
 * backend reads it from the GGUF's tokens on load, `fimFormat`), else one detected here from GGUF metadata the backend
 * exposes (`ggufMetadata`), else none (the engine then calls the backend's own `infill`).
 */
import { detectFimFormat, getFimFormat, isFimFamily, type FimFormat } from '../models/index.js';
import type { ModelBackend } from '../models/index.js';

export interface ModelFimFormatResult {
  format: FimFormat | undefined;
  /** Where it came from, for a start-up line (`detected by the backend: …`, `none: …`). */
  reason: string;
}

const isFormat = (value: unknown): value is FimFormat =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as FimFormat).family === 'string' &&
  typeof (value as FimFormat).render === 'function';

export function modelFimFormat(model: ModelBackend): ModelFimFormatResult {
  const declared = (model as { fimFormat?: unknown }).fimFormat;
  const declaredReason = (model as { fimFormatReason?: unknown }).fimFormatReason;
  const why = typeof declaredReason === 'string' && declaredReason !== '' ? ` (${declaredReason})` : '';
  if (isFormat(declared)) return { format: declared, reason: `detected by the backend${why}` };
  if (typeof declared === 'string' && isFimFamily(declared))
    return { format: getFimFormat(declared), reason: `named by the backend${why}` };
  const metadata = (model as { ggufMetadata?: unknown }).ggufMetadata;
  if (typeof metadata === 'object' && metadata !== null) {
    try {
      const detected = detectFimFormat({ metadata: metadata as Record<string, unknown> });
      return { format: detected.format, reason: `detected from the GGUF tokens (${detected.reason})` };
    } catch (error) {
      return { format: undefined, reason: `none: ${(error as Error).message}` };
    }
  }
  return {
    format: undefined,
    reason: `none known for ${model.provider} backends; the backend renders its own infill prompts (pass --fim-format to choose one)`,
  };
}
