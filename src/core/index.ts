export { CodeloopError, UsageError, isCodeloopError } from './errors.js';
