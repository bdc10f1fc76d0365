import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ModelError } from './errors.js';
import { parseModelName } from './model-name.js';

test('parses every form', () => {
  assert.deepEqual(parseModelName('gguf:./models/a b.gguf'), { kind: 'gguf', path: './models/a b.gguf' });
  assert.deepEqual(parseModelName('hf:Qwen/Qwen2.5-Coder-1.5B-GGUF/qwen2.5-coder-1.5b-q8_0.gguf'), {
    kind: 'hf',
    owner: 'Qwen',
    repo: 'Qwen2.5-Coder-1.5B-GGUF',
    file: 'qwen2.5-coder-1.5b-q8_0.gguf',
    uri: 'hf:Qwen/Qwen2.5-Coder-1.5B-GGUF/qwen2.5-coder-1.5b-q8_0.gguf',
  });
  assert.equal((parseModelName('hf:o/r/sub/dir/f.GGUF') as { file: string }).file, 'sub/dir/f.GGUF');
  assert.deepEqual(parseModelName('openai:gpt-4o-mini'), {
    kind: 'server',
    flavor: 'openai',
    model: 'gpt-4o-mini',
    baseURL: 'https://api.openai.com/v1',
  });
  assert.deepEqual(parseModelName('openai:my-model@http://10.0.0.2:9000/v1/'), {
    kind: 'server',
    flavor: 'auto',
    model: 'my-model',
    baseURL: 'http://10.0.0.2:9000/v1',
  });
  assert.deepEqual(parseModelName('ollama:qwen2.5-coder:1.5b-base'), {
    kind: 'server',
    flavor: 'ollama',
    model: 'qwen2.5-coder:1.5b-base',
    baseURL: 'http://127.0.0.1:11434/v1',
  });
  assert.deepEqual(parseModelName('vllm:Qwen/Qwen2.5-Coder-7B@http://gpu-box:8000'), {
    kind: 'server',
    flavor: 'vllm',
    model: 'Qwen/Qwen2.5-Coder-7B',
    baseURL: 'http://gpu-box:8000/v1',
  });
  assert.deepEqual(
    parseModelName('vllm:org/m@odd@http://h:1/v1'),
    { kind: 'server', flavor: 'vllm', model: 'org/m@odd', baseURL: 'http://h:1/v1' },
    'the URL starts at the last @http',
  );
  assert.deepEqual(parseModelName('sglang:m'), {
    kind: 'server',
    flavor: 'sglang',
    model: 'm',
    baseURL: 'http://127.0.0.1:30000/v1',
  });
  assert.deepEqual(parseModelName('llama-server:http://127.0.0.1:8080'), {
    kind: 'server',
    flavor: 'llama-server',
    model: 'default',
    baseURL: 'http://127.0.0.1:8080/v1',
  });
  assert.deepEqual(parseModelName('replay:runs/he1/samples.jsonl'), { kind: 'replay', path: 'runs/he1/samples.jsonl' });
  assert.deepEqual(parseModelName(' embedded '), { kind: 'embedded' });
});

test('a bad name says why and lists the forms', () => {
  const cases: [string, RegExp][] = [
    ['', /it is empty/],
    ['qwen2.5-coder', /has no "kind:" prefix/],
    ['gpt:4', /"gpt:" is not a known kind/],
    ['hf:Qwen/model', /hf: needs OWNER\/REPO\/FILE\.gguf/],
    ['hf:Qwen/repo/file.bin', /hf: needs OWNER\/REPO\/FILE\.gguf/],
    ['openai:', /openai: needs a model name/],
    ['vllm:m@localhost:8000', /what follows "@" must be an http\(s\) URL/],
    ['llama-server:', /needs the server URL/],
    ['llama-server:ftp://x', /not an http\(s\) URL/],
    ['gguf:', /gguf: needs a file path/],
  ];
  for (const [name, why] of cases) {
    assert.throws(
      () => parseModelName(name),
      (error: unknown) => {
        assert.ok(error instanceof ModelError);
        assert.equal(error.code, 'invalid-model-name');
        assert.match(error.message, why);
        assert.match(error.message, /Use one of:\n {2}gguf:PATH/);
        assert.match(error.message, /replay:FILE/);
        assert.match(error.message, /\n {2}embedded/);
        return true;
      },
      name,
    );
  }
});
