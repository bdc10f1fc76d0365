export {
  createOpenAICompatibleBackend,
  type OpenAICompatibleBackend,
  type OpenAICompatibleBackendOptions,
  type RenderInfill,
  type RenderedInfill,
} from './openai-compatible-backend.js';
export {
  SERVER_FLAVORS,
  SERVER_PROFILES,
  type InfillMode,
  type ServerFlavor,
  type ServerProfile,
} from './server-profiles.js';
export { parseServerSentEvents, type ServerSentEvent } from './server-sent-events.js';
