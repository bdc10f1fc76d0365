/**
 * The LSP server's replace range, in process: the server on a stream pair, driven by vscode-jsonrpc, with an engine
 * stub that returns a chosen merge. VS Code requires an inline completion's range on one line.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { createMessageConnection, StreamMessageReader, StreamMessageWriter } from 'vscode-jsonrpc/node';
import { sameLineEdit, type CompletionEngine, type CompletionResult } from '../../src/fim/index.js';
import { createMockBackend } from '../../src/models/index.js';
import { startLspServer } from '../../src/server/lsp/index.js';

const stubEngine = (text: string, replaceLength: number): CompletionEngine => ({
  model: createMockBackend({ respond: () => '' }),
  stats: { requests: 0, cacheHits: 0, typedAheadHits: 0, inFlightHits: 0, modelCalls: 0, abandoned: 0 },
  close() {},
  complete: async (): Promise<CompletionResult> => ({
    text,
    replaceLength,
    mode: 'multi-line',
    modeReason: 'stub',
    finishReason: 'stop',
    cache: 'miss',
    rules: ['suffix-merge'],
    rawText: text,
    modelMs: 0,
    firstTokenMs: 0,
    promptTruncated: false,
    totalMs: 0,
    usage: { promptTokens: 0, completionTokens: 0 },
    warnings: [],
  }),
});

async function inlineCompletion(
  engine: CompletionEngine,
  document: string,
  position: { line: number; character: number },
) {
  const toServer = new PassThrough();
  const fromServer = new PassThrough();
  startLspServer({ engine, input: toServer, output: fromServer });
  const client = createMessageConnection(new StreamMessageReader(fromServer), new StreamMessageWriter(toServer));
  client.listen();
  try {
    await client.sendRequest('initialize', { processId: null, rootUri: null, capabilities: {} });
    await client.sendNotification('initialized', {});
    const uri = 'file:///project/calc.py';
    await client.sendNotification('textDocument/didOpen', {
      textDocument: { uri, languageId: 'python', version: 1, text: document },
    });
    return (await client.sendRequest('textDocument/inlineCompletion', {
      textDocument: { uri },
      position,
      context: { triggerKind: 2 },
    })) as {
      items: {
        insertText: string;
        range: { start: { line: number; character: number }; end: { line: number; character: number } };
      }[];
    };
  } finally {
    client.dispose();
  }
}

test('a merge that replaces across a line break is narrowed to the cursor line: the range stays on one line, the document ends the same', async () => {
  // `x = f(a, █)\ny = 2`: the completion `b)\ny = 2` re-types `)\ny = 2`.
  const document = 'x = f(a, )\ny = 2\n';
  const list = await inlineCompletion(stubEngine('b)\ny = 2', 7), document, { line: 0, character: 9 });
  const item = list.items[0];
  assert.deepEqual(item?.range, { start: { line: 0, character: 9 }, end: { line: 0, character: 10 } });
  assert.equal(item?.insertText, 'b)');
  // Accepting the returned edit gives the document the engine's merge would.
  assert.ok(item !== undefined);
  assert.equal(
    applyEdit(document, item.range, item.insertText),
    document.slice(0, 9) + 'b)\ny = 2' + document.slice(16),
  );
});

/** `document` with `range` replaced by `text`, as an editor applies an inline completion. */
function applyEdit(
  document: string,
  range: { start: { line: number; character: number }; end: { line: number; character: number } },
  text: string,
): string {
  const lines = document.split('\n');
  const offset = (position: { line: number; character: number }): number =>
    lines.slice(0, position.line).reduce((sum, line) => sum + line.length + 1, 0) + position.character;
  return document.slice(0, offset(range.start)) + text + document.slice(offset(range.end));
}

test('sameLineEdit: one-line ranges are kept, a text that does not end with the part past the break becomes an insert', () => {
  assert.deepEqual(sameLineEdit('a, b)', 1, ')\n'), { text: 'a, b)', replaceLength: 1 });
  assert.deepEqual(sameLineEdit('b)\ny = 2', 7, ')\ny = 2\n'), { text: 'b)', replaceLength: 1 });
  assert.deepEqual(sameLineEdit('b\n)', 4, '\n  )'), { text: 'b\n', replaceLength: 0 });
  // CRLF: the cursor line ends at its `\r`, whether the model wrote the rest with `\r\n` or `\n`.
  assert.deepEqual(sameLineEdit('b)\ny = 2', 8, ')\r\ny = 2\r\n'), { text: 'b)', replaceLength: 1 });
  assert.deepEqual(sameLineEdit('b)\r\ny = 2', 8, ')\r\ny = 2\r\n'), { text: 'b)', replaceLength: 1 });
});
