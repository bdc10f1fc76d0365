// codeloop per-test runner for JavaScript and TypeScript (src/sandbox/run-tests.ts). Runs INSIDE the sandbox, in the same
// process as the untrusted candidate: the sandbox is the security boundary, not this file. Its results are
// diagnostics for the loop; the final verdict of a solve comes from the task's own reference harness.
//
// Input: suite.json (read and deleted before the candidate runs):
//   {"nonce", "solution", "perTestMs", "steps": [{"kind": "setup" | "test", "id", "origin", "assertion", "code"}]}
// with every piece already plain JavaScript (TypeScript is transpiled on the host). The solution and each step run as
// separate scripts in one vm context, so top-level declarations of one are visible to the next (as script tags share
// a realm), and vm's `timeout` interrupts a synchronous endless loop in any one of them.
// Output: lines on stdout, each `nonce + JSON`: {"type": "plan"}, {"type": "solution"}, one {"type": "test"} per
// test, {"type": "done"}.
'use strict';
const fs = require('node:fs');
const util = require('node:util');
const vm = require('node:vm');

const writeSync = fs.writeSync;
const suite = JSON.parse(fs.readFileSync('suite.json', 'utf8'));
fs.unlinkSync('suite.json');
const TEXT_LIMIT = 300;

function emit(record) {
  writeSync(1, `${suite.nonce}${JSON.stringify(record)}\n`);
}

function short(text) {
  const value = String(text);
  return value.length <= TEXT_LIMIT ? value : `${value.slice(0, TEXT_LIMIT)}…`;
}

function show(value) {
  try {
    return short(util.inspect(value, { depth: 4, breakLength: Infinity }));
  } catch (error) {
    return '<inspect failed>';
  }
}

/** Errors from the vm context are of another realm, so they are read by shape, not by instanceof. */
function describeError(error) {
  const type = error !== null && typeof error === 'object' && typeof error.name === 'string' ? error.name : typeof error;
  const message = error !== null && typeof error === 'object' && 'message' in error ? String(error.message) : String(error);
  const details = { exception: { type, message: short(message) } };
  if (error && error.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
    return { status: 'timed-out', exception: { type: 'TimeoutError', message: `exceeded the ${suite.perTestMs} ms per-test limit` } };
  }
  if (error && error.code === 'ERR_ASSERTION') {
    return { status: 'failed', ...details, actual: show(error.actual), expected: show(error.expected), exception: { type: 'AssertionError', message: short(message.split('\n')[0]) } };
  }
  if (type === 'RangeError' && /allocation|heap|memory/i.test(message)) return { status: 'memory-exceeded', ...details };
  const stack = error && typeof error.stack === 'string' ? error.stack.split('\n').slice(0, 4).join('\n') : '';
  return { status: 'error', ...details, ...(stack ? { traceback: short(stack) } : {}) };
}

// `assert` is a global property, not a declaration, so a test file's own `const assert = require(...)` may shadow it.
const context = vm.createContext({
  assert: require('node:assert'),
  require,
  module: { exports: {} },
  exports: {},
  console,
  process,
  Buffer,
  setTimeout,
  clearTimeout,
  setInterval,
  clearInterval,
  setImmediate,
  queueMicrotask,
  structuredClone,
});

// The host wraps the first argument of an `assert.<equality>(actual, expected)` test in `__codeloopActual(...)`, so the
// value the solution returned is known for a passing test too (MBR-exec compares candidates by their outputs).
let lastActual;
context.__codeloopActual = (value) => {
  lastActual = show(value);
  return value;
};

function run(code, filename) {
  const started = process.hrtime.bigint();
  let details;
  lastActual = undefined;
  try {
    vm.runInContext(code, context, { filename, timeout: suite.perTestMs });
    details = { status: 'passed', ...(lastActual === undefined ? {} : { actual: lastActual }) };
  } catch (error) {
    details = describeError(error);
  }
  details.durationMs = Number(process.hrtime.bigint() - started) / 1e6;
  return details;
}

emit({ type: 'plan', tests: suite.steps.filter((step) => step.kind === 'test').map(({ id, origin, assertion }) => ({ id, origin, assertion })) });
const solution = run(suite.solution, 'solution.js');
if (solution.status === 'error' && solution.exception.type === 'SyntaxError') solution.status = 'compile-error';
emit({ type: 'solution', ...solution });
if (solution.status === 'passed') {
  for (const step of suite.steps) {
    const result = run(step.code, `${step.origin}-tests.js`);
    if (step.kind === 'test') emit({ type: 'test', id: step.id, ...result });
  }
}
emit({ type: 'done' });
