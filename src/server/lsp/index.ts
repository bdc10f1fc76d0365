export {
  ACCEPTED_COMMAND,
  SHOWN_NOTIFICATION,
  STATS_REQUEST,
  startLspServer,
  type CompletionTelemetryEvent,
  type LspServerOptions,
  type LspServerStats,
  type RunningLspServer,
} from './lsp-server.js';
