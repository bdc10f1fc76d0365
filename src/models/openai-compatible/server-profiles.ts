/**
 * What each OpenAI-compatible server actually does with a request, and how to tell them apart. The quirks below were
 * read in the servers' documentation and source (files named per entry); docs/models.md has the same table for users.
 *
 * - **vLLM** (`vllm/entrypoints/openai/completion/serving.py`, `…/protocol.py`): `suffix` is rejected with 400
 *   "suffix is not currently supported", so infill needs a rendered FIM prompt. `n`, `seed`, `top_k`, `logprobs`
 *   (completions: an int; chat: a bool) and `stream_options.include_usage` (a last chunk with `choices: []`) are
 *   supported. Stop strings are excluded from the text by default; `stop_reason` names the stop string or token id.
 *   Sampling defaults come from the model's `generation_config.json` (`--generation-config auto`), so codeloop always
 *   sends temperature, top_p and top_k (-1 = off) to get the contract's defaults. Errors: `{"error": {"message",
 *   "type", "code"}}` (older releases: `{"object": "error", "message", …}`).
 * - **SGLang** (`python/sglang/srt/entrypoints/openai/serving_completions.py`, `…/parser/code_completion_parser.py`):
 *   `suffix` is accepted but **silently ignored** unless the server was started with `--completion-template`
 *   (then it renders DeepSeek/StarCoder/Qwen FIM itself); codeloop therefore renders FIM itself unless told
 *   `infillMode: 'suffix'`. `n`, `seed` (as `sampling_seed`), `top_k` (-1 = off), `logprobs`, `include_usage`
 *   supported; `matched_stop` names the stop string. Errors: `{"object": "error", "message", "code"}`; mid-stream
 *   errors arrive as a `data:` event with an `error` object.
 * - **Ollama** (`openai/openai.go`, `middleware/openai.go`): `/v1/completions` maps to `/api/generate` **without
 *   `raw`**, so the model's template is applied to the prompt (base-model templates are usually `{{ .Prompt }}`);
 *   `suffix` is passed to the template (only models whose template handles it can infill). `n`, `top_k` and
 *   `logprobs` are not part of its completion request and are ignored (one choice comes back), so codeloop sends n
 *   requests. A missing `temperature` means 1.0, not the OpenAI default, so codeloop always sends it. With
 *   `include_usage` every chunk carries a zero `usage` and a last chunk with `choices: []` the real one. Errors:
 *   `{"error": {"message", "type": "invalid_request_error" | "not_found_error" | "api_error"}}`.
 * - **llama.cpp `llama-server`** (recorded: test/fixtures/openai-compatible/llama-server, build b1-5b4ebc5):
 *   `/v1/completions` **ignores** `suffix` (a plain completion of the prompt; older builds rejected it), so codeloop
 *   uses its own `/infill` endpoint (`input_prefix`, `input_suffix`), which renders the model's FIM tokens from the
 *   GGUF metadata, and warns when `infillMode: 'suffix'` is forced. `n` is honoured up to the slot count
 *   (`--parallel`, default 4; above it a 400) and was rejected by older builds, so codeloop sends n requests.
 *   Server-side sampling defaults differ from OpenAI's (top_k 40, top_p 0.95, min_p 0.05): codeloop sends top_k 0
 *   and top_p 1 explicitly; pass `backendOptions: { min_p: 0 }` to turn min_p off too. A completions stream carries
 *   `usage` (and `timings`) in its finish chunk, a chat stream in a last `choices: []` chunk. Logprobs use its own
 *   format and are not read. Errors: `{"error": {"code", "message", "type"}}` (400 `invalid_request_error` for bad
 *   parameters; older builds answered 500). Output that is not valid UTF-8 fails the request with a 500.
 * - **OpenAI** (platform.openai.com API reference): `/v1/completions` only serves the legacy instruct models
 *   (`gpt-3.5-turbo-instruct`, `davinci-002`, `babbage-002`), which take `suffix`. At most 4 stop sequences (codeloop
 *   sends the first 4 and enforces the rest itself). No `top_k`. `seed` is best-effort. Chat takes
 *   `max_completion_tokens` (reasoning models reject `max_tokens`). 429s carry `Retry-After`/`retry-after-ms`.
 */

/** A server codeloop knows the quirks of. */
export type ServerFlavor = 'vllm' | 'sglang' | 'ollama' | 'llama-server' | 'openai';

