/**
 * `openModel(name)`: from a model name (model-name.ts) to a ready backend. GGUF models go to the llama backend
 * (src/models/llama), which is imported only when one is asked for, so that servers and replays work without
 * node-llama-cpp installed.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelError } from './errors.js';
import { getFimFormat } from './fim-formats/index.js';
import { parseModelName, type ModelName } from './model-name.js';
import { createOpenAICompatibleBackend, type OpenAICompatibleBackendOptions } from './openai-compatible/index.js';
import { createReplayBackend } from './replay/index.js';
import type { ModelBackend } from './spec.js';

export interface OpenModelOptions {
  /** Construction options for server models (apiKey, maxConcurrency, timeoutMs, renderInfill, …). */
  server?: Omit<OpenAICompatibleBackendOptions, 'baseURL' | 'model' | 'flavor' | 'modelId'>;
  /** Construction options passed through to `createLlamaBackend` (src/models/llama) besides `modelPath`. */
  llama?: Record<string, unknown>;
  /**
   * A FIM family (`FIM_FAMILIES`, e.g. `qwen2.5-coder`) infill lays prompts out in. GGUF models: instead of the one
   * detected from the tokenizer. Servers: infill sends a prompt rendered in this format (with its stop strings)
   * instead of `suffix` or `/infill`, so servers without server-side infill (vLLM, SGLang) can infill; a
   * `server.renderInfill` wins. Ignored by replay. An unknown name is a `UsageError` listing the families. Default:
   * detected (GGUF), the server's own infill (servers).
   */
  fimFormat?: string;
  /** The embedded model's GGUF. Default: env `CODELOOP_EMBEDDED_MODEL`, else `EMBEDDED_MODEL_PATH` (models/codeloop-embedded.gguf). */
  embeddedModelPath?: string;
  /** Where `hf:` downloads are kept. Default `~/.cache/codeloop/models`. */
  modelsDirectory?: string;
  /** The Hugging Face hub (or a mirror) `hf:` names are downloaded from. Default node-llama-cpp's, https://huggingface.co/. */
  huggingFaceEndpoint?: string;
  /** Cancels a download or the server detection. */
  signal?: AbortSignal;
}

/**
 * Imports by a computed specifier: the module may not exist in this build, and tsc must not require it. Undefined
 * when `specifier` itself is missing; any other failure (a missing dependency of it, a syntax error) is rethrown.
 */
