import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { CodeloopError, UsageError } from '../core/index.js';
import { DATASETS, type DatasetFileSpec, type DatasetName, type DatasetSpec } from './datasets.js';

/** Environment variable naming the data directory (the `--data-dir` flag wins over it). */
export const DATA_DIR_ENV = 'CODELOOP_DATA_DIR';

/** Where `downloadDataset` puts files by default. */
export const DEFAULT_CACHE_DIR = join(homedir(), '.cache', 'codeloop', 'datasets');

export interface DataDirOptions {
  /**
   * Folder holding the dataset files laid out as in `DATASETS` (`humaneval/HumanEval.jsonl.gz`, …): the `--data-dir`
   * flag. Default: the `CODELOOP_DATA_DIR` environment variable.
   */
  dataDir?: string;
  /** Environment to read `CODELOOP_DATA_DIR` from. Default: `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface DownloadOptions {
  /** Folder the files are downloaded into, laid out like a data directory. Default `~/.cache/codeloop/datasets`. */
  cacheDir?: string;
  /** The `fetch` to use. Default: the global `fetch` (tests pass their own). */
  fetch?: typeof globalThis.fetch;
  signal?: AbortSignal;
}

export interface LoadDatasetOptions extends DataDirOptions, DownloadOptions {
  /**
   * When neither `dataDir` nor `CODELOOP_DATA_DIR` is set, use the download cache, fetching missing files from their
   * public URL (checksum-verified). Default false: without a data directory loading fails with a message saying how to
   * set one.
   */
  download?: boolean;
  /**
   * Check each file against its pinned SHA-256. Default true; turn it off only to load a deliberately different copy
   * (results are then not comparable with published ones).
   */
  verifyChecksums?: boolean;
}

/** One dataset file as read: where it was, its digest, and its text (decompressed for .gz). */
export interface DatasetFileContents {
  /** Absolute path it was read from. */
  path: string;
  sha256: string;
  text: string;
}

/** A file's bytes are not the pinned ones. */
export class DatasetChecksumError extends CodeloopError {
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly actual: string,
    fix: string,
  ) {
    super('dataset-checksum', `Checksum mismatch for ${path}: expected sha256 ${expected}, got ${actual}. ${fix}`);
    this.name = 'DatasetChecksumError';
  }
}

/** A dataset file could not be downloaded. `retryable` is true for network failures and 5xx/429 answers. */
export class DatasetDownloadError extends CodeloopError {
  constructor(
    readonly url: string,
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super('dataset-download', message, options);
    this.name = 'DatasetDownloadError';
  }
}

const HOW_TO_SET =
  `pass --data-dir DIR or set ${DATA_DIR_ENV}=DIR to a folder with the dataset files ` +
  '(in this workspace they are in ../shared/datasets)';

/** The spec of a known dataset, typed plainly. */
export function datasetSpec(name: DatasetName): DatasetSpec {
  return DATASETS[name];
}

/**
 * The data directory: `options.dataDir` (the `--data-dir` flag), else `CODELOOP_DATA_DIR`, else a UsageError that says
 * how to set one. A directory that does not exist is a UsageError naming where the value came from.
 */
export function resolveDataDir(options: DataDirOptions = {}): string {
  const fromOption = options.dataDir !== undefined && options.dataDir !== '';
  const value = fromOption ? options.dataDir : (options.env ?? process.env)[DATA_DIR_ENV];
  if (value === undefined || value === '') {
    throw new UsageError(`No data directory for the datasets: ${HOW_TO_SET}.`);
  }
  const source = fromOption ? '--data-dir' : DATA_DIR_ENV;
  const directory = resolve(value);
  if (!existsSync(directory) || !statSync(directory).isDirectory()) {
    throw new UsageError(
      `The data directory ${directory} (from ${source}) does not exist or is not a directory: ${HOW_TO_SET}.`,
    );
  }
  return directory;
}

function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

function findFile(name: DatasetName, relativePath: string): DatasetFileSpec {
  const file = datasetSpec(name).files.find((candidate) => candidate.path === relativePath);
  if (file === undefined) throw new Error(`codeloop bug: dataset ${name} has no file ${relativePath} in DATASETS`);
  return file;
}

/** One sentence, without its final period, on where the right copy of `file` comes from. */
function whereToGet(file: DatasetFileSpec, spec: DatasetSpec): string {
  return file.url !== undefined
    ? `It is published at ${file.url}`
    : (spec.obtain ?? 'It has no public URL').replace(/\.$/, '');
}

