import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tableFromIPC } from 'apache-arrow';
import { readParquet } from 'parquet-wasm/node';
import type { VerlRow } from './training-rows.js';
import { verlParquet } from './verl-parquet.js';

// The file is written by hyparquet-writer and read back here by an independent implementation: parquet-wasm (the
// Rust `parquet` and `arrow` crates compiled to WebAssembly), decoded into JavaScript by apache-arrow. Arrow's types
// are what pyarrow and `datasets` (through which verl's RLHFDataset loads Parquet) see.

const ROWS: VerlRow[] = [
  {
    data_source: 'codeloop',
    prompt: [{ role: 'user', content: 'def add(a, b):\n' }],
    ability: 'code',
    reward_model: { style: 'rule', ground_truth: '{"prompt":"def add(a, b):\\n","test":"...","entry_point":"add"}' },
    extra_info: { index: 0, task_id: 'add', language: 'python' },
  },
  {
    data_source: 'codeloop',
    prompt: [
      { role: 'system', content: 'Answer in TypeScript — «ünïcödé» 🚀' },
      { role: 'user', content: 'Read a line and print it.' },
    ],
    ability: 'code',
    reward_model: { style: 'rule', ground_truth: '{"verification_info":{"language":"typescript"}}' },
    extra_info: { index: 1, task_id: 'echo', language: null },
  },
];

test('verl Parquet: an independent reader gets the same rows back with the types verl reads', () => {
  const bytes = verlParquet(ROWS);
  assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'PAR1');
  const table = tableFromIPC(readParquet(bytes).intoIPCStream());
  assert.equal(table.numRows, 2);
  const types = Object.fromEntries(table.schema.fields.map((field) => [field.name, String(field.type)]));
  assert.deepEqual(types, {
    data_source: 'Utf8',
    prompt: 'List<Struct<{role:Utf8, content:Utf8}>>',
    ability: 'Utf8',
    reward_model: 'Struct<{style:Utf8, ground_truth:Utf8}>',
    extra_info: 'Struct<{index:Int64, task_id:Utf8, language:Utf8}>',
  });
  const rows = table
    .toArray()
    .map((row) =>
      JSON.parse(
        JSON.stringify(row.toJSON(), (_key, value: unknown) => (typeof value === 'bigint' ? Number(value) : value)),
      ),
    );
  assert.deepEqual(rows, ROWS);
});
