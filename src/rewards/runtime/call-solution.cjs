// codeloop rewards: the UNTRUSTED side of a JavaScript/TypeScript function-test row; see call-solution.py. Loads the
// candidate's (transpiled) solution as a script in this process, makes the listed calls, each test's calls under its
// time limit (vm's timeout interrupts a synchronous endless loop), and writes what each call returned.
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');
const values = require('./codeloop-values.cjs');

// Every global used after the solution loads is captured here first, so a solution that replaces one (JSON.stringify,
// say) does not write the result lines. It can still reach fd 1 itself: what it writes there is only its claim about
// its own return values, which the host checks (src/rewards/tagged.ts) and the trusted process judges.
const { writeAll, encode, decode } = values;
const stringify = JSON.stringify;
const exit = process.reallyExit.bind(process);
const now = performance.now.bind(performance);
const floor = Math.floor;
const runInThisContext = vm.runInThisContext;
const testIdentifier = RegExp.prototype.test;
const job = JSON.parse(fs.readFileSync('calls.json', 'utf8'));
fs.unlinkSync('calls.json');
const emit = (record) => {
  try {
    writeAll(1, `${job.nonce}${stringify(record)}\n`);
  } catch {
    // stdout closed by the solution: the results it would have carried are missing, so its tests count as not run
  }
};
const short = (text) => (text.length <= 300 ? text : `${text.slice(0, 300)}…`);
const describe = (error) => {
  try {
    return {
      type: error instanceof Error ? String(error.name) : typeof error,
      message: short(String(error instanceof Error ? error.message : error)),
    };
  } catch {
    return { type: 'Error', message: '' };
  }
};
const timedOut = (error) => error?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT';
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

// The solution's prints go nowhere (they would crowd out the result lines).
for (const method of ['log', 'error', 'warn', 'info', 'debug']) console[method] = () => undefined;
process.stdout.write = () => true;
globalThis.require = require;
globalThis.module = { exports: {} };
globalThis.exports = globalThis.module.exports;

function main() {
  try {
    runInThisContext(job.solution, { filename: 'solution.js', timeout: job.loadMs });
  } catch (error) {
    const status = error instanceof SyntaxError ? 'compile-error' : timedOut(error) ? 'timed-out' : 'error';
    emit({ type: 'load', status, exception: describe(error) });
    return;
  }
  emit({ type: 'load', status: 'passed' });
  for (const group of job.groups) {
    const deadline = now() + job.perTestMs;
    for (let index = 0; index < group.calls.length; index++) {
      const request = group.calls[index];
      const left = floor(deadline - now());
      if (left <= 0) {
        emit({ type: 'call', test: group.id, k: index, outcome: { timeout: true } });
        break;
      }
      let outcome;
      try {
        if (!testIdentifier.call(IDENTIFIER, request.fn)) throw new TypeError(`${stringify(request.fn)} is not a function name`);
        const args = decode(request.args);
        globalThis.__codeloopInvoke = () => {
          const exported = globalThis.module.exports?.[request.fn] ?? globalThis.exports?.[request.fn];
          const fn = runInThisContext(`typeof ${request.fn} === 'undefined' ? undefined : ${request.fn}`);
          const target = typeof fn === 'function' ? fn : exported;
          if (typeof target !== 'function') throw new ReferenceError(`${request.fn} is not defined by the solution`);
          const result = target(...args);
          const argsAfter = [];
          for (let at = 0; at < args.length; at++) argsAfter[at] = encode(args[at]);
          return { ok: encode(result), argsAfter };
        };
        outcome = runInThisContext('__codeloopInvoke()', { timeout: left });
      } catch (error) {
        outcome = timedOut(error) ? { timeout: true } : { error: describe(error) };
      }
      if (now() > deadline + 50) outcome = { timeout: true };
      emit({ type: 'call', test: group.id, k: index, outcome });
      if (outcome.timeout) break;
    }
  }
}

try {
  main();
  emit({ type: 'done' });
} finally {
  exit(0);
}
