export * from './spec.js';
export { ApiCallError, ModelError, UnsupportedCapabilityError } from './errors.js';
export { MODEL_NAME_FORMS, parseModelName, type ModelName } from './model-name.js';
export { EMBEDDED_MODEL_PATH, canonicalName, openModel, type OpenModelOptions } from './open-model.js';
export {
  createMockBackend,
  type MockAnswer,
  type MockBackend,
  type MockBackendOptions,
  type MockCall,
  type MockRequest,
  type MockRespond,
} from './mock/index.js';
export { createReplayBackend, type RecordedSample, type ReplayBackendOptions } from './replay/index.js';
export {
  createOpenAICompatibleBackend,
  SERVER_FLAVORS,
  type InfillMode,
  type OpenAICompatibleBackend,
  type OpenAICompatibleBackendOptions,
  type RenderInfill,
  type RenderedInfill,
  type ServerFlavor,
} from './openai-compatible/index.js';
export * from './fim-formats/index.js';
