/**
 * The package as a user gets it: `npm pack`, then `npm install` of the tarball in an empty folder, then every entry
 * point in package.json's exports imported (and type-checked) from there and the `codeloop` bin run. The install uses
 * the npm cache first (`--prefer-offline`; the only network it may need is the npm registry).
 *
 * What this install leaves out, for time: optional dependencies (node-llama-cpp's prebuilt binaries, ~650 MB with the
 * CUDA and Vulkan builds, which copying alone makes this test slow) and, because of that, install scripts
 * (node-llama-cpp's postinstall would compile llama.cpp when it finds no prebuilt binary). Nothing here loads a model.
 * onnxruntime-node, whose install script downloads from outside npm, is an optional peer dependency: the test checks
 * that the install does not fetch it at all and that `codeloop train` names it when it is needed.
 */
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>;
  peerDependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};
const scratch = mkdtempSync(join(tmpdir(), 'codeloop-pack-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** One named export each entry point must have (a wrong or empty index fails here). */
const ENTRY_EXPORTS: Record<string, string> = {
  core: 'CodeloopError',
  sandbox: 'createExecutor',
  models: 'openModel',
  tasks: 'loadDataset',
  context: 'createContextCollector',
  fim: 'createCompletionEngine',
  eval: 'evaluateSamples',
  loop: 'solve',
  report: 'reportRun',
  train: 'trainRun',
  server: 'createHttpHandler',
  rewards: 'scoreBatch',
  export: 'exportSource',
  queue: 'createQueueExecutor',
};

function run(command: string, args: string[], cwd: string, timeout = 150_000): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', env: process.env, timeout });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  assert.equal(result.error, undefined, `${what}: ${result.error?.message}`);
  assert.equal(result.status, 0, `${what} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

test('every area with an index is exported as codeloop/<area>, with its types, and nothing else is', () => {
  const areas = readdirSync(join(root, 'src'))
    .filter((area) => area !== 'cli' && existsSync(join(root, 'src', area, 'index.ts')))
    .sort();
  const exported = Object.keys(manifest.exports)
    .filter((key) => key !== './package.json')
    .map((key) => key.slice(2))
    .sort();
  assert.deepEqual(exported, areas);
  for (const area of areas) {
    assert.deepEqual(manifest.exports[`./${area}`], {
      types: `./dist/src/${area}/index.d.ts`,
      default: `./dist/src/${area}/index.js`,
    });
    assert.ok(area in ENTRY_EXPORTS, `add a named export of codeloop/${area} to ENTRY_EXPORTS`);
  }
  assert.equal(manifest.peerDependenciesMeta['onnxruntime-node']?.optional, true);
});

test(
  'npm pack → npm install in an empty folder → import every entry point and run the codeloop bin',
  { timeout: 300_000 },
  () => {
    assert.ok(existsSync(join(root, 'dist', 'src', 'core', 'index.js')), 'build first: npx tsc -p tsconfig.json');
    const packed = JSON.parse(
      ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], root), 'npm pack'),
    ) as { filename: string; files: { path: string }[] }[];
    const tarball = join(scratch, packed[0]?.filename ?? '');
    const files = packed[0]?.files.map((file) => file.path) ?? [];
    assert.ok(files.includes('bin/codeloop.js') && files.includes('models/codeloop-embedded.gguf'));
    assert.equal(files.filter((path) => /\.test\.(js|d\.ts)/.test(path)).length, 0, 'unit tests are not shipped');

    const app = join(scratch, 'app');
    mkdirSync(app);
    writeFileSync(
      join(app, 'package.json'),
      '{"name": "app", "version": "1.0.0", "private": true, "type": "module"}\n',
    );
    ok(
      run(
        'npm',
        [
          'install',
          '--prefer-offline',
          '--omit=optional',
          '--ignore-scripts',
          '--no-audit',
          '--no-fund',
          '--no-package-lock',
          tarball,
          `@types/node@${manifest.devDependencies['@types/node']}`,
        ],
        app,
      ),
      'npm install of the tarball',
    );
    assert.ok(existsSync(join(app, 'node_modules', 'codeloop', 'dist', 'src', 'core', 'index.d.ts')));
    assert.equal(existsSync(join(app, 'node_modules', 'onnxruntime-node')), false, 'onnxruntime-node is optional');

    const areas = Object.keys(manifest.exports)
      .filter((key) => key !== './package.json')
      .map((key) => key.slice(2));
    const script = [
      `const expected = ${JSON.stringify(Object.fromEntries(areas.map((area) => [area, ENTRY_EXPORTS[area]])))};`,
      'for (const [area, name] of Object.entries(expected)) {',
      "  const module = await import('codeloop/' + area);",
      "  if (name !== '' && module[name] === undefined) throw new Error('codeloop/' + area + ' has no ' + name);",
      "  console.log(area + ' ' + Object.keys(module).length);",
      '}',
    ].join('\n');
    const imported = ok(
      run(process.execPath, ['--input-type=module', '-e', script], app),
      'importing the entry points',
    );
    for (const area of areas) assert.match(imported, new RegExp(`^${area} [1-9]`, 'm'));

    // The types resolve for a TypeScript consumer with @types/node (nodenext resolution reads the exports' types).
    writeFileSync(
      join(app, 'check.ts'),
      areas.map((area) => `import * as area_${area} from 'codeloop/${area}';\nvoid area_${area};\n`).join('') +
        "import type { CompletionEngine } from 'codeloop/fim';\nexport type Engine = CompletionEngine;\n",
    );
    const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc');
    ok(
      run(
        process.execPath,
        [
          tsc,
          '--noEmit',
          '--strict',
          '--skipLibCheck',
          '--module',
          'nodenext',
          '--moduleResolution',
          'nodenext',
          '--types',
          'node',
          'check.ts',
        ],
        app,
      ),
      'type-checking imports of every entry point',
    );

    const bin = join(app, 'node_modules', '.bin', 'codeloop');
    assert.match(ok(run(bin, ['--help'], app), 'codeloop --help'), /Usage: codeloop <command>/);
    const train = run(bin, ['train', 'run', '--run', join(scratch, 'train-run')], app);
    assert.equal(train.status, 1, train.stderr);
    const version = manifest.peerDependencies['onnxruntime-node'] ?? '';
    assert.match(
      train.stderr,
      new RegExp(
        `codeloop train: training \\(codeloop train\\) needs the npm package onnxruntime-node, which is not installed\\. ` +
          `Install it next to codeloop: npm install onnxruntime-node@${version.replace(/\./g, '\\.')}\\n`,
      ),
    );
  },
);
