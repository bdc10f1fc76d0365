// Preloaded (`node --require`) before a JavaScript program runs in the sandbox. It tells the supervisor, on fd 3 (the
// control channel), whether the program parses, so that a syntax error becomes the `compile-error` verdict; then it
// closes fd 3, so the program itself can never write on that channel. Node then runs the program as usual and
// reports any error itself. Parsing uses Node's own CommonJS wrapper, so the answer is Node's; a program that only
// fails to parse as CommonJS because it is an ES module is left to Node, which detects and runs ES modules.
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');

const ES_MODULE_SYNTAX = /Cannot use import statement outside a module|Unexpected token 'export'|Cannot use 'import\.meta' outside a module/;

const file = process.argv[1];
try {
  if (file && /\.c?js$/.test(file)) {
    let source = '';
    try {
      source = fs.readFileSync(file, 'utf8');
    } catch {
      // Node reports the missing file itself.
    }
    if (source.startsWith('#!')) source = '//' + source.slice(2);
    try {
      vm.compileFunction(source, ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
    } catch (error) {
      if (error instanceof SyntaxError && !ES_MODULE_SYNTAX.test(error.message)) fs.writeSync(3, 'compile-error\n');
    }
  }
} finally {
  try {
    fs.closeSync(3);
  } catch {
    // not started by the supervisor
  }
}
