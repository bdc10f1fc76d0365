/**
 * A model is named by one string, so that every command and config file takes the same thing:
 *
 * | form | meaning |
 * |---|---|
 * | `gguf:PATH` | a GGUF file, run in-process (llama backend) |
 * | `hf:OWNER/REPO/FILE.gguf` | a GGUF file on Hugging Face, downloaded once into the cache, then as `gguf:` |
 * | `openai:MODEL[@BASE_URL]` | any OpenAI-compatible server; default base URL https://api.openai.com/v1 |
 * | `ollama:MODEL[@BASE_URL]` | Ollama; default http://127.0.0.1:11434/v1 |
 * | `vllm:MODEL[@BASE_URL]` | vLLM; default http://127.0.0.1:8000/v1 |
 * | `sglang:MODEL[@BASE_URL]` | SGLang; default http://127.0.0.1:30000/v1 |
 * | `llama-server:URL` | llama.cpp's llama-server at URL (`/v1` is added when URL has no path) |
 * | `replay:FILE` | completions recorded in a samples JSONL |
 * | `embedded` | codeloop's own small model (the default) |
 */
import { ModelError } from './errors.js';
import type { ServerFlavor } from './openai-compatible/server-profiles.js';

export type ModelName =
  | { kind: 'gguf'; path: string }
  | { kind: 'hf'; owner: string; repo: string; file: string; uri: string }
  | { kind: 'server'; flavor: ServerFlavor | 'auto'; model: string; baseURL: string }
  | { kind: 'replay'; path: string }
  | { kind: 'embedded' };

export const MODEL_NAME_FORMS: readonly string[] = [
  'gguf:PATH                  a GGUF file, e.g. gguf:./models/qwen2.5-coder-1.5b-q8_0.gguf',
  'hf:OWNER/REPO/FILE.gguf    a GGUF file on Hugging Face, e.g. hf:Qwen/Qwen2.5-Coder-1.5B-GGUF/qwen2.5-coder-1.5b-q8_0.gguf',
  'openai:MODEL[@BASE_URL]    an OpenAI-compatible server (default https://api.openai.com/v1), e.g. openai:gpt-4o-mini',
  'ollama:MODEL[@BASE_URL]    Ollama (default http://127.0.0.1:11434/v1), e.g. ollama:qwen2.5-coder:1.5b-base',
  'vllm:MODEL[@BASE_URL]      vLLM (default http://127.0.0.1:8000/v1), e.g. vllm:Qwen/Qwen2.5-Coder-7B@http://gpu-box:8000/v1',
  'sglang:MODEL[@BASE_URL]    SGLang (default http://127.0.0.1:30000/v1)',
  'llama-server:URL           llama.cpp llama-server, e.g. llama-server:http://127.0.0.1:8080',
  'replay:FILE                completions recorded in a samples JSONL, e.g. replay:runs/he1/samples.jsonl',
  "embedded                   codeloop's own small model (the default)",
];

const DEFAULT_URLS: Readonly<Record<string, string>> = {
  openai: 'https://api.openai.com/v1',
  ollama: 'http://127.0.0.1:11434/v1',
  vllm: 'http://127.0.0.1:8000/v1',
  sglang: 'http://127.0.0.1:30000/v1',
};

function invalid(text: string, why: string): ModelError {
  return new ModelError(
    'invalid-model-name',
    `${JSON.stringify(text)} is not a model name: ${why}. Use one of:\n  ${MODEL_NAME_FORMS.join('\n  ')}`,
  );
}

/** Parses a URL; for local servers a URL without a path gets `/v1`, the OpenAI API root they all serve. */
function serverURL(text: string, url: string, addV1: boolean): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw invalid(text, `${JSON.stringify(url)} is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')
    throw invalid(text, `${JSON.stringify(url)} is not an http(s) URL`);
  const trimmed = url.replace(/\/+$/, '');
  return addV1 && (parsed.pathname === '' || parsed.pathname === '/') ? `${trimmed}/v1` : trimmed;
}

/** `MODEL` or `MODEL@URL`: the URL starts at the last `@` followed by `http://` or `https://`. */
function modelAndURL(text: string, rest: string, scheme: string): { model: string; url?: string } {
  const at = rest.search(/@https?:\/\/(?!.*@https?:\/\/)/);
  const model = at === -1 ? rest : rest.slice(0, at);
  if (model === '') throw invalid(text, `${scheme}: needs a model name, as in ${scheme}:MODEL`);
  if (at === -1 && rest.includes('@')) throw invalid(text, `what follows "@" must be an http(s) URL`);
  return at === -1 ? { model } : { model, url: rest.slice(at + 1) };
}

/** Parses a model name; a bad one throws ModelError `invalid-model-name` listing the forms. */
export function parseModelName(text: string): ModelName {
  const name = text.trim();
  if (name === 'embedded') return { kind: 'embedded' };
  const colon = name.indexOf(':');
  if (colon === -1) throw invalid(text, name === '' ? 'it is empty' : `it has no "kind:" prefix`);
  const scheme = name.slice(0, colon);
  const rest = name.slice(colon + 1);
  switch (scheme) {
    case 'gguf':
      if (rest === '') throw invalid(text, 'gguf: needs a file path');
      return { kind: 'gguf', path: rest };
    case 'hf': {
      const parts = rest.split('/');
      if (parts.length < 3 || parts.some((part) => part === '') || !rest.toLowerCase().endsWith('.gguf')) {
        throw invalid(text, 'hf: needs OWNER/REPO/FILE.gguf');
      }
      const [owner, repo, ...file] = parts as [string, string, ...string[]];
      return { kind: 'hf', owner, repo, file: file.join('/'), uri: `hf:${rest}` };
    }
    case 'openai':
    case 'ollama':
    case 'vllm':
    case 'sglang': {
      const { model, url } = modelAndURL(text, rest, scheme);
      const baseURL = serverURL(text, url ?? (DEFAULT_URLS[scheme] as string), scheme !== 'openai');
      // openai: at another URL is any OpenAI-compatible server: its flavor is detected.
      const flavor = scheme === 'openai' ? (url === undefined ? 'openai' : 'auto') : scheme;
      return { kind: 'server', flavor, model, baseURL };
    }
    case 'llama-server': {
      if (rest === '')
        throw invalid(text, 'llama-server: needs the server URL, as in llama-server:http://127.0.0.1:8080');
      // llama-server serves one model and ignores the name, except in router mode (then use openai:MODEL@URL).
      return { kind: 'server', flavor: 'llama-server', model: 'default', baseURL: serverURL(text, rest, true) };
    }
    case 'replay':
      if (rest === '') throw invalid(text, 'replay: needs a samples file');
      return { kind: 'replay', path: rest };
    default:
      throw invalid(text, `"${scheme}:" is not a known kind`);
  }
}