/** How `infill` reaches the server: `suffix` on /v1/completions, a client-rendered FIM prompt, or llama-server's /infill. */
export type InfillMode = 'suffix' | 'render' | 'infill-endpoint';

export interface ServerProfile {
  flavor: ServerFlavor | 'generic';
  /** For messages, e.g. `vLLM`. */
  displayName: string;
  /** How infill works when the caller gives no renderInfill: `none` = it does not. */
  infill: InfillMode | 'none';
  /** `n` on the request returns n choices. */
  nativeN: boolean;
  /** `top_k`: sent (with this value meaning off), or not understood. */
  topK: { off: number } | 'unsupported';
  seed: boolean;
  /** OpenAI-format logprobs come back. */
  logprobs: boolean;
  /** Most stop sequences the server accepts. */
  maxStops?: number;
  /** The chat request field for the token limit. */
  chatMaxTokensField: 'max_tokens' | 'max_completion_tokens';
}

export const SERVER_PROFILES: Readonly<Record<ServerFlavor | 'generic', ServerProfile>> = {
  vllm: {
    flavor: 'vllm',
    displayName: 'vLLM',
    infill: 'none',
    nativeN: true,
    topK: { off: -1 },
    seed: true,
    logprobs: true,
    chatMaxTokensField: 'max_tokens',
  },
  sglang: {
    flavor: 'sglang',
    displayName: 'SGLang',
    infill: 'none',
    nativeN: true,
    topK: { off: -1 },
    seed: true,
    logprobs: true,
    chatMaxTokensField: 'max_tokens',
  },
  ollama: {
    flavor: 'ollama',
    displayName: 'Ollama',
    infill: 'suffix',
    nativeN: false,
    topK: 'unsupported',
    seed: true,
    logprobs: false,
    chatMaxTokensField: 'max_tokens',
  },
  'llama-server': {
    flavor: 'llama-server',
    displayName: 'llama-server',
    infill: 'infill-endpoint',
    nativeN: false,
    topK: { off: 0 },
    seed: true,
    logprobs: false,
    chatMaxTokensField: 'max_tokens',
  },
  openai: {
    flavor: 'openai',
    displayName: 'OpenAI',
    infill: 'suffix',
    nativeN: true,
    topK: 'unsupported',
    seed: true,
    logprobs: true,
    maxStops: 4,
    chatMaxTokensField: 'max_completion_tokens',
  },
  /**
   * An unknown server: the OpenAI API as documented, checked where cheap (fewer choices than `n` are topped up with
   * more requests; `suffix` is sent only when no FIM renderer was given, with a warning).
   */
  generic: {
    flavor: 'generic',
    displayName: 'the server',
    infill: 'suffix',
    nativeN: true,
    topK: 'unsupported',
    seed: true,
    logprobs: true,
    chatMaxTokensField: 'max_tokens',
  },
};

export const SERVER_FLAVORS: readonly ServerFlavor[] = ['vllm', 'sglang', 'ollama', 'llama-server', 'openai'];

/** A flavor from the URL alone: OpenAI's host, Ollama's default port. */
export function flavorFromURL(baseURL: string): ServerFlavor | undefined {
  let url: URL;
  try {
    url = new URL(baseURL);
  } catch {
    return undefined;
  }
  if (url.hostname === 'api.openai.com') return 'openai';
  if (url.port === '11434') return 'ollama';
  return undefined;
}

/**
 * A flavor from `GET /v1/models`: each server fills `owned_by` with its own name (vLLM `vllm`, SGLang `sglang`,
 * llama-server `llamacpp`, OpenAI `openai`/`system`), Ollama with the model's namespace (`library` for its own).
 */
export function flavorFromModelList(body: unknown): ServerFlavor | undefined {
  const data = (body as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) return undefined;
  for (const model of data as { owned_by?: unknown }[]) {
    const owner = typeof model.owned_by === 'string' ? model.owned_by.toLowerCase() : '';
    if (owner === 'vllm') return 'vllm';
    if (owner === 'sglang') return 'sglang';
    if (owner === 'llamacpp' || owner === 'llama.cpp') return 'llama-server';
    if (owner === 'library' || owner === 'ollama') return 'ollama';
    if (owner === 'openai' || owner === 'system' || owner === 'openai-internal') return 'openai';
  }
  return undefined;
}
