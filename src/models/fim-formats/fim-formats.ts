import { UsageError } from '../../core/index.js';
import { codegemmaFormat } from './codegemma.js';
import { codellamaFormat } from './codellama.js';
import { codeloopEmbeddedFormat } from './codeloop-embedded.js';
import { codestralFormat } from './codestral.js';
import { deepseekCoderFormat } from './deepseek-coder.js';
import type { FimFamily, FimFormat } from './fim-format.js';
import { graniteFormat } from './granite.js';
import { qwenCoderFormat } from './qwen-coder.js';
import { santacoderFormat } from './santacoder.js';
import { seedCoderFormat } from './seed-coder.js';
import { starcoderFormat } from './starcoder.js';
import { starcoder2Format } from './starcoder2.js';

/** Every known FIM format. */
export const FIM_FORMATS: readonly FimFormat[] = Object.freeze([
  starcoderFormat,
  starcoder2Format,
  santacoderFormat,
  qwenCoderFormat,
  deepseekCoderFormat,
  codellamaFormat,
  codestralFormat,
  codegemmaFormat,
  graniteFormat,
  seedCoderFormat,
  codeloopEmbeddedFormat,
]);

/** The family names, in registry order. */
export const FIM_FAMILIES: readonly FimFamily[] = Object.freeze(FIM_FORMATS.map((format) => format.family));

export function isFimFamily(name: string): name is FimFamily {
  return (FIM_FAMILIES as readonly string[]).includes(name);
}

/** The format of `family`; a name the registry does not know is a `UsageError` listing the known ones. */
export function getFimFormat(family: string): FimFormat {
  const format = FIM_FORMATS.find((candidate) => candidate.family === family);
  if (format === undefined) {
    throw new UsageError(`Unknown FIM format '${family}'. Known formats: ${FIM_FAMILIES.join(', ')}.`);
  }
  return format;
}
