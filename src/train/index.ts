/**
 * train: codeloop's tiny code model, step by step as `codeloop train` runs it (prepare → run → evaluate → export →
 * publish), the typed defaults, the BPE tokenizer, the corpus builder and the GGUF writer. Training needs the optional
 * package onnxruntime-node (loaded on the first training step; a `MissingDependencyError` names it when absent).
 */
export { SMOKE_DEFAULTS, TRAIN_DEFAULTS, type TrainDefaults } from './defaults.js';
export { defaultCorpusSources, prepareRun, type PrepareRunOptions } from './prepare.js';
export {
  checkpointPath,
  totalSteps,
  trainRun,
  type LogRecord,
  type TrainRunOptions,
  type TrainRunResult,
} from './train.js';
export { loadOnnxRuntime } from './onnx-matmul.js';
export { evaluateRun, type EvaluateRunOptions, type EvaluateRunResult } from './evaluate.js';
export { exportGguf, type ExportGgufOptions, type ExportGgufResult } from './export.js';
export { publishRun, type PublishResult } from './publish.js';
export {
  createBpeTokenizer,
  trainBpeTokenizer,
  type BpeTokenizer,
  type BpeTokenizerData,
  type TrainBpeTokenizerOptions,
} from './bpe-tokenizer.js';
export {
  buildCorpus,
  readCorpus,
  type BuildCorpusOptions,
  type CorpusDocument,
  type CorpusLanguage,
  type CorpusManifest,
  type CorpusSource,
} from './corpus.js';
export {
  writeGguf,
  type GgufMetadataValue,
  type GgufTensor,
  type GgufTensorType,
  type WriteGgufOptions,
} from './gguf-writer.js';
