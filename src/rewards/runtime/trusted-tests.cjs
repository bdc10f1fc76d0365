// codeloop rewards: the TRUSTED side of a JavaScript/TypeScript function-test row (src/rewards/function-tests.ts). Runs
// inside the sandbox in an execution that holds no code of the candidate; see trusted-tests.py for the scheme. The
// host cut the tests into steps (planJavaScriptSteps: setup and test statements, TypeScript already transpiled); every
// step runs here in one vm context in which the names of the solution are proxies answered from the results table.
//
// Input: suite.json {"nonce", "steps": [{"kind", "id"?, "origin", "assertion"?, "code"}], "entryPoint",
//   "solutionNames" (top-level names of the solution the tests mention), "perTestMs",
//   "results": {test id: [{"fn", "args", "kwargs", "outcome"}]}}. Output as trusted-tests.py.
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');
const util = require('node:util');
const realAssert = require('node:assert');
const values = require('./codeloop-values.cjs');

const exit = process.reallyExit.bind(process);
const suite = JSON.parse(fs.readFileSync('suite.json', 'utf8'));
fs.unlinkSync('suite.json');
const MAX_CALLS = 10_000;
const short = (text) => (text.length <= 300 ? text : `${text.slice(0, 300)}…`);
const emit = (record) => values.writeAll(1, `${suite.nonce}${JSON.stringify(record)}\n`);
const show = (value) => {
  try {
    return short(util.inspect(value, { depth: 4, breakLength: Infinity }));
  } catch (error) {
    return '<inspect failed>';
  }
};

class NeedCalls extends Error {}
class CallTimedOut extends Error {}
class CallNotRun extends Error {}

/** What an unknown call returns while recording: absorbs every operation. */
function placeholder() {
  const target = function () {};
  return new Proxy(target, {
    get(_target, property) {
      if (property === Symbol.toPrimitive) return () => 0;
      if (property === Symbol.iterator) return function* () {};
      if (property === 'then') return undefined;
      if (property === 'length') return 0;
      return placeholder();
    },
    apply: () => placeholder(),
    construct: () => placeholder(),
    has: () => false,
  });
}

const calls = { table: [], recording: false, made: [] };

function call(name, args) {
  const index = calls.made.length;
  if (index >= MAX_CALLS) throw new Error(`more than ${MAX_CALLS} calls in one test`);
  const made = { fn: name, args: contextValues.encode(args), kwargs: { d: [] } };
  calls.made.push(made);
  const known = calls.table[index];
  if (!known || known.fn !== name || JSON.stringify(known.args) !== JSON.stringify(made.args)) {
    if (calls.recording) return placeholder();
    throw new NeedCalls();
  }
  const outcome = known.outcome ?? {};
  if ('ok' in outcome) {
    (outcome.argsAfter ?? []).forEach((after, position) => applyMutation(args[position], after));
    return contextValues.decode(outcome.ok);
  }
  if ('error' in outcome) {
    const error = new Error(String(outcome.error.message ?? ''));
    error.name = String(outcome.error.type ?? 'Error');
    throw error;
  }
  if (outcome.timeout) throw new CallTimedOut();
  throw new CallNotRun();
}

/** The candidate changed an array or plain-object argument in place: change ours the same way. */
function applyMutation(argument, after) {
  let value;
  try {
    value = contextValues.decode(after);
  } catch {
    return;
  }
  if (Array.isArray(argument) && Array.isArray(value)) argument.splice(0, argument.length, ...value);
}

function proxy(name) {
  const callable = { [name]: (...args) => call(name, args) }[name];
  return callable;
}

/** `assert` for the tests: the real one when judging, one that checks nothing while recording. */
function recordingAware(real) {
  const cache = new Map();
  const wrap = (fn) =>
    new Proxy(fn, {
      apply: (target, self, args) => (calls.recording ? undefined : Reflect.apply(target, self, args)),
      get: (target, property) => {
        const value = Reflect.get(target, property);
        if (typeof value !== 'function' || property === 'AssertionError') return value;
        if (!cache.has(value)) cache.set(value, wrap(value));
        return cache.get(value);
      },
    });
  return wrap(real);
}
const assert = recordingAware(realAssert);
const assertStrict = recordingAware(realAssert.strict);

