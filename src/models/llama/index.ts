export {
  createLlamaBackend,
  type LlamaBackend,
  type LlamaBackendOptions,
  type LlamaRenderedInfill,
  type LlamaRequest,
} from './llama-backend.js';
