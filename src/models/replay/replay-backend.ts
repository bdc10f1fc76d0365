/**
 * Serves completions recorded in a samples file, so a pipeline can be re-run deterministically without a model.
 *
 * The file is JSONL, one generated sample per line, as `codeloop generate` writes it (src/loop/generate-samples.ts):
 *
 * ```json
 * {"task_id": "HumanEval/0", "completion": "    return 1\n", "prompt": "def f():\n", "finish_reason": "stop",
 *  "usage": {"prompt_tokens": 5, "completion_tokens": 3}, "model": "…", "style": "base"}
 * ```
 *
 * - `prompt` (required for replay): the raw prompt of `complete`; the prefix of `infill` (with `suffix`); for
 *   `style: "chat"` the chat messages as JSON (`[{"role": "user", "content": "…"}]`).
 * - `suffix`: present for infilling samples only.
 * - `completion`: the text served. `finish_reason` (`stop`/`length`), `usage.prompt_tokens` and (for a completion
 *   served whole, not cut by a stop sequence or maxTokens) `usage.completion_tokens` are served when present.
 *
 * A call is matched by its exact prompt text (prefix and suffix for infill, role and content of each message for
 * chat). Several lines with the same prompt are served in file order, one per choice, across calls; when they run
 * out they are served again from the first, with a warning. A prompt that is not recorded fails with code
 * `prompt-not-recorded`, naming the file and the closest recorded prompt.
 */
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { ModelError } from '../errors.js';
import type { ChatMessage, ModelBackend } from '../spec.js';
import { createTextBackend, type GenerationRequest } from '../text-backend.js';

/** One line of a samples file, as far as replay reads it. */
export interface RecordedSample {
  task_id: string;
  completion: string;
  prompt?: string;
  suffix?: string;
  style?: string;
  finish_reason?: string;
  usage?: { prompt_tokens?: number; completion_tokens?: number };
  model?: string;
}

interface Entry {
  sample: RecordedSample;
  line: number;
}

const chatKey = (messages: readonly ChatMessage[]): string =>
  JSON.stringify(messages.map(({ role, content }) => ({ role, content })));

/** The lookup key of a request; the same function keys the recorded lines. */
function requestKey(request: GenerationRequest): string {
  if (request.kind === 'chat') return `chat\u0000${chatKey(request.messages)}`;
  if (request.kind === 'infill') return `infill\u0000${request.prefix}\u0000${request.suffix}`;
  return `complete\u0000${request.prompt}`;
}

function sampleKey(sample: RecordedSample, where: string): string | undefined {
  if (sample.prompt === undefined) return undefined;
  if (sample.style === 'chat') {
    let messages: unknown;
    try {
      messages = JSON.parse(sample.prompt);
    } catch (error) {
      throw new ModelError(
        'model-load-failed',
        `${where}: style is "chat" but "prompt" is not the chat messages as JSON (${(error as Error).message}).`,
        { cause: error },
      );
    }
    if (!Array.isArray(messages))
      throw new ModelError(
        'model-load-failed',
        `${where}: style is "chat" but "prompt" is not a JSON array of messages.`,
      );
    return `chat\u0000${chatKey(messages as ChatMessage[])}`;
  }
  if (sample.suffix !== undefined) return `infill\u0000${sample.prompt}\u0000${sample.suffix}`;
  return `complete\u0000${sample.prompt}`;
}

