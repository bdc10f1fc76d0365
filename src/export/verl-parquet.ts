import { parquetWriteBuffer, type SchemaElement } from 'hyparquet-writer';
import { codeloopVersion } from '../core/index.js';
import type { VerlRow } from './training-rows.js';

const text = (name: string, repetition: 'REQUIRED' | 'OPTIONAL' = 'REQUIRED'): SchemaElement => ({
  name,
  type: 'BYTE_ARRAY',
  converted_type: 'UTF8',
  repetition_type: repetition,
});

/**
 * The Parquet schema of verl's RL rows, written out so that every file has the same types whatever the rows hold:
 * `prompt` is a standard three-level LIST of `{role, content}` structs (Arrow: `list<struct<role: string, content:
 * string>>`, what verl's RLHFDataset reads through `datasets`), `reward_model` and `extra_info` are structs.
 */
const VERL_SCHEMA: SchemaElement[] = [
  { name: 'root', num_children: 5 },
  text('data_source'),
  { name: 'prompt', repetition_type: 'REQUIRED', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'REQUIRED', num_children: 2 },
  text('role'),
  text('content'),
  text('ability'),
  { name: 'reward_model', repetition_type: 'REQUIRED', num_children: 2 },
  text('style'),
  text('ground_truth'),
  { name: 'extra_info', repetition_type: 'REQUIRED', num_children: 3 },
  { name: 'index', type: 'INT64', repetition_type: 'REQUIRED' },
  text('task_id'),
  text('language', 'OPTIONAL'),
];

/** verl's rows as one Parquet file (Snappy-compressed), written by hyparquet-writer. */
export function verlParquet(rows: readonly VerlRow[]): Uint8Array {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'data_source', data: rows.map((row) => row.data_source) },
      { name: 'prompt', data: rows.map((row) => row.prompt.map(({ role, content }) => ({ role, content }))) },
      { name: 'ability', data: rows.map((row) => row.ability) },
      { name: 'reward_model', data: rows.map((row) => row.reward_model) },
      {
        name: 'extra_info',
        // INT64 columns take bigints.
        data: rows.map((row) => ({ ...row.extra_info, index: BigInt(row.extra_info.index) })),
      },
    ],
    schema: VERL_SCHEMA,
    kvMetadata: [{ key: 'created_by_codeloop', value: codeloopVersion() }],
  });
  return new Uint8Array(buffer);
}