let seed = 0;
function seededRandom() {
  // mulberry32: the same numbers in every run of the tests, so recorded arguments repeat.
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

let lastActual;
const silent = { log() {}, error() {}, warn() {}, info() {}, debug() {} };
const context = vm.createContext({
  require: (name) =>
    name === 'assert' || name === 'node:assert'
      ? assert
      : name === 'assert/strict' || name === 'node:assert/strict'
        ? assertStrict
        : require(name),
  console: silent,
  __codeloopActual: (value) => {
    lastActual = value;
    return value;
  },
});
vm.runInContext('Math.random = __codeloopRandom; delete globalThis.__codeloopRandom;', Object.assign(context, { __codeloopRandom: seededRandom }));
// The entry point always; a name of the solution only where it is no global the tests could be relying on.
const proxyNames = [suite.entryPoint, ...suite.solutionNames].filter(
  (name, index, all) =>
    name && all.indexOf(name) === index && (name === suite.entryPoint || vm.runInContext(`typeof ${name}`, context) === 'undefined'),
);
for (const name of proxyNames) context[name] = proxy(name);
// Values are rebuilt in the tests' own realm: an array made in this module's realm has another Array.prototype, which
// assert.deepStrictEqual reports as "same structure but not reference-equal".
const contextValues = vm.runInContext(
  `(function () { const module = { exports: {} }; ${fs.readFileSync(require.resolve('./codeloop-values.cjs'), 'utf8')}\n; return module.exports; })()`,
  context,
);

function run(code) {
  seed = 20240917;
  lastActual = undefined;
  const started = performance.now();
  try {
    vm.runInContext(code, context, { timeout: suite.perTestMs, filename: 'tests.js' });
    return { error: null, ms: performance.now() - started };
  } catch (error) {
    return { error, ms: performance.now() - started };
  }
}

function judged(step) {
  const { error, ms } = run(step.code);
  const details = { durationMs: Math.round(ms * 1000) / 1000 };
  if (lastActual !== undefined) details.actual = show(lastActual);
  if (error === null) return { ...details, status: 'passed' };
  if (error instanceof NeedCalls) return null;
  if (error instanceof CallTimedOut || error?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT')
    return { ...details, status: 'timed-out', exception: { type: 'TimeoutError', message: `exceeded the ${suite.perTestMs} ms per-test limit` } };
  if (error instanceof CallNotRun)
    return { ...details, status: 'not-run', exception: { type: 'ProcessEnded', message: "the solution's process ended before this call returned" } };
  if (error instanceof realAssert.AssertionError)
    return {
      ...details,
      status: 'failed',
      actual: show(error.actual),
      expected: show(error.expected),
      exception: { type: 'AssertionError', message: short(String(error.message)) },
    };
  const type = error instanceof Error ? error.name : typeof error;
  return { ...details, status: 'error', exception: { type, message: short(String(error?.message ?? error)) } };
}

emit({ type: 'plan', tests: suite.steps.filter((step) => step.kind === 'test').map(({ id, origin, assertion }) => ({ id, origin, assertion })), proxies: proxyNames });
let pending = [];
for (const step of suite.steps) {
  if (step.kind === 'setup') {
    pending.push(step);
    continue;
  }
  const table = suite.results[step.id] ?? [];
  Object.assign(calls, { table, recording: false, made: [] });
  let needs = false;
  for (const setup of pending) needs = run(setup.code).error instanceof NeedCalls || needs;
  let record = needs ? null : judged(step);
  if (record === null) {
    Object.assign(calls, { table, recording: true, made: [] });
    for (const setup of pending) run(setup.code);
    run(step.code);
    record = { status: 'needs-calls', calls: calls.made };
  }
  pending = [];
  emit({ ...record, type: 'test', id: step.id });
}
emit({ type: 'done' });
exit(0);