/**
 * Reads one file of a dataset from the data directory (or the download cache, see `download`), verifies its checksum,
 * decompresses .gz and decodes UTF-8. Errors name the file, the dataset and how to get the right file.
 */
export async function readDatasetFile(
  name: DatasetName,
  relativePath: string,
  options: LoadDatasetOptions = {},
): Promise<DatasetFileContents> {
  const { download = false, verifyChecksums = true } = options;
  const file = findFile(name, relativePath);
  const spec = datasetSpec(name);
  const hasDataDir = (options.dataDir ?? '') !== '' || ((options.env ?? process.env)[DATA_DIR_ENV] ?? '') !== '';
  const directory = !hasDataDir && download ? await downloadDataset(name, options) : resolveDataDir(options);
  const path = join(directory, file.path);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new UsageError(
      `Dataset file ${path} (dataset "${name}") could not be read (${(error as NodeJS.ErrnoException).code ?? String(error)}). ` +
        `Put ${file.path} under the data directory ${directory}. ${whereToGet(file, spec)}.`,
      { cause: error },
    );
  }
  const actual = sha256Hex(bytes);
  if (verifyChecksums && actual !== file.sha256) {
    throw new DatasetChecksumError(
      path,
      file.sha256,
      actual,
      `The file is damaged or another version; replace it with the pinned one. ${whereToGet(file, spec)}.`,
    );
  }
  let text: string;
  try {
    const raw = file.path.endsWith('.gz') ? gunzipSync(bytes) : bytes;
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch (error) {
    throw new UsageError(
      `Dataset file ${path} is not valid ${file.path.endsWith('.gz') ? 'gzip-compressed ' : ''}UTF-8 text: ${String(error)}`,
      {
        cause: error,
      },
    );
  }
  return { path, sha256: actual, text };
}

/**
 * Downloads the files of a dataset that are not already in the cache, verifying each against its pinned SHA-256 before
 * it is moved into place (a half-written or wrong file never lands in the cache). Returns the cache directory, usable as
 * a data directory. Files without a public URL (MultiPL-E) are a UsageError saying how to obtain them.
 */
export async function downloadDataset(name: DatasetName, options: DownloadOptions = {}): Promise<string> {
  const { cacheDir = DEFAULT_CACHE_DIR, fetch: fetchImplementation = globalThis.fetch, signal } = options;
  const spec = datasetSpec(name);
  for (const file of spec.files) {
    const target = join(cacheDir, file.path);
    if (existsSync(target) && sha256Hex(await readFile(target)) === file.sha256) continue;
    if (file.url === undefined) {
      throw new UsageError(
        `Dataset "${name}" cannot be downloaded: ${file.path} has no public URL. ${spec.obtain ?? ''} Then ${HOW_TO_SET}.`,
      );
    }
    const bytes = await fetchBytes(file.url, fetchImplementation, signal);
    const actual = sha256Hex(bytes);
    if (actual !== file.sha256) {
      throw new DatasetChecksumError(
        file.url,
        file.sha256,
        actual,
        'The server sent different bytes than the pinned version; nothing was written. Report this as a codeloop issue.',
      );
    }
    await mkdir(dirname(target), { recursive: true });
    const partial = `${target}.${process.pid}.partial`;
    try {
      await writeFile(partial, bytes);
      await rename(partial, target);
    } finally {
      await rm(partial, { force: true });
    }
  }
  return cacheDir;
}

async function fetchBytes(
  url: string,
  fetchImplementation: typeof globalThis.fetch,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  const offline = `Without network access, ${HOW_TO_SET}.`;
  let response: Response;
  try {
    response = await fetchImplementation(url, signal === undefined ? {} : { signal });
  } catch (error) {
    // An abort is the caller's decision, not a download failure: rethrow its reason unchanged.
    if (signal?.aborted) throw signal.reason;
    const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
    throw new DatasetDownloadError(
      url,
      `Could not download ${url} (${String(error instanceof Error ? error.message : error)}${cause}). ${offline}`,
      true,
      { cause: error },
    );
  }
  if (!response.ok) {
    const retryable = response.status === 429 || response.status >= 500;
    throw new DatasetDownloadError(
      url,
      `Could not download ${url}: HTTP ${response.status} ${response.statusText}. ${offline}`,
      retryable,
    );
  }
  try {
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw new DatasetDownloadError(url, `Download of ${url} broke off (${String(error)}). ${offline}`, true, {
      cause: error,
    });
  }
}
