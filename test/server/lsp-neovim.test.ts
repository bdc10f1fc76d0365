/**
 * End to end with a third-party LSP client: Neovim (Debian's, headless) starts `codeloop serve --lsp` itself, does the
 * initialize handshake, opens and edits a buffer (its own document sync), asks for `textDocument/inlineCompletion`
 * and shuts the server down. The model is a replay file holding one prompt, so the second answer (after typing the
 * start of the first) can only have come from the cache, with the buffer's edit synced the way Neovim sends it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../../bin/codeloop.js', import.meta.url));
const nvim = spawnSync('nvim', ['--version'], { encoding: 'utf8' });
const skip =
  nvim.status === 0
    ? false
    : 'nvim is not installed (Debian: apt-get install neovim; scripts/install-system-deps.sh does)';
const directory = mkdtempSync(join(tmpdir(), 'codeloop-nvim-'));
after(() => rmSync(directory, { recursive: true, force: true }));

/** Lua run by `nvim --headless -l`-style `-c luafile`: every step's outcome goes to a JSON file, then Neovim quits. */
const script = (options: { cmd: string[]; file: string; out: string }): string => `
local out = {}
local function finish()
  local handle = io.open(${JSON.stringify(options.out)}, 'w')
  handle:write(vim.fn.json_encode(out))
  handle:close()
  vim.cmd('qall!')
end
local ok, err = pcall(function()
  vim.cmd('edit ' .. vim.fn.fnameescape(${JSON.stringify(options.file)}))
  local buf = vim.api.nvim_get_current_buf()
  local id = vim.lsp.start_client({ name = 'codeloop', cmd = ${luaList(options.cmd)}, root_dir = ${JSON.stringify(directory)} })
  out.started = id ~= nil
  vim.lsp.buf_attach_client(buf, id)
  local client = vim.lsp.get_client_by_id(id)
  out.initialized = vim.wait(20000, function() return client.initialized end, 20)
  out.inlineCompletionProvider = client.server_capabilities.inlineCompletionProvider
  local function ask(line, character)
    local params = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = line, character = character }, context = { triggerKind = 2 } }
    local response = client.request_sync('textDocument/inlineCompletion', params, 20000, buf)
    if response == nil then return { timeout = true } end
    return { result = response.result, err = response.err }
  end
  -- The cursor is after "    return " on line 2 (0-based line 1, character 11).
  out.first = ask(1, 11)
  -- Type "a " there: Neovim sends the change itself (incremental or full sync, as the server asked).
  vim.api.nvim_buf_set_text(buf, 1, 11, 1, 11, { 'a ' })
  out.typed = ask(1, 13)
  out.stats = client.request_sync('codeloop/stats', {}, 5000, buf)
  client.stop()
  out.stopped = vim.wait(10000, function() return client.is_stopped() end, 20)
end)
if not ok then out.error = tostring(err) end
finish()
`;

function luaList(items: string[]): string {
  return `{ ${items.map((item) => JSON.stringify(item)).join(', ')} }`;
}

test(
  'Neovim as the LSP client: handshake, buffer sync, inline completion, typed-ahead from the cache, shutdown',
  { skip, timeout: 90_000 },
  () => {
    const prefix = 'def add(a, b):\n    return ';
    const replay = join(directory, 'recorded.jsonl');
    writeFileSync(
      replay,
      `${JSON.stringify({ task_id: 'nvim/add', prompt: prefix, suffix: '\n', completion: 'a + b\n\n\ndef sub(a, b):\n    return a - b' })}\n`,
    );
    const file = join(directory, 'calc.py');
    writeFileSync(file, 'def add(a, b):\n    return \n');
    const out = join(directory, 'out.json');
    const lua = join(directory, 'client.lua');
    writeFileSync(
      lua,
      script({ cmd: [process.execPath, bin, 'serve', '--lsp', '--model', `replay:${replay}`], file, out }),
    );
    // A clean Neovim: no user config or plugins (--clean), no swap files, no terminal (--headless).
    const run = spawnSync('nvim', ['--clean', '--headless', '-n', '-c', `luafile ${lua}`], {
      encoding: 'utf8',
      timeout: 80_000,
      cwd: directory,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: directory },
    });
    assert.equal(run.status, 0, `nvim exited ${run.status}: ${run.stderr}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as {
      error?: string;
      started: boolean;
      initialized: boolean;
      inlineCompletionProvider: unknown;
      first: { result?: { items: { insertText: string; range: { start: unknown; end: unknown } }[] }; err?: unknown };
      typed: { result?: { items: { insertText: string }[] }; err?: unknown };
      stats: { result?: { engine: { modelCalls: number; typedAheadHits: number } } };
      stopped: boolean;
    };
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual([result.started, result.initialized, result.inlineCompletionProvider], [true, true, true]);
    assert.equal(result.first.err, undefined, JSON.stringify(result.first.err));
    assert.equal(result.first.result?.items[0]?.insertText, 'a + b');
    assert.deepEqual(result.first.result?.items[0]?.range, {
      start: { line: 1, character: 11 },
      end: { line: 1, character: 11 },
    });
    // The replay model records only the first prompt: this answer is the cache's, and the server saw Neovim's edit.
    assert.equal(result.typed.err, undefined, JSON.stringify(result.typed.err));
    assert.equal(result.typed.result?.items[0]?.insertText, '+ b');
    assert.equal(result.stats.result?.engine.modelCalls, 1);
    assert.ok((result.stats.result?.engine.typedAheadHits ?? 0) >= 1);
    assert.equal(result.stopped, true, 'the server shut down when Neovim stopped the client');
  },
);
