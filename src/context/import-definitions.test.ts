import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  candidateModulePaths,
  findImportedSymbols,
  importHeader,
  resolveModule,
  topLevelDefinitions,
} from './import-definitions.js';
import { loadSyntaxParser, syntaxLanguageFor } from './syntax-parser.js';

test('Python imports: from-imports with aliases and relative modules; plain imports are skipped', async () => {
  const parser = await loadSyntaxParser('python');
  assert.deepEqual(
    findImportedSymbols(parser, 'import os\nfrom os.path import join as j, exists\nfrom ..core import Base\n'),
    [
      { name: 'join', module: 'os.path' },
      { name: 'exists', module: 'os.path' },
      { name: 'Base', module: '..core' },
    ],
  );
  assert.deepEqual(candidateModulePaths('python', '..core', 'pkg/sub/mod.py').slice(0, 2), [
    'pkg/core.py',
    'pkg/core/__init__.py',
  ]);
  assert.equal(
    resolveModule('python', 'lib.shapes', 'app.py', [{ path: 'src/lib/shapes.py', text: '' }])?.path,
    'src/lib/shapes.py',
  );
});

test('JavaScript/TypeScript imports and top-level definitions', async () => {
  const parser = await loadSyntaxParser('typescript');
  assert.deepEqual(
    findImportedSymbols(
      parser,
      "import fs from 'node:fs';\nimport { a, b as c } from './x.js';\nimport * as ns from './y';\n",
    ),
    [
      { name: 'default', module: 'node:fs' },
      { name: 'a', module: './x.js' },
      { name: 'b', module: './x.js' },
    ],
  );
  const definitions = topLevelDefinitions(
    parser,
    'export default class Foo {}\nconst x = 1, y = 2;\ntype T = string;\nexport enum E { A }\n',
  );
  assert.deepEqual([...definitions.keys()], ['default', 'Foo', 'x', 'y', 'T', 'E']);
  assert.equal(syntaxLanguageFor('typescriptreact'), 'tsx');
  assert.equal(syntaxLanguageFor(undefined, 'a/b.mjs'), 'javascript');
  assert.equal(syntaxLanguageFor('rust', 'main.rs'), undefined);
});

test('importHeader keeps only top-level imports, multi-line ones whole', async () => {
  const text =
    'import os\nfrom pkg.mod import (\n    a,\n    b,\n)\n\ndef f():\n    import json\n    return a\nfrom late import c\n';
  assert.equal(importHeader(text), 'import os\nfrom pkg.mod import (\n    a,\n    b,\n)\nfrom late import c');
  const parser = await loadSyntaxParser('python');
  assert.deepEqual(
    findImportedSymbols(parser, importHeader(text)).map((symbol) => symbol.name),
    ['a', 'b', 'c'],
  );
  assert.equal(
    importHeader("import {\n  x,\n} from './x.js';\nexport { y } from './y.js';\nconst z = 1;"),
    "import {\n  x,\n} from './x.js';\nexport { y } from './y.js';",
  );
});
