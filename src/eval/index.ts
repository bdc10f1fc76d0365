export { passAtK, passAtKForTask, type PassAtKResult, type TaskCounts } from './pass-at-k.js';
