import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionSite } from './completion-mode.js';
import type { Run, RunResult } from './completion-types.js';
import { joinableTypedText } from './in-flight.js';

function runAt(prefix: string, suffix: string, partial: string, variant = 'auto|128|'): Run {
  return {
    prefix,
    suffix,
    mode: 'multi-line',
    variant,
    promise: new Promise<RunResult>(() => {}),
    controller: new AbortController(),
    waiters: 1,
    partial,
    committed: '',
    listeners: new Set(),
    judged: '',
    started: partial !== '',
    sent: false,
  };
}

test('a request joins a running generation only when its typed text agrees with what the model has sent', () => {
  const prefix = 'def f():\n    ';
  const run = runAt(prefix, '\n', 'return 1');
  const at = (typed: string) => completionSite(`${prefix}${typed}\n`, prefix.length + typed.length);
  assert.equal(joinableTypedText(run, at(''), 'auto|128|', 8), '');
  assert.equal(joinableTypedText(run, at('ret'), 'auto|128|', 8), 'ret');
  assert.equal(joinableTypedText(run, at('x'), 'auto|128|', 8), undefined, 'typed text the model did not send');
  assert.equal(joinableTypedText(run, at('return 1 +'), 'auto|128|', 8), undefined, 'further than maxTypedAhead');
  assert.equal(joinableTypedText(run, at('ret'), 'single-line|128|', 8), undefined, 'other settings');
  assert.equal(joinableTypedText(runAt(prefix, '\n', ''), at('r'), 'auto|128|', 8), undefined, 'nothing sent yet');
  run.controller.abort();
  assert.equal(joinableTypedText(run, at(''), 'auto|128|', 8), undefined, 'an aborted run');
});
