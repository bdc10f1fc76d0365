export { createReplayBackend, type RecordedSample, type ReplayBackendOptions } from './replay-backend.js';
