import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { MAX_COMPILE_ERROR_BYTES, createTypeChecker } from './type-check.js';

const checker = createTypeChecker(1);
after(() => checker.close());

test('a well-typed program compiles to what tsc --target esnext emits', async () => {
  const result = await checker.check(
    'function add(a: number, b: number): number {\n  return a + b;\n}\nconsole.log(add(1, 2));\n',
    { timeoutMs: 15_000 },
  );
  assert.deepEqual(result, { js: 'function add(a, b) {\n    return a + b;\n}\nconsole.log(add(1, 2));\n' });
});

test("type errors come back in tsc's format, path relative to the program's folder", async () => {
  const result = await checker.check('const n: number = "one";\nconst s: string = 2;\n', { timeoutMs: 15_000 });
  assert.deepEqual(result, {
    compileError:
      "main.ts(1,7): error TS2322: Type 'string' is not assignable to type 'number'.\nmain.ts(2,7): error TS2322: Type 'number' is not assignable to type 'string'.",
  });
});

test('the default lib is esnext with the DOM, and no @types are included (an empty folder, as MultiPL-E runs tsc)', async () => {
  assert.ok(
    'js' in
      (await checker.check(
        'const m = new Map<string, number>();\nconst u = [1, 2].at(-1);\nconst d: Document | undefined = undefined;\n',
        { timeoutMs: 15_000 },
      )),
  );
  const node = await checker.check("import { readFileSync } from 'fs';\nreadFileSync('x');\n", { timeoutMs: 15_000 });
  assert.ok('compileError' in node);
  // What tsc --target esnext prints in an empty folder, checked against the real command.
  assert.equal(
    node.compileError,
    "main.ts(1,30): error TS2792: Cannot find module 'fs'. Did you mean to set the 'moduleResolution' option to 'nodenext', or to add aliases to the 'paths' option?",
  );
  // MultiPL-E's programs declare require themselves.
  assert.ok(
    'js' in
      (await checker.check(
        "declare var require: any;\nconst assert = require('node:assert');\nassert.deepEqual(1, 1);\n",
        { timeoutMs: 15_000 },
      )),
  );
});

test('references to files of the host are never read: they resolve to nothing', async () => {
  for (const code of [
    '/// <reference path="/etc/passwd" />\nlet x = 1;\n',
    "import x from '/etc/passwd';\nlet y = x;\n",
    '/// <reference path="../../../../../etc/hostname" />\nlet z = 1;\n',
  ]) {
    const result = await checker.check(code, { timeoutMs: 15_000 });
    assert.ok('compileError' in result, code);
    assert.doesNotMatch(result.compileError, /root:|Unexpected|Invalid character/, 'the file was not parsed');
    assert.match(result.compileError, /TS6231: Could not resolve the path|TS2792: Cannot find module/);
  }
});

test('a check that outlasts its limit is a compile error; the thread is replaced and the next check works', async () => {
  // A program, a lib lookup and a message round trip take well over a millisecond.
  const result = await checker.check(
    `let big: [${Array.from({ length: 2000 }, () => 'number').join(', ')}] = null as any;\n`,
    { timeoutMs: 1 },
  );
  assert.deepEqual(result, { compileError: "type-check timed out after 1 ms (tsc's limit)" });
  assert.deepEqual(await checker.check('let ok: number = 1;\n', { timeoutMs: 15_000 }), { js: 'let ok = 1;\n' });
});

test('a replaced thread warms up before it takes a program: a slow program never gets more than its own limit', async () => {
  // Review finding F1: a fresh thread's first check used to get a minute's grace, so after a time-out the next slow
  // program ran for a minute. Both checks must end at their own limit.
  const slow = `type Rec<N extends number, A extends unknown[] = []> = A['length'] extends N ? A : Rec<N, [...A, unknown]>;\n${Array.from({ length: 200 }, (_, i) => `type X${i} = Rec<${999 - i}>;`).join('\n')}\nconst x: number = 1;\n`;
  for (const attempt of [1, 2]) {
    const started = Date.now();
    const result = await checker.check(slow, { timeoutMs: 500 });
    assert.deepEqual(result, { compileError: "type-check timed out after 500 ms (tsc's limit)" }, `attempt ${attempt}`);
    assert.ok(
      Date.now() - started < 60_000,
      `attempt ${attempt} waited for a warm-up, but its own limit was what ended it`,
    );
  }
});

test('errors tsc reports inside a lib file, when the program merges declarations into it, fail the program too', async () => {
  // Review finding F2, each checked against tsc --target esnext in an empty folder (it reports TS2430 in lib.dom.d.ts).
  const merged = await checker.check('interface HTMLElement { id: number }\nconst x = 1;\n', { timeoutMs: 60_000 });
  assert.ok('compileError' in merged);
  assert.match(
    merged.compileError,
    /^lib\.dom\.d\.ts\(9767,11\): error TS2430: Interface 'Document' incorrectly extends interface 'NonElementParentNode'\./,
  );
  // A merge that is fine stays fine, and a module's interface is its own.
  assert.ok(
    'js' in
      (await checker.check('interface Array<T> { codeloopExtra?: number }\nconst y = [1].length;\n', {
        timeoutMs: 60_000,
      })),
  );
  assert.ok('js' in (await checker.check('export interface HTMLElement { id: number }\n', { timeoutMs: 15_000 })));
});

test("messages as tsc prints them: syntax errors alone, sorted and de-duplicated, require's hint to install @types/node", async () => {
  assert.deepEqual(await checker.check('let x: number = "a";\nlet y = ;\n', { timeoutMs: 15_000 }), {
    compileError: 'main.ts(2,9): error TS1109: Expression expected.',
  });
  const requireUse = await checker.check("const fs = require('fs');\n", { timeoutMs: 15_000 });
  assert.ok('compileError' in requireUse);
  assert.match(
    requireUse.compileError,
    /^main\.ts\(1,12\): error TS2580: Cannot find name 'require'\. Do you need to install type definitions for node\?/,
  );
});

test("the request's other files are beside main.ts; a flood of errors is cut to head and tail", async () => {
  assert.deepEqual(
    await checker.check('/// <reference path="helper.ts" />\nconst n: number = helperValue;\n', {
      timeoutMs: 15_000,
      files: { 'helper.ts': 'declare const helperValue: number;\n' },
    }),
    {
      js: '/// <reference path="helper.ts" />\nconst n = helperValue;\n',
    },
  );
  const flood = await checker.check(Array.from({ length: 20_000 }, (_, i) => `const v${i}: number = "x";`).join('\n'), {
    timeoutMs: 60_000,
  });
  assert.ok('compileError' in flood);
  assert.ok(Buffer.byteLength(flood.compileError) <= MAX_COMPILE_ERROR_BYTES + 200);
  assert.match(flood.compileError, /characters of tsc's output left out/);
  assert.match(flood.compileError, /^main\.ts\(1,7\)/);
});

test('an aborted check leaves the queue and rejects with the reason', async () => {
  const controller = new AbortController();
  const busy = checker.check('let a = 1;\n', { timeoutMs: 15_000 });
  const waiting = checker.check('let b = 1;\n', { timeoutMs: 15_000, signal: controller.signal });
  controller.abort(new Error('stop'));
  await assert.rejects(waiting, /stop/);
  assert.ok('js' in (await busy));
});
