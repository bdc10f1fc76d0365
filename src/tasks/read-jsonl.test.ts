import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseJsonl, rawField } from './read-jsonl.js';

test('blank lines are skipped and line numbers are kept', () => {
  const records = parseJsonl('{"a": 1}\n\n  \n{"a": 2}\r\n', 'f.jsonl');
  assert.deepEqual(
    records.map((record) => [record.line, record.value['a']]),
    [
      [1, 1],
      [4, 2],
    ],
  );
});

test('raw fields keep their JSON text: big integers, Python Infinity/NaN, nested strings with brackets', () => {
  const line = '{"id": "x", "inputs": [[99999999999999999999999, -Infinity], [NaN, "a]\\"}"]] , "atol": 0, "s": "}"}';
  const [record] = parseJsonl(line, 'f.jsonl', { rawFields: ['inputs'] });
  assert.ok(record);
  assert.equal(rawField(record, 'inputs'), '[[99999999999999999999999, -Infinity], [NaN, "a]\\"}"]]');
  assert.deepEqual(record.value, { id: 'x', inputs: null, atol: 0, s: '}' });
  assert.throws(() => rawField(record, 'other'), { message: 'f.jsonl:1: field "other" is missing.' });
});

test('a line that is not JSON is named by file and line', () => {
  assert.throws(() => parseJsonl('{"a": 1}\n{"a": ', 'data/x.jsonl'), {
    name: 'UsageError',
    message: /^data\/x\.jsonl:2: not valid JSON \(/,
  });
  assert.throws(() => parseJsonl('{"a": [1, 2}', 'x.jsonl', { rawFields: ['a'] }), {
    name: 'UsageError',
    message: /^x\.jsonl:1: not valid JSON/,
  });
});