async function importOptional(specifier: string, name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(specifier)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if ((code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && (error as Error).message.includes(name))
      return undefined;
    throw new ModelError('model-load-failed', `loading ${specifier} failed: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

const LLAMA_MODULE = './llama/index.js';

/**
 * The embedded model's GGUF: models/codeloop-embedded.gguf at the package root (resolved from this file, which runs
 * from dist/src/models/, so it does not depend on the working directory). `CODELOOP_EMBEDDED_MODEL` overrides it.
 */
export const EMBEDDED_MODEL_PATH = fileURLToPath(new URL('../../../models/codeloop-embedded.gguf', import.meta.url));

async function openLlama(modelPath: string, modelId: string, options: OpenModelOptions): Promise<ModelBackend> {
  const llama = await importOptional(LLAMA_MODULE, 'llama/index.js');
  const create = llama?.createLlamaBackend;
  if (typeof create !== 'function') {
    throw new ModelError(
      'model-load-failed',
      `${modelId}: the in-process llama backend (src/models/llama) is not part of this build, so GGUF models cannot ` +
        `be run. Use a server model instead (ollama:MODEL, llama-server:URL, openai:MODEL@URL).`,
    );
  }
  const fimFormat = options.fimFormat === undefined ? {} : { fimFormat: options.fimFormat };
  return (await (create as (options: Record<string, unknown>) => Promise<ModelBackend> | ModelBackend)({
    ...options.llama,
    ...fimFormat,
    modelPath,
    modelId,
  })) as ModelBackend;
}

/** Downloads an `hf:` file once with node-llama-cpp's resolver (cached) and returns its path. */
async function resolveHuggingFace(
  name: Extract<ModelName, { kind: 'hf' }>,
  options: OpenModelOptions,
): Promise<string> {
  const fallback = `Download ${name.file} from https://huggingface.co/${name.owner}/${name.repo} yourself and use gguf:PATH.`;
  const nodeLlamaCpp = await importOptional('node-llama-cpp', "'node-llama-cpp'");
  const resolve = nodeLlamaCpp?.resolveModelFile;
  if (typeof resolve !== 'function') {
    throw new ModelError(
      'model-load-failed',
      `${name.uri}: downloading needs node-llama-cpp, which is not installed (npm install node-llama-cpp). ${fallback}`,
    );
  }
  const directory = options.modelsDirectory ?? join(homedir(), '.cache', 'codeloop', 'models');
  try {
    // Raced with the signal: with no route to the hub, node-llama-cpp's resolver can wait forever despite the signal.
    const download = (resolve as (uri: string, options: Record<string, unknown>) => Promise<string>)(name.uri, {
      directory,
      cli: false,
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      ...(options.huggingFaceEndpoint === undefined ? {} : { endpoints: { huggingFace: options.huggingFaceEndpoint } }),
    });
    download.catch(() => {});
    return await whileNotAborted(download, options.signal);
  } catch (error) {
    if (options.signal?.aborted === true) throw options.signal.reason;
    throw new ModelError(
      'model-not-found',
      `${name.uri}: could not download it into ${directory} (${(error as Error).message}). Check OWNER/REPO/FILE and ` +
        `the network. ${fallback}`,
      { cause: error },
    );
  }
}

/**
 * Opens the model `name` names (a string as in `parseModelName`, or its parsed form). Server models are checked
 * lazily (the first call fails if the server is down), except that an `openai:MODEL@URL` server is asked once which
 * server it is, to use its quirks.
 */
export async function openModel(name: string | ModelName, options: OpenModelOptions = {}): Promise<ModelBackend> {
  const parsed = typeof name === 'string' ? parseModelName(name) : name;
  // Checked before anything loads or downloads, so a typo fails at once.
  const fimFormat = options.fimFormat === undefined ? undefined : getFimFormat(options.fimFormat);
  const modelId = typeof name === 'string' ? name.trim() : canonicalName(parsed);
  switch (parsed.kind) {
    case 'gguf':
      if (!existsSync(parsed.path)) {
        throw new ModelError(
          'model-not-found',
          `${modelId}: no such file ${parsed.path}. Fix the path, or name a Hugging Face file as hf:OWNER/REPO/FILE.gguf to download it.`,
        );
      }
      return openLlama(parsed.path, modelId, options);
    case 'hf':
      return openLlama(await resolveHuggingFace(parsed, options), modelId, options);
    case 'embedded': {
      const fromEnv = process.env.CODELOOP_EMBEDDED_MODEL;
      const path =
        options.embeddedModelPath ?? (fromEnv === undefined || fromEnv === '' ? EMBEDDED_MODEL_PATH : fromEnv);
      if (!existsSync(path)) {
        const source =
          options.embeddedModelPath !== undefined
            ? 'embeddedModelPath'
            : path === EMBEDDED_MODEL_PATH
              ? 'the default, models/codeloop-embedded.gguf in the codeloop package'
              : 'CODELOOP_EMBEDDED_MODEL';
        throw new ModelError(
          'model-not-found',
          `the embedded model file ${path} (${source}) does not exist. Train and publish it with \`codeloop train all --run DIR\` then \`codeloop train publish --run DIR\` (writes models/codeloop-embedded.gguf), point CODELOOP_EMBEDDED_MODEL at a GGUF, or name another model (gguf:PATH, ollama:MODEL, …).`,
        );
      }
      return openLlama(path, modelId, options);
    }
    case 'replay':
      return createReplayBackend(parsed.path, { modelId });
    case 'server': {
      const rendered =
        fimFormat === undefined || options.server?.renderInfill !== undefined
          ? {}
          : {
              renderInfill: (prefix: string, suffix: string) => fimFormat.render({ prefix, suffix }),
              infillMode: 'render' as const,
              fimFamily: fimFormat.family,
            };
      const backend = createOpenAICompatibleBackend({
        ...options.server,
        ...rendered,
        baseURL: parsed.baseURL,
        model: parsed.model,
        flavor: parsed.flavor,
        modelId,
      });
      if (parsed.flavor === 'auto') await whileNotAborted(backend.detectFlavor(), options.signal);
      return backend;
    }
  }
}

/** Waits for `promise`, or rejects with the signal's reason if it aborts first. */
function whileNotAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  signal.throwIfAborted();
  let onAbort = (): void => {};
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
  });
  return Promise.race([promise, aborted]).finally(() => signal.removeEventListener('abort', onAbort));
}

/** The string form of a parsed name (for `modelId` when a parsed name is passed). */
export function canonicalName(name: ModelName): string {
  switch (name.kind) {
    case 'gguf':
      return `gguf:${name.path}`;
    case 'hf':
      return name.uri;
    case 'replay':
      return `replay:${name.path}`;
    case 'embedded':
      return 'embedded';
    case 'server':
      if (name.flavor === 'llama-server') return `llama-server:${name.baseURL}`;
      return `${name.flavor === 'auto' ? 'openai' : name.flavor}:${name.model}@${name.baseURL}`;
  }
}
