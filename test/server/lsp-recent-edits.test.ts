/**
 * The LSP server passes the text around recent didChange edits to the engine, in process: the server on a stream
 * pair, driven by vscode-jsonrpc, with an engine stub that records its requests.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import type { CompletionEngine, CompletionRequest, CompletionResult } from '../../src/fim/index.js';
import { createMockBackend } from '../../src/models/index.js';
import { editWindow, startLspServer } from '../../src/server/lsp/lsp-server.js';

const recordingEngine = (requests: CompletionRequest[]): CompletionEngine => ({
  model: createMockBackend({ respond: () => '' }),
  stats: { requests: 0, cacheHits: 0, typedAheadHits: 0, inFlightHits: 0, modelCalls: 0, abandoned: 0 },
  close() {},
  complete: async (request): Promise<CompletionResult> => {
    requests.push(request);
    return {
      text: '',
      replaceLength: 0,
      mode: 'none',
      modeReason: 'stub',
      finishReason: 'empty',
      cache: 'miss',
      rules: [],
      rawText: '',
      modelMs: 0,
      firstTokenMs: 0,
      promptTruncated: false,
      totalMs: 0,
      usage: { promptTokens: 0, completionTokens: 0 },
      warnings: [],
    };
  },
});

test('editWindow: the changed lines of the new text with two lines of context either side', () => {
  const before = 'a\nb\nc\nd\ne\nf\ng\n';
  assert.deepEqual(editWindow(before, before), { startLine: 0, text: '' });
  assert.deepEqual(editWindow(before, 'a\nb\nc\nD2\ne\nf\ng\n'), { startLine: 1, text: 'b\nc\nD2\ne\nf' });
  assert.deepEqual(editWindow(before, 'a\nb\nc\nd\ne\nf\ng\nh\n'), { startLine: 5, text: 'f\ng\nh\n' });
  assert.deepEqual(editWindow(before, 'x' + before), { startLine: 0, text: 'xa\nb\nc' });
});

test('recent didChange edits reach the engine as recentEdits, most recent first, keystrokes on the same lines as one edit', async () => {
  const requests: CompletionRequest[] = [];
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  startLspServer({ engine: recordingEngine(requests), input: toServer, output: fromServer });
  const client = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
  client.listen();
  try {
    await client.sendRequest('initialize', { processId: null, rootUri: 'file:///project', capabilities: {} });
    await client.sendNotification('initialized', {});
    const util = 'file:///project/util.py';
    const main = 'file:///project/main.py';
    const lines = Array.from({ length: 30 }, (_, index) => `line_${index} = ${index}`);
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri: util, languageId: 'python', version: 1, text: `${lines.join('\n')}\n` },
    });
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri: main, languageId: 'python', version: 1, text: 'x = 1\n' },
    });
    // Two keystrokes on line 20 of util.py (one edit), then one on main.py.
    const change = (uri: string, version: number, line: number, character: number, text: string) =>
      client.sendNotification('textDocument/didChange', {
        textDocument: { uri, version },
        contentChanges: [{ range: { start: { line, character }, end: { line, character } }, text }],
      });
    await change(util, 2, 20, 0, 'def rec');
    await change(util, 3, 20, 7, 'ent_helper(): pass\n');
    await change(main, 2, 1, 0, 'y = 2\n');
    await client.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri: main },
      position: { line: 2, character: 0 },
      context: { triggerKind: 2 },
    });
    const edits = requests[0]?.recentEdits ?? [];
    assert.deepEqual(
      edits.map((edit) => [edit.path, edit.startLine]),
      [
        ['main.py', 0],
        ['util.py', 18],
      ],
    );
    assert.equal(edits[0]?.text, 'x = 1\ny = 2\n');
    assert.equal(edits[1]?.text, 'line_18 = 18\nline_19 = 19\ndef recent_helper(): pass\nline_20 = 20\nline_21 = 21');
  } finally {
    client.dispose();
  }
});
