/**
 * End to end: `codeloop serve --lsp` as a child process, driven by a real JSON-RPC client (vscode-jsonrpc, the
 * library under vscode-languageclient) over the child's stdio. The model is a replay file, so the exchange is
 * deterministic: a prompt the file does not record fails loudly, which is how the typed-ahead request proves it was
 * served from the cache.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  CancellationTokenSource,
  createMessageConnection,
  ResponseError,
  StreamMessageReader,
  StreamMessageWriter,
} from 'vscode-jsonrpc/node';

const bin = fileURLToPath(new URL('../../../bin/codeloop.js', import.meta.url));
const directory = mkdtempSync(join(tmpdir(), 'codeloop-lsp-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const text = 'def add(a, b):\n    return \n';
const cursor = { line: 1, character: 11 };
const prefix = 'def add(a, b):\n    return ';

test(
  'inline completion over stdio: initialize, sync, complete, typed-ahead from the cache, cancel, accept telemetry, shutdown',
  { timeout: 60_000 },
  async () => {
    const replay = join(directory, 'recorded.jsonl');
    writeFileSync(
      replay,
      `${JSON.stringify({ task_id: 'lsp/add', prompt: prefix, suffix: '\n', completion: 'a + b\n\n\ndef sub(a, b):\n    return a - b' })}\n`,
    );
    const child = spawn(process.execPath, [bin, 'serve', '--lsp', '--model', `replay:${replay}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout),
      new StreamMessageWriter(child.stdin),
    );
    connection.listen();
    try {
      const init = (await connection.sendRequest('initialize', {
        processId: process.pid,
        rootUri: 'file:///work/project',
        capabilities: {},
      })) as { capabilities: Record<string, unknown> };
      assert.equal(init.capabilities.inlineCompletionProvider, true);
      await connection.sendNotification('initialized', {});
      const uri = 'file:///work/project/calc.py';
      await connection.sendNotification('textDocument/didOpen', {
        textDocument: { uri, languageId: 'python', version: 1, text },
      });

      type Items = {
        items: {
          insertText: string;
          range: { start: unknown; end: unknown };
          command: { command: string; arguments: string[] };
        }[];
      };
      const first = (await connection.sendRequest('textDocument/inlineCompletion', {
        textDocument: { uri },
        position: cursor,
        context: { triggerKind: 2 },
      })) as Items;
      assert.equal(first.items.length, 1);
      assert.equal(first.items[0]?.insertText, 'a + b');
      assert.deepEqual(first.items[0]?.range, { start: cursor, end: cursor });

      // The user types "a " (incremental change): the rest of the suggestion comes from the cache, not the model.
      await connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ range: { start: cursor, end: cursor }, text: 'a ' }],
      });
      const typed = (await connection.sendRequest('textDocument/inlineCompletion', {
        textDocument: { uri },
        position: { line: 1, character: 13 },
        context: { triggerKind: 2 },
      })) as Items;
      assert.equal(typed.items[0]?.insertText, '+ b');

      // A cancelled request either finished first or fails with RequestCancelled (-32800), never another error.
      const source = new CancellationTokenSource();
      const cancelled = connection.sendRequest(
        'textDocument/inlineCompletion',
        { textDocument: { uri }, position: { line: 1, character: 13 }, context: { triggerKind: 1 } },
        source.token,
      );
      source.cancel();
      await cancelled.then(
        (value) => assert.ok(value !== undefined),
        (error: unknown) => assert.equal((error as ResponseError<unknown>).code, -32800),
      );

      const item = typed.items[0];
      await connection.sendNotification('textDocument/didShowCompletion', { item });
      assert.equal(
        await connection.sendRequest('workspace/executeCommand', {
          command: item?.command.command,
          arguments: item?.command.arguments,
        }),
        null,
      );
      const stats = (await connection.sendRequest('codeloop/stats')) as {
        requests: number;
        shown: number;
        accepted: number;
        engine: { typedAheadHits: number; modelCalls: number };
      };
      assert.deepEqual([stats.shown, stats.accepted, stats.engine.modelCalls], [1, 1, 1]);
      assert.ok(stats.engine.typedAheadHits >= 1);

      await connection.sendRequest('shutdown');
      await connection.sendNotification('exit');
      assert.equal(await exited, 0, stderr);
    } finally {
      connection.dispose();
      child.kill();
    }
  },
);

test(
  '$/cancelRequest reaches the model: the client gets RequestCancelled and the model server sees its request closed',
  { timeout: 60_000 },
  async () => {
    // The model is a llama-server stand-in in this process: it answers the first /infill (so the engine knows the model
    // is loaded and may abort stale requests), then never answers again: only cancellation can end those.
    const held: IncomingMessage[] = [];
    let closed = 0;
    let answered = 0;
    const fake = createServer((request, response) => {
      if (request.url === '/v1/models') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ object: 'list', data: [{ id: 'slow', object: 'model', owned_by: 'llamacpp' }] }));
        return;
      }
      request.resume();
      if (answered === 0) {
        answered += 1;
        request.on('end', () => {
          response.writeHead(200, { 'content-type': 'application/json' });
          response.end(
            JSON.stringify({
              content: 'a + b',
              stop: true,
              stop_type: 'eos',
              tokens_predicted: 3,
              tokens_evaluated: 9,
            }),
          );
        });
        return;
      }
      held.push(request);
      response.on('close', () => (closed += 1));
    });
    await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(fake.address() as AddressInfo).port}/v1`;
    const child = spawn(process.execPath, [bin, 'serve', '--lsp', '--model', `openai:slow@${url}`], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const connection = createMessageConnection(
      new StreamMessageReader(child.stdout),
      new StreamMessageWriter(child.stdin),
    );
    connection.listen();
    try {
      await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
      await connection.sendNotification('initialized', {});
      const uri = 'file:///tmp/slow.py';
      await connection.sendNotification('textDocument/didOpen', {
        textDocument: { uri, languageId: 'python', version: 1, text },
      });
      const warm = (await connection.sendRequest('textDocument/inlineCompletion', {
        textDocument: { uri },
        position: cursor,
        context: { triggerKind: 2 },
      })) as { items: { insertText: string }[] };
      assert.equal(warm.items[0]?.insertText, 'a + b');
      // The user types something else: the next request goes to the model, which does not answer.
      await connection.sendNotification('textDocument/didChange', {
        textDocument: { uri, version: 2 },
        contentChanges: [{ range: { start: cursor, end: cursor }, text: 'x(' }],
      });
      const source = new CancellationTokenSource();
      const pending = connection.sendRequest(
        'textDocument/inlineCompletion',
        { textDocument: { uri }, position: { line: 1, character: 13 }, context: { triggerKind: 2 } },
        source.token,
      );
      for (let waited = 0; held.length === 0; waited += 10) {
        assert.ok(waited < 20_000, `the model never got the second request; ${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      source.cancel();
      await assert.rejects(
        pending,
        (error: unknown) =>
          (error as ResponseError<unknown>).code === -32800 && /cancelled by the client/.test((error as Error).message),
      );
      // The engine keeps the generation 150 ms for a follow-up keystroke, then aborts it: the HTTP request is closed.
      const deadline = Date.now() + 5000;
      while (closed === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(
        closed,
        1,
        `${stderr}\n${JSON.stringify(await connection.sendRequest('codeloop/stats'))} held=${held.length}`,
      );
      const stats = (await connection.sendRequest('codeloop/stats')) as {
        cancelled: number;
        engine: { abandoned: number };
      };
      assert.deepEqual([stats.cancelled, stats.engine.abandoned], [1, 1]);
      await connection.sendRequest('shutdown');
      await connection.sendNotification('exit');
      assert.equal(await exited, 0, stderr);
    } finally {
      connection.dispose();
      child.kill();
      fake.closeAllConnections();
      await new Promise<void>((resolve) => fake.close(() => resolve()));
    }
  },
);
