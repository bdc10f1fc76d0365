export type {
  CallsRow,
  FunctionTestsRow,
  NormalizedRow,
  RewardItem,
  RewardMode,
  RewardResult,
  RewardVerdict,
  ScoreOptions,
  StdioRow,
} from './types.js';
export { REWARD_MODES } from './types.js';
export { normalizeRow, RowError } from './rows.js';
export { completionCode, completionText, type CompletionCode } from './completion.js';
export { COMPILE_ERROR_PENALTY, NO_CODE_PENALTY, rewardOf, scoreBatch, scoreItem } from './score.js';
export { rewardResultJson, type RewardResultJson } from './wire.js';
export { planItems, scoreRun, type ResultLine, type ScoreRunOptions, type ScoreRunResult } from './score-run.js';
