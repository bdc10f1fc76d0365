/**
 * Step 5: the run's latest checkpoint → a Llama GGUF that node-llama-cpp loads (q8_0 shipped, f16/f32 for checks),
 * with the tokenizer, FIM ids and the training facts as `codeloop.*` metadata.
 */
import { join } from 'node:path';
import { loadCheckpoint } from './checkpoint.js';
import { writeLlamaGguf } from './llama-gguf.js';
import { parameterCount, toLlamaWeights } from './model.js';
import { readTokenizer } from './token-data.js';
import { checkpointPath } from './train.js';

export interface ExportGgufOptions {
  fileType: 'f32' | 'f16' | 'q8_0';
  /** general.name */
  name?: string;
}

export interface ExportGgufResult {
  path: string;
  step: number;
  tokensSeen: number;
  parameters: number;
}

export async function exportGguf(
  runDir: string,
  path: string,
  { fileType, name = 'codeloop-embedded' }: ExportGgufOptions,
): Promise<ExportGgufResult> {
  const checkpoint = loadCheckpoint(checkpointPath(runDir));
  const tokenizer = readTokenizer(join(runDir, 'tokenizer.json'));
  const { config, weights } = toLlamaWeights(checkpoint.header.config, checkpoint.params);
  await writeLlamaGguf(path, {
    name,
    config,
    tokenizer,
    weights,
    fileType,
    metadata: {
      'codeloop.training.steps': checkpoint.header.step,
      'codeloop.training.tokens': checkpoint.header.tokensSeen,
      'codeloop.training.saved_at': checkpoint.header.savedAt,
      'codeloop.training.tied_embeddings': checkpoint.header.config.tiedEmbeddings,
    },
  });
  return {
    path,
    step: checkpoint.header.step,
    tokensSeen: checkpoint.header.tokensSeen,
    parameters: parameterCount(checkpoint.header.config),
  };
}
