export { CodeloopError, UsageError, isCodeloopError } from './errors.js';
export { jsonSyntaxError } from './json-syntax-error.js';
export { readCompleteLines } from './journal-lines.js';
export { codeloopVersion, packageRoot } from './version.js';