function describe(request: GenerationRequest): string {
  const preview = (text: string): string => JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}…` : text);
  if (request.kind === 'chat') return `chat prompt ${preview(chatKey(request.messages))}`;
  if (request.kind === 'infill')
    return `infill prefix ${preview(request.prefix)} with suffix ${preview(request.suffix)}`;
  return `prompt ${preview(request.prompt)}`;
}

/** Reads and indexes a samples file. Errors name the file and line. */
async function loadSamples(samplesFile: string): Promise<Map<string, Entry[]>> {
  let buffer: Buffer;
  try {
    buffer = await readFile(samplesFile);
  } catch (error) {
    throw new ModelError(
      'model-not-found',
      `replay: cannot read the samples file ${samplesFile} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}). Record one with \`codeloop generate --model M --dataset D --out ${samplesFile}\`.`,
      { cause: error },
    );
  }
  const text = (samplesFile.endsWith('.gz') ? gunzipSync(buffer) : buffer).toString('utf8');
  const byKey = new Map<string, Entry[]>();
  let withoutPrompt = 0;
  let lines = 0;
  for (const [index, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    lines++;
    const where = `${samplesFile}:${index + 1}`;
    let sample: RecordedSample;
    try {
      sample = JSON.parse(line) as RecordedSample;
    } catch (error) {
      throw new ModelError('model-load-failed', `${where}: not valid JSON (${(error as Error).message}).`, {
        cause: error,
      });
    }
    if (typeof sample !== 'object' || sample === null || typeof sample.completion !== 'string') {
      throw new ModelError(
        'model-load-failed',
        `${where}: "completion" is missing or not a string; replay serves the "completion" of each line.`,
      );
    }
    const key = sampleKey(sample, where);
    if (key === undefined) {
      withoutPrompt++;
      continue;
    }
    const entries = byKey.get(key) ?? [];
    entries.push({ sample, line: index + 1 });
    byKey.set(key, entries);
  }
  if (byKey.size === 0) {
    throw new ModelError(
      'model-load-failed',
      lines === 0
        ? `replay: ${samplesFile} has no samples.`
        : `replay: none of the ${withoutPrompt} lines of ${samplesFile} has a "prompt" field. Replay matches calls by prompt text; samples written by \`codeloop generate\` record it.`,
    );
  }
  return byKey;
}

/** Where two strings first differ. */
function commonPrefixLength(a: string, b: string): number {
  let index = 0;
  while (index < a.length && index < b.length && a[index] === b[index]) index++;
  return index;
}

export interface ReplayBackendOptions {
  /** The model id reported in results. Default `replay:` + the file path. */
  modelId?: string;
}

/** Loads `samplesFile` and serves its completions. */
export async function createReplayBackend(
  samplesFile: string,
  options: ReplayBackendOptions = {},
): Promise<ModelBackend> {
  const byKey = await loadSamples(samplesFile);
  const modelId = options.modelId ?? `replay:${samplesFile}`;
  const cursors = new Map<string, number>();
  const keys = [...byKey.keys()];
  const has = (kind: string): boolean => keys.some((key) => key.startsWith(`${kind}\u0000`));

  const entriesFor = (request: GenerationRequest): Entry[] => {
    const key = requestKey(request);
    const entries = byKey.get(key);
    if (entries !== undefined) return entries;
    // Name the closest recorded prompt of the same kind, so a changed template is easy to spot.
    let closest: { key: string; common: number } | undefined;
    for (const candidate of keys) {
      if (!candidate.startsWith(`${request.kind}\u0000`)) continue;
      const common = commonPrefixLength(candidate, key);
      if (closest === undefined || common > closest.common) closest = { key: candidate, common };
    }
    const closestEntry = closest === undefined ? undefined : byKey.get(closest.key)?.[0];
    const hint =
      closest === undefined || closestEntry === undefined
        ? ` It records no ${request.kind} prompts at all.`
        : ` The closest recorded one (${closestEntry.sample.task_id}, line ${closestEntry.line}) differs from character ${closest.common - request.kind.length - 1}.`;
    throw new ModelError(
      'prompt-not-recorded',
      `replay: ${samplesFile} has no completion recorded for this ${describe(request)}.${hint} Replay serves only prompts recorded by \`codeloop generate\`; record them again if the prompts changed.`,
    );
  };

  return createTextBackend({
    provider: 'replay',
    modelId,
    capabilities: {
      supportsInfill: has('infill'),
      supportsChat: has('chat'),
      supportsLogprobs: false,
      supportsSeed: false,
    },
    warnings(request, _callOptions, choices) {
      const entries = byKey.get(requestKey(request));
      if (entries === undefined) return [];
      const cursor = cursors.get(requestKey(request)) ?? 0;
      return cursor + choices > entries.length
        ? [
            `replay: ${samplesFile} records ${entries.length} completion(s) for this prompt and ${cursor + choices} ` +
              `have been asked for; they are served again from the first.`,
          ]
        : [];
    },
    answer(request) {
      const entries = entriesFor(request);
      const key = requestKey(request);
      const cursor = cursors.get(key) ?? 0;
      cursors.set(key, cursor + 1);
      const { sample } = entries[cursor % entries.length] as Entry;
      return Promise.resolve({
        text: sample.completion,
        ...(sample.finish_reason === 'length' ? { finishReason: 'length' as const } : {}),
        ...(typeof sample.usage?.prompt_tokens === 'number' ? { promptTokens: sample.usage.prompt_tokens } : {}),
        ...(typeof sample.usage?.completion_tokens === 'number'
          ? { completionTokens: sample.usage.completion_tokens }
          : {}),
      });
    },
  });
}
