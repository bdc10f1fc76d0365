import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { createTypeChecker } from './type-check.js';

const checker = createTypeChecker(1);
after(() => checker.close());

test('a well-typed program compiles to what tsc --target esnext emits', async () => {
  const result = await checker.check('function add(a: number, b: number): number {\n  return a + b;\n}\nconsole.log(add(1, 2));\n', 15_000);
  assert.deepEqual(result, { js: 'function add(a, b) {\n    return a + b;\n}\nconsole.log(add(1, 2));\n' });
});

test("type errors come back in tsc's format, path relative to the program's folder", async () => {
  const result = await checker.check('const n: number = "one";\nconst s: string = 2;\n', 15_000);
  assert.deepEqual(result, {
    compileError: "main.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.\nmain.ts(2,7): error TS2322: Type 'number' is not assignable to type 'string'.",
  });
});

test('the default lib is esnext with the DOM, and no @types are included (an empty folder, as MultiPL-E runs tsc)', async () => {
  assert.ok('js' in (await checker.check('const m = new Map<string, number>();\nconst u = [1, 2].at(-1);\nconst d: Document | undefined = undefined;\n', 15_000)));
  const node = await checker.check("import { readFileSync } from 'fs';\nreadFileSync('x');\n", 15_000);
  assert.ok('compileError' in node);
  // What tsc --target esnext prints in an empty folder, checked against the real command.
  assert.equal(node.compileError, "main.ts(1,30): error TS2792: Cannot find module 'fs'. Did you mean to set the 'moduleResolution' option to 'nodenext', or to add aliases to the 'paths' option?");
  // MultiPL-E's programs declare require themselves.
  assert.ok('js' in (await checker.check("declare var require: any;\nconst assert = require('node:assert');\nassert.deepEqual(1, 1);\n", 15_000)));
});

test('references to files of the host are never read: they resolve to nothing', async () => {
  for (const code of ['/// <reference path="/etc/passwd" />\nlet x = 1;\n', "import x from '/etc/passwd';\nlet y = x;\n", "/// <reference path=\"../../../../../etc/hostname\" />\nlet z = 1;\n"]) {
    const result = await checker.check(code, 15_000);
    assert.ok('compileError' in result, code);
    assert.doesNotMatch(result.compileError, /root:|Unexpected|Invalid character/, 'the file was not parsed');
    assert.match(result.compileError, /TS6231: Could not resolve the path|TS2792: Cannot find module/);
  }
});

test('a check that outlasts its limit is a compile error; the thread is replaced and the next check works', async () => {
  await checker.check('let warm = 1;\n', 15_000); // the thread has parsed the lib files: no first-check grace
  // A program, a lib lookup and a message round trip take well over a millisecond.
  const result = await checker.check(`let big: [${Array.from({ length: 2000 }, () => 'number').join(', ')}] = null as any;\n`, 1);
  assert.deepEqual(result, { compileError: "type-check timed out after 1 ms (tsc's limit)" });
  assert.deepEqual(await checker.check('let ok: number = 1;\n', 15_000), { js: 'let ok = 1;\n' });
});
