import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pruneTopLevel, pythonStatements, scriptStatements } from './prune-top-level.js';

function kinds(statements: ReturnType<typeof pythonStatements>): [string, string[], string][] | null {
  return statements?.map((statement) => [statement.kind, statement.names, statement.text]) ?? null;
}

test('pythonStatements: strings, brackets, continuations, clauses and decorators do not split a statement', () => {
  const code = [
    '#!/usr/bin/env python3',
    'import os, sys',
    'from math import (',
    '    sqrt,',
    ')',
    'TABLE = {',
    "    'a': 1,  # it's a comment with a quote",
    '}',
    'a, b = 1, \\',
    '    2',
    'limit: int = 3',
    'def f(x):',
    '    """Docstring with code at column 0:',
    'def g():',
    '    pass',
    '"""',
    '# a column-0 comment inside the body',
    "    return x + '#(' + r'\\'' ",
    '',
    '@decorator',
    '@other(1)',
    'async def h():',
    '    return 1',
    'class C:',
    '    def method(self):',
    '        return 2',
    'if a == 1:',
    '    print(a)',
    'else:',
    '    print(b)',
    'try:',
    '    import numpy',
    'except ImportError:',
    '    numpy = None',
    'a == b',
    '',
  ].join('\n');
  assert.deepEqual(
    kinds(pythonStatements(code))?.map(([kind, names, text]) => [kind, names, text.split('\n')[0]]),
    [
      ['other', [], '#!/usr/bin/env python3'],
      ['import', [], 'import os, sys'],
      ['import', [], 'from math import ('],
      ['definition', ['TABLE'], 'TABLE = {'],
      ['definition', ['a', 'b'], 'a, b = 1, \\'],
      ['definition', ['limit'], 'limit: int = 3'],
      ['definition', ['f'], 'def f(x):'],
      ['definition', ['h'], '@decorator'],
      ['definition', ['C'], 'class C:'],
      ['other', [], 'if a == 1:'],
      ['other', [], 'try:'],
      ['other', [], 'a == b'],
    ],
  );
  // Every line lands in exactly one statement.
  assert.equal(
    pythonStatements(code)
      ?.map((statement) => statement.text)
      .join(''),
    code,
  );
});

test('pythonStatements: code that ends inside a string or a bracket is not split (null)', () => {
  assert.equal(pythonStatements('def f():\n    """never closed\n'), null);
  assert.equal(pythonStatements('X = [1,\n'), null);
});

test('scriptStatements: declarations by name, export cut, comments travel with what follows, syntax errors give null', () => {
  const code = [
    "import { readFileSync } from 'node:fs';",
    '// Adds.',
    'export default function add(a: number, b: number): number {',
    '  return a + b;',
    '}',
    'export const { x, y: [z] } = { x: 1, y: [2] };',
    'interface Point { x: number }',
    'type Pair = [number, number];',
    'enum Color { Red }',
    'class Box {}',
    'console.log(add(1, 2));',
    'export { add as plus };',
    '',
  ].join('\n');
  const statements = scriptStatements(code, 'typescript');
  assert.deepEqual(
    statements?.map((statement) => [statement.kind, statement.names]),
    [
      ['import', []],
      ['definition', ['add']],
      ['definition', ['x', 'z']],
      ['definition', ['Point']],
      ['definition', ['Pair']],
      ['definition', ['Color']],
      ['definition', ['Box']],
      ['other', []],
      ['other', []],
    ],
  );
  assert.equal(statements?.[1]?.text, '\n// Adds.\nfunction add(a: number, b: number): number {\n  return a + b;\n}');
  assert.equal(statements?.[2]?.text, '\nconst { x, y: [z] } = { x: 1, y: [2] };');
  assert.equal(scriptStatements('function f( {', 'javascript'), null);
  assert.equal(scriptStatements('function f(): number {\n  return 1;\n', 'typescript'), null);
});

test('pruneTopLevel keeps imports and what the roots reach; null when nothing required is defined', () => {
  const code =
    'import re\n\nCACHE = {}\nUNUSED = 1\n\ndef helper(s):\n    return CACHE.get(s, s)\n\ndef f(s):\n    return helper(s)\n\nprint(f("x"))\n';
  assert.equal(
    pruneTopLevel(code, 'python', new Set(['f']), new Set(['f'])),
    'import re\n\nCACHE = {}\ndef helper(s):\n    return CACHE.get(s, s)\n\ndef f(s):\n    return helper(s)\n',
  );
  assert.equal(pruneTopLevel(code, 'python', new Set(['g']), new Set(['g'])), null);
  const script =
    "const assert = require('assert');\nfunction f() { return g(); }\nfunction g() { return 1; }\nassert.equal(f(), 1);\n";
  assert.equal(
    pruneTopLevel(script, 'javascript', new Set(['f']), new Set(['f'])),
    'function f() { return g(); }\nfunction g() { return 1; }\n',
  );
});

test('scriptStatements: text nested deeply enough to overflow the parser is unusable (null), not a crash', () => {
  assert.equal(scriptStatements(`const n = ${'!'.repeat(50_000)}1;\n`, 'typescript'), null);
});
