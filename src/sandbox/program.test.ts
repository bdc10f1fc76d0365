import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLimits } from './limits.js';
import { prepareProgram, transpileTypeScript } from './program.js';

const context = { nodePath: '/usr/bin/node', cgroupMemory: true, runtimeDir: '/opt/codeloop/runtime' };

test('TypeScript is transpiled on the host; a syntax error never reaches the sandbox', () => {
  // No module syntax, so no "use strict" is added: the program keeps sloppy-mode semantics, as with plain tsc.
  assert.deepEqual(transpileTypeScript('const x: number = 1;\n'), { code: 'const x = 1;\n' });
  const broken = transpileTypeScript('const x: number = ;\n');
  assert.ok('compileError' in broken);
  assert.equal(broken.compileError, 'main.ts(1,19): error TS1109: Expression expected.');
});

test('a type-checked TypeScript request must arrive as the JavaScript tsc emitted (the executor checks it first)', () => {
  assert.throws(
    () =>
      prepareProgram(
        { language: 'typescript', code: 'let x = 1;', typeCheck: true },
        resolveLimits('typescript'),
        context,
      ),
    /type-checked TypeScript/,
  );
});

test('Node gets an address-space cap only when no cgroup limits its memory', () => {
  const limits = resolveLimits('javascript', { memoryMiB: 256 });
  const withCgroup = prepareProgram({ language: 'javascript', code: '' }, limits, context);
  const without = prepareProgram({ language: 'javascript', code: '' }, limits, { ...context, cgroupMemory: false });
  assert.ok('job' in withCgroup && 'job' in without);
  assert.equal(withCgroup.job.limits.addressSpaceBytes, 0);
  assert.equal(without.job.limits.addressSpaceBytes, (256 + 1024) * 1024 * 1024);
  assert.ok(withCgroup.job.argv?.includes('--max-old-space-size=256'));
});

test('transpileTypeScript: text that overflows the compiler stack is a compile error of that program', () => {
  const deep = transpileTypeScript(`const n = ${'!'.repeat(50_000)}1;\n`);
  assert.ok('compileError' in deep && /Maximum call stack size exceeded/.test(deep.compileError), JSON.stringify(deep));
});
