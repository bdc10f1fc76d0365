import type { ChatMessage } from '../models/index.js';
import { preferencePairs, type PairRule } from './preference-pairs.js';
import type { ExportPrompt, ExportSource, ExportTask, ScoredCompletion } from './records.js';

/**
 * The trainer formats, each a pure function of a run's records (see docs/rewards.md, "Trainers", for every field).
 * Conversational prompts give conversational rows (answers as one assistant message), text prompts give text rows:
 * TRL reads both ("standard" and "conversational" dataset formats).
 */

type Row = Record<string, unknown>;

/** An answer in the prompt's form: text for a text prompt, one assistant message for a conversation. */
function answer(prompt: ExportPrompt, text: string): string | ChatMessage[] {
  return typeof prompt === 'string' ? text : [{ role: 'assistant', content: text }];
}

/** Scored completions that may carry a label: a pass rate, and no infra error. */
function judged(completions: readonly ScoredCompletion[]): (ScoredCompletion & { passRate: number })[] {
  return completions.filter(
    (completion): completion is ScoredCompletion & { passRate: number } =>
      !completion.infraError && completion.passRate !== null,
  );
}

function withRow(tasks: readonly ExportTask[]): (ExportTask & { row: Row })[] {
  return tasks.filter((task): task is ExportTask & { row: Row } => task.row !== null);
}

/**
 * TRL GRPO/RLOO: prompt-only rows, one per task. `row` is the row the reward service scores against, as JSON text
 * (one string column keeps the dataset's schema the same whatever the row format); the TRL adapter receives it as
 * the `row` keyword argument and sends it on.
 */
export function grpoRows(source: ExportSource): Row[] {
  return withRow(source.tasks).map((task) => ({
    prompt: task.prompt,
    task_id: task.taskId,
    language: task.language,
    row: JSON.stringify(task.row),
  }));
}

/** TRL DPO (also ORPO/CPO and reward-model training, which read `margin`): preference pairs. */
export function dpoRows(source: ExportSource, rule: PairRule = {}): Row[] {
  return preferencePairs(source.completions, rule).map((pair) => ({
    prompt: pair.prompt,
    chosen: answer(pair.prompt, pair.chosen.completion),
    rejected: answer(pair.prompt, pair.rejected.completion),
    margin: pair.chosen.passRate! - pair.rejected.passRate!,
    chosen_pass_rate: pair.chosen.passRate,
    rejected_pass_rate: pair.rejected.passRate,
    pair: pair.kind,
    task_id: pair.taskId,
  }));
}

/** TRL KTO/BCO: unpaired completions, `label` true when every test passed; infra errors and flaky items left out. */
export function ktoRows(source: ExportSource): Row[] {
  return judged(source.completions).map((completion) => ({
    prompt: completion.prompt,
    completion: answer(completion.prompt, completion.completion),
    label: completion.passRate === 1,
    pass_rate: completion.passRate,
    task_id: completion.taskId,
  }));
}

/**
 * SFT on repair trajectories (solve runs): every repair whose program passed all hidden tests, as the conversation
 * that led to it (the repair's prompt, which holds the task, the broken program and its feedback, then the fixed
 * answer); `{prompt, completion}` for a completion model's text prompt.
 */
export function sftRows(source: ExportSource): Row[] {
  return judged(source.completions)
    .filter((completion) => completion.attempt?.kind === 'repair' && completion.passRate === 1)
    .map((completion) =>
      typeof completion.prompt === 'string'
        ? { prompt: completion.prompt, completion: completion.completion, task_id: completion.taskId }
        : {
            messages: [...completion.prompt, { role: 'assistant', content: completion.completion }],
            task_id: completion.taskId,
          },
    );
}

/**
 * OpenRLHF prompt rows for `--data.input_key input --data.label_key label`: the label is the row as JSON text, which
 * OpenRLHF hands to `reward_func` as `labels[i]`.
 */
export function openrlhfRows(source: ExportSource): Row[] {
  return withRow(source.tasks).map((task) => ({
    input: task.prompt,
    label: JSON.stringify(task.row),
    task_id: task.taskId,
  }));
}

/** One verl RL row (the layout of verl's example data preprocessing scripts). */
export interface VerlRow {
  data_source: string;
  /** Chat messages: verl applies the chat template to them. A text prompt becomes one user message. */
  prompt: ChatMessage[];
  ability: string;
  reward_model: { style: string; ground_truth: string };
  extra_info: { index: number; task_id: string; language: string | null };
}

/** The `data_source` of every exported row; codeloop's `compute_score` does not depend on it. */
export const VERL_DATA_SOURCE = 'codeloop';

/**
 * verl RL rows: `reward_model.ground_truth` is the row as JSON text (verl passes it to `compute_score` as
 * `ground_truth`); the language travels in the row, because verl's own code path never passes one.
 */
export function verlRows(source: ExportSource): VerlRow[] {
  return withRow(source.tasks).map((task, index) => ({
    data_source: VERL_DATA_SOURCE,
    prompt: typeof task.prompt === 'string' ? [{ role: 'user', content: task.prompt }] : task.prompt,
    ability: 'code',
    reward_model: { style: 'rule', ground_truth: JSON.stringify(task.row) },
    extra_info: { index, task_id: task.taskId, language: task.language },
  }));
}
