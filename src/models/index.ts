export * from './spec.js';
export { ApiCallError, ModelError, UnsupportedCapabilityError } from './errors.js';
