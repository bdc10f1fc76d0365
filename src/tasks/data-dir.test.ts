import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  DatasetChecksumError,
  DatasetDownloadError,
  downloadDataset,
  readDatasetFile,
  resolveDataDir,
} from './data-dir.js';
import { DATASETS, DATASET_NAMES } from './datasets.js';
import { sharedDatasets } from '../../test/tasks/shared-datasets.js';

const shared = sharedDatasets();
const HUMAN_EVAL_URL =
  'https://raw.githubusercontent.com/openai/human-eval/6d43fb980f9fee3c892a914eda09951f772ad10d/data/HumanEval.jsonl.gz';
const HUMAN_EVAL_SHA = 'b796127e635a67f93fb35c04f4cb03cf06f38c8072ee7cee8833d7bee06979ef';

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), 'codeloop-data-dir-'));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function sha256(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

test('the data directory comes from the option, then CODELOOP_DATA_DIR', (t) => {
  const first = temporaryDirectory(t);
  const second = temporaryDirectory(t);
  assert.equal(resolveDataDir({ dataDir: first, env: { CODELOOP_DATA_DIR: second } }), first);
  assert.equal(resolveDataDir({ env: { CODELOOP_DATA_DIR: second } }), second);
});

test('no data directory: the error names the flag, the env var and ../shared/datasets', () => {
  assert.throws(() => resolveDataDir({ env: {} }), {
    name: 'UsageError',
    message:
      'No data directory for the datasets: pass --data-dir DIR or set CODELOOP_DATA_DIR=DIR to a folder with the dataset files (in this workspace they are in ../shared/datasets).',
  });
});

test('a data directory that does not exist is named with where it came from', () => {
  assert.throws(() => resolveDataDir({ env: { CODELOOP_DATA_DIR: '/nonexistent/codeloop-data' } }), {
    name: 'UsageError',
    message:
      /^The data directory \/nonexistent\/codeloop-data \(from CODELOOP_DATA_DIR\) does not exist or is not a directory: pass --data-dir DIR/,
  });
  assert.throws(() => resolveDataDir({ dataDir: '/nonexistent/codeloop-data' }), { message: /\(from --data-dir\)/ });
});

test('every pinned sha256 matches the file in the shared data directory', { skip: shared.skip }, () => {
  for (const name of DATASET_NAMES) {
    for (const file of DATASETS[name].files) {
      assert.equal(sha256(readFileSync(join(shared.dataDir, file.path))), file.sha256, `${name}: ${file.path}`);
    }
  }
});

test('every file but the generated ones (MultiPL-E, CWEval tasks.jsonl) has a raw URL pinned to a commit', () => {
  for (const name of DATASET_NAMES) {
    for (const file of DATASETS[name].files) {
      if (file.path.startsWith('multipl-e/') || file.path === 'cweval/tasks.jsonl')
        assert.equal('url' in file, false, file.path);
      else
        assert.match(
          (file as { url?: string }).url ?? '',
          /^https:\/\/raw\.githubusercontent\.com\/[\w.-]+\/[\w.-]+\/[0-9a-f]{40}\//,
          file.path,
        );
    }
  }
});

test('a checksum mismatch names the file, the expected and the actual digest, and where the right file is', async (t) => {
  const directory = temporaryDirectory(t);
  mkdirSync(join(directory, 'humaneval'));
  const path = join(directory, 'humaneval', 'HumanEval.jsonl.gz');
  writeFileSync(path, 'not the real file');
  await assert.rejects(
    readDatasetFile('humaneval', 'humaneval/HumanEval.jsonl.gz', { dataDir: directory }),
    (error: unknown) => {
      assert.ok(error instanceof DatasetChecksumError);
      assert.equal(error.code, 'dataset-checksum');
      assert.equal(
        error.message,
        `Checksum mismatch for ${path}: expected sha256 ${HUMAN_EVAL_SHA}, got ${sha256('not the real file')}. ` +
          `The file is damaged or another version; replace it with the pinned one. It is published at ${HUMAN_EVAL_URL}.`,
      );
      return true;
    },
  );
});

test('verifyChecksums: false reads a different copy', async (t) => {
  const directory = temporaryDirectory(t);
  mkdirSync(join(directory, 'humaneval'));
  writeFileSync(join(directory, 'humaneval', 'HumanEval.jsonl.gz'), gzipSync('{"task_id": "x"}\n'));
  const file = await readDatasetFile('humaneval', 'humaneval/HumanEval.jsonl.gz', {
    dataDir: directory,
    verifyChecksums: false,
  });
  assert.equal(file.text, '{"task_id": "x"}\n');
});

test('a missing file names the path, the dataset and where to get it', async (t) => {
  const directory = temporaryDirectory(t);
  await assert.rejects(readDatasetFile('humaneval', 'humaneval/HumanEval.jsonl.gz', { dataDir: directory }), {
    name: 'UsageError',
    message:
      `Dataset file ${join(directory, 'humaneval/HumanEval.jsonl.gz')} (dataset "humaneval") could not be read (ENOENT). ` +
      `Put humaneval/HumanEval.jsonl.gz under the data directory ${directory}. It is published at ${HUMAN_EVAL_URL}.`,
  });
});

test('offline, a download fails with a retryable error that says how to use a data directory instead', async (t) => {
  const offline = (() =>
    Promise.reject(
      new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND raw.githubusercontent.com') }),
    )) as typeof fetch;
  await assert.rejects(
    downloadDataset('humaneval', { cacheDir: temporaryDirectory(t), fetch: offline }),
    (error: unknown) => {
      assert.ok(error instanceof DatasetDownloadError);
      assert.equal(error.retryable, true);
      assert.equal(error.url, HUMAN_EVAL_URL);
      assert.equal(
        error.message,
        `Could not download ${HUMAN_EVAL_URL} (fetch failed: getaddrinfo ENOTFOUND raw.githubusercontent.com). Without network access, ` +
          'pass --data-dir DIR or set CODELOOP_DATA_DIR=DIR to a folder with the dataset files (in this workspace they are in ../shared/datasets).',
      );
      return true;
    },
  );
});

test('an HTTP error is a download error; 404 is not retryable', async (t) => {
  const notFound = (() =>
    Promise.resolve(new Response('no', { status: 404, statusText: 'Not Found' }))) as typeof fetch;
  await assert.rejects(downloadDataset('humaneval', { cacheDir: temporaryDirectory(t), fetch: notFound }), {
    name: 'DatasetDownloadError',
    retryable: false,
    message: new RegExp(`^Could not download ${HUMAN_EVAL_URL}: HTTP 404 Not Found\\. Without network access`),
  });
});

test('downloaded bytes that are not the pinned ones are rejected and nothing is written', async (t) => {
  const cacheDir = temporaryDirectory(t);
  const wrong = (() => Promise.resolve(new Response('tampered'))) as typeof fetch;
  await assert.rejects(downloadDataset('humaneval', { cacheDir, fetch: wrong }), {
    name: 'DatasetChecksumError',
    message: `Checksum mismatch for ${HUMAN_EVAL_URL}: expected sha256 ${HUMAN_EVAL_SHA}, got ${sha256('tampered')}. The server sent different bytes than the pinned version; nothing was written. Report this as a codeloop issue.`,
  });
  assert.equal(existsSync(join(cacheDir, 'humaneval')), false);
});

test(
  'a verified download lands in the cache, is reused, and loads with download: true',
  { skip: shared.skip },
  async (t) => {
    const cacheDir = temporaryDirectory(t);
    const bytes = readFileSync(join(shared.dataDir, 'humaneval', 'HumanEval.jsonl.gz'));
    const requested: string[] = [];
    const serve = ((url: string) => {
      requested.push(url);
      return Promise.resolve(new Response(bytes));
    }) as typeof fetch;
    assert.equal(await downloadDataset('humaneval', { cacheDir, fetch: serve }), cacheDir);
    assert.equal(sha256(readFileSync(join(cacheDir, 'humaneval', 'HumanEval.jsonl.gz'))), HUMAN_EVAL_SHA);
    const file = await readDatasetFile('humaneval', 'humaneval/HumanEval.jsonl.gz', {
      env: {},
      download: true,
      cacheDir,
      fetch: serve,
    });
    assert.equal(file.sha256, HUMAN_EVAL_SHA);
    assert.deepEqual(requested, [HUMAN_EVAL_URL]);
  },
);

test('MultiPL-E files have no public URL: downloading says how to obtain them', async (t) => {
  await assert.rejects(downloadDataset('multipl-e-humaneval-ts', { cacheDir: temporaryDirectory(t) }), {
    name: 'UsageError',
    message:
      /^Dataset "multipl-e-humaneval-ts" cannot be downloaded: multipl-e\/humaneval-ts-reworded\.jsonl has no public URL\. These files were generated, not copied/,
  });
});

test('an aborted download rethrows the abort reason unchanged', async (t) => {
  const controller = new AbortController();
  const reason = new Error('user cancelled');
  const hang = ((_url: string, init?: RequestInit) =>
    new Promise((_resolve, reject) =>
      init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
    )) as typeof fetch;
  const pending = downloadDataset('humaneval', {
    cacheDir: temporaryDirectory(t),
    fetch: hang,
    signal: controller.signal,
  });
  controller.abort(reason);
  await assert.rejects(pending, (error: unknown) => error === reason);
});

test('a missing MultiPL-E file says how to obtain it (no URL)', async (t) => {
  const directory = temporaryDirectory(t);
  await assert.rejects(
    readDatasetFile('multipl-e-humaneval-ts', 'multipl-e/humaneval-ts-reworded.jsonl', { dataDir: directory }),
    {
      name: 'UsageError',
      message:
        `Dataset file ${join(directory, 'multipl-e/humaneval-ts-reworded.jsonl')} (dataset "multipl-e-humaneval-ts") could not be read (ENOENT). ` +
        `Put multipl-e/humaneval-ts-reworded.jsonl under the data directory ${directory}. These files were generated, not copied, so no URL serves ` +
        'these exact bytes: copy the multipl-e/ folder from a machine that has it (here: ../shared/datasets/multipl-e), or regenerate it as its SOURCE.md describes.',
    },
  );
});
