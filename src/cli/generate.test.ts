import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summarizeWarnings } from './generate.js';

test('warnings that differ only in their numbers are shown once, with how many more there were', () => {
  assert.deepEqual(
    summarizeWarnings([
      'maxTokens=512: only 174 tokens are left in the 256-token context after the 82-token prompt; generation stops there.',
      'seed is ignored by this server',
      'maxTokens=512: only 187 tokens are left in the 256-token context after the 69-token prompt; generation stops there.',
      'maxTokens=512: only 127 tokens are left in the 256-token context after the 129-token prompt; generation stops there.',
    ]),
    [
      'maxTokens=512: only 174 tokens are left in the 256-token context after the 82-token prompt; generation stops there. (and 2 more like it)',
      'seed is ignored by this server',
    ],
  );
  assert.deepEqual(summarizeWarnings([]), []);
});
