export { CodeloopError, UsageError, isCodeloopError } from './errors.js';
export { readCompleteLines } from './journal-lines.js';
export { codeloopVersion, packageRoot } from './version.js';
