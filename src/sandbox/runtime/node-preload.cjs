// Preloaded (`node --require`) before a JavaScript program runs in the sandbox. It only tells the supervisor whether
// the program parses (so a syntax error becomes the `compile-error` verdict); Node then runs the program as usual and
// reports any error itself. Parsing uses Node's own CommonJS wrapper parameters, so the answer is Node's.
'use strict';
const fs = require('node:fs');
const vm = require('node:vm');

const file = process.argv[1];
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
    if (error instanceof SyntaxError) {
      try {
        fs.writeSync(3, 'compile-error\n');
      } catch {
        // no status pipe: running outside the supervisor
      }
    }
  }
}
