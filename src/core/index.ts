export { CodeloopError, isCodeloopError, isPackageNotFound, MissingDependencyError, UsageError } from './errors.js';
export { jsonSyntaxError } from './json-syntax-error.js';
export { readCompleteLines } from './journal-lines.js';
export { codeloopVersion, packageRoot } from './version.js';
export { passAtK, passAtKForTask, type PassAtKResult, type TaskCounts } from './pass-at-k.js';
export { createStopCutter, cutAtStop, normalizeStops, type StopCut, type StopCutter } from './stop-sequences.js';
