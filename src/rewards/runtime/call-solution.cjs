// codeloop rewards: the UNTRUSTED side of a JavaScript/TypeScript function-test row; see call-solution.py. Loads the
// candidate's (transpiled) solution as a script in this process, makes the listed calls, each test's calls under its
// time limit (vm's timeout interrupts a synchronous endless loop), and writes what each call returned.
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');
const values = require('./codeloop-values.cjs');

const writeSync = fs.writeSync;
const exit = process.reallyExit.bind(process);
const now = performance.now.bind(performance);
const job = JSON.parse(fs.readFileSync('calls.json', 'utf8'));
fs.unlinkSync('calls.json');
const emit = (record) => {
  try {
    writeSync(1, `${job.nonce}${JSON.stringify(record)}\n`);
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
    vm.runInThisContext(job.solution, { filename: 'solution.js', timeout: job.loadMs });
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
      const left = Math.floor(deadline - now());
      if (left <= 0) {
        emit({ type: 'call', test: group.id, k: index, outcome: { timeout: true } });
        break;
      }
      let outcome;
      try {
        if (!IDENTIFIER.test(request.fn)) throw new TypeError(`${JSON.stringify(request.fn)} is not a function name`);
        const args = values.decode(request.args);
        globalThis.__codeloopInvoke = () => {
          const exported = globalThis.module.exports?.[request.fn] ?? globalThis.exports?.[request.fn];
          const fn = vm.runInThisContext(`typeof ${request.fn} === 'undefined' ? undefined : ${request.fn}`);
          const target = typeof fn === 'function' ? fn : exported;
          if (typeof target !== 'function') throw new ReferenceError(`${request.fn} is not defined by the solution`);
          const result = target(...args);
          return { ok: values.encode(result), argsAfter: args.map((argument) => values.encode(argument)) };
        };
        outcome = vm.runInThisContext('__codeloopInvoke()', { timeout: left });
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
