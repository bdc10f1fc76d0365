import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonSyntaxError } from './json-syntax-error.js';

function failure(text: string): unknown {
  try {
    JSON.parse(text);
  } catch (error) {
    return error;
  }
  throw new Error(`${text} parsed`);
}

test('jsonSyntaxError: says where JSON broke, never what the text holds', () => {
  assert.equal(jsonSyntaxError(failure('secret:x:0:0')), 'unexpected text');
  assert.equal(
    jsonSyntaxError(failure('{"a":1}secret')),
    'Unexpected non-whitespace character after JSON at position 7',
  );
  assert.equal(jsonSyntaxError(failure('[1 2]')), "Expected ',' or ']' after array element in JSON at position 3");
  assert.equal(jsonSyntaxError(failure('{"a": ')), 'Unexpected end of JSON input');
  assert.equal(jsonSyntaxError(new Error('"secret" in JSON at position 1')), 'unexpected text');
});
