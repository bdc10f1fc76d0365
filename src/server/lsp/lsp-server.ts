/**
 * `codeloop serve --lsp`: a language server over stdio (or any stream pair) that answers LSP 3.18
 * `textDocument/inlineCompletion` with the completion engine. It keeps the open documents in sync (incremental
 * changes), passes them to the engine as context (most recently used first) with the text around the last few edits
 * of each (see `editWindow`), turns `$/cancelRequest` into an abort
 * (the engine then keeps the generation briefly for the next keystroke to reuse), and returns a replace range when
 * the completion re-types the text after the cursor.
 *
 * It is meant for a process of its own: vscode-languageserver ends the process on `exit` and when the input stream
 * closes (exit code 0 after `shutdown`, else 1), as the LSP specification asks.
 *
 * Telemetry stays on this machine: "shown" (`textDocument/didShowCompletion`, the notification Copilot's language
 * server takes) and "accepted" (the item's command, `codeloop.inlineCompletion.accepted`, which editors run on
 * accept) go to the `onShown`/`onAccepted` hooks and in-memory counters, and nowhere else.
 */
import { randomUUID } from 'node:crypto';
import {
  createConnection,
  LSPErrorCodes,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type Connection,
  type InlineCompletionItem,
  type InlineCompletionList,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { codeloopVersion } from '../../core/index.js';
import { sameLineEdit, type CompletionEngine, type CompletionResult } from '../../fim/index.js';

/** Lines kept around an edit, before and after the changed lines. */
const EDIT_CONTEXT_LINES = 2;
/** Most lines of one recorded edit. */
const EDIT_MAX_LINES = 20;

export interface EditWindow {
  /** 0-based first line of `text` in the new document. */
  startLine: number;
  /** The changed lines of `after` with up to 2 lines either side (at most 20 lines); '' when nothing changed. */
  text: string;
}

/**
 * The window of `after` around what changed from `before`: the lines between the first and the last character that
 * differ (found from the common start and end, so any sync kind or batch of changes works), plus a little context.
 */
export function editWindow(before: string, after: string): EditWindow {
  if (before === after) return { startLine: 0, text: '' };
  const limit = Math.min(before.length, after.length);
  let start = 0;
  while (start < limit && before.charCodeAt(start) === after.charCodeAt(start)) start += 1;
  let end = 0;
  while (end < limit - start && before.charCodeAt(before.length - 1 - end) === after.charCodeAt(after.length - 1 - end))
    end += 1;
  const lines = after.split('\n');
  const firstChanged = after.slice(0, start).split('\n').length - 1;
  // The line of the last changed character (a line break typed at a line's end belongs to that line).
  const lastChanged = after.slice(0, Math.max(start, after.length - end - 1)).split('\n').length - 1;
  const startLine = Math.max(0, firstChanged - EDIT_CONTEXT_LINES);
  const endLine = Math.min(lines.length - 1, lastChanged + EDIT_CONTEXT_LINES, startLine + EDIT_MAX_LINES - 1);
  return { startLine, text: lines.slice(startLine, endLine + 1).join('\n') };
}

export const ACCEPTED_COMMAND = 'codeloop.inlineCompletion.accepted';
export const SHOWN_NOTIFICATION = 'textDocument/didShowCompletion';
/** A local request for the server's counters (requests, cancelled, shown, accepted, and the engine's cache stats). */
export const STATS_REQUEST = 'codeloop/stats';

export interface CompletionTelemetryEvent {
  /** The id given to the item (its command's argument). */
  id: string;
  uri: string;
  text: string;
}

export interface LspServerOptions {
  engine: CompletionEngine;
  /** Default: the process's stdin/stdout. */
  input?: NodeJS.ReadableStream;
  output?: NodeJS.WritableStream;
  /** Called when the editor reports an item shown. Local only. */
  onShown?: (event: CompletionTelemetryEvent) => void;
  /** Called when the editor runs an item's accept command. Local only. */
  onAccepted?: (event: CompletionTelemetryEvent) => void;
  /** Other open documents passed as context. Default 20 (Continue's recently-opened LRU size). */
  maxContextDocuments?: number;
  /** Recent edits remembered per document (an edit on the lines of the previous one replaces it). Default 16. */
  maxRecentEdits?: number;
}

export interface LspServerStats {
  requests: number;
  cancelled: number;
  shown: number;
  accepted: number;
}

export interface RunningLspServer {
  readonly connection: Connection;
  readonly stats: Readonly<LspServerStats>;
}

/** URI to a repository-ish path for prompts: the file path of a `file://` URI, else the URI itself. */
function pathOf(uri: string): string {
  try {
    const url = new URL(uri);
    return url.protocol === 'file:' ? decodeURIComponent(url.pathname) : uri;
  } catch {
    return uri;
  }
}

export function startLspServer(options: LspServerOptions): RunningLspServer {
  const { engine, onShown, onAccepted, maxContextDocuments = 20, maxRecentEdits = 16 } = options;
  const connection =
    options.input !== undefined && options.output !== undefined
      ? createConnection(options.input, options.output)
      : createConnection(process.stdin, process.stdout);
  const documents = new TextDocuments(TextDocument);
  const lastUsed = new Map<string, number>();
  /** Per document: its text as last seen, and its recent edits, most recent last, each stamped with `useCounter`. */
  const edits = new Map<string, { text: string; recent: (EditWindow & { at: number })[] }>();
  const issued = new Map<string, CompletionTelemetryEvent>();
  const stats: LspServerStats = { requests: 0, cancelled: 0, shown: 0, accepted: 0 };
  let useCounter = 0;
  let workspaceRoot: string | undefined;

  const relative = (uri: string): string => {
    const path = pathOf(uri);
    return workspaceRoot !== undefined && path.startsWith(`${workspaceRoot}/`)
      ? path.slice(workspaceRoot.length + 1)
      : path;
  };

  connection.onInitialize((params) => {
    const root = params.workspaceFolders?.[0]?.uri ?? params.rootUri ?? undefined;
    workspaceRoot = root === undefined || root === null ? undefined : pathOf(root).replace(/\/+$/, '');
    return {
      capabilities: {
        textDocumentSync: { openClose: true, change: TextDocumentSyncKind.Incremental },
        inlineCompletionProvider: true,
        executeCommandProvider: { commands: [ACCEPTED_COMMAND] },
      },
      serverInfo: { name: 'codeloop', version: codeloopVersion() },
    };
  });

  documents.onDidOpen((event) => {
    lastUsed.set(event.document.uri, ++useCounter);
    edits.set(event.document.uri, { text: event.document.getText(), recent: [] });
  });
  documents.onDidChangeContent((event) => {
    const at = ++useCounter;
    lastUsed.set(event.document.uri, at);
    const after = event.document.getText();
    const state = edits.get(event.document.uri) ?? { text: after, recent: [] };
    const window = editWindow(state.text, after);
    state.text = after;
    edits.set(event.document.uri, state);
    if (window.text.trim() === '' || maxRecentEdits <= 0) return;
    // Keystrokes on the same lines are one edit: the newer window replaces the older.
    const windowEnd = window.startLine + window.text.split('\n').length;
    state.recent = state.recent.filter(
      (old) => old.startLine >= windowEnd || old.startLine + old.text.split('\n').length <= window.startLine,
    );
    state.recent.push({ ...window, at });
    if (state.recent.length > maxRecentEdits) state.recent.splice(0, state.recent.length - maxRecentEdits);
  });
  documents.onDidClose((event) => {
    lastUsed.delete(event.document.uri);
    edits.delete(event.document.uri);
  });

  connection.languages.inlineCompletion.on(async (params, token): Promise<InlineCompletionList> => {
    stats.requests += 1;
    const document = documents.get(params.textDocument.uri);
    if (document === undefined)
      throw new ResponseError(
        -32602,
        `document ${params.textDocument.uri} is not open; send textDocument/didOpen first.`,
      );
    lastUsed.set(document.uri, ++useCounter);
    const text = document.getText();
    const cursor = document.offsetAt(params.position);
    const others = documents
      .all()
      .filter((other) => other.uri !== document.uri)
      .sort((a, b) => (lastUsed.get(b.uri) ?? 0) - (lastUsed.get(a.uri) ?? 0))
      .slice(0, maxContextDocuments)
      .map((other) => ({ path: relative(other.uri), text: other.getText() }));
    const recentEdits = [...edits.entries()]
      .flatMap(([uri, state]) => state.recent.map((edit) => ({ uri, edit })))
      .sort((a, b) => b.edit.at - a.edit.at)
      .map(({ uri, edit }) => ({ path: relative(uri), text: edit.text, startLine: edit.startLine }));
    const controller = new AbortController();
    const subscription = token.onCancellationRequested(() =>
      controller.abort(new ResponseError(LSPErrorCodes.RequestCancelled, 'inline completion cancelled by the client')),
    );
    let result: CompletionResult;
    try {
      result = await engine.complete(
        {
          text,
          cursor,
          path: relative(document.uri),
          language: document.languageId,
          files: others,
          ...(recentEdits.length === 0 ? {} : { recentEdits }),
        },
        { signal: controller.signal },
      );
    } catch (error) {
      if (controller.signal.aborted) {
        stats.cancelled += 1;
        throw controller.signal.reason;
      }
      throw error;
    } finally {
      subscription.dispose();
    }
    // VS Code takes an inline completion's range only on one line: a merge that replaces across a line break is
    // narrowed to the rest of the cursor line (or to an insert).
    const edit = sameLineEdit(result.text, result.replaceLength, text.slice(cursor));
    if (edit.text === '' && edit.replaceLength === 0) return { items: [] };
    const id = randomUUID();
    issued.set(id, { id, uri: document.uri, text: edit.text });
    if (issued.size > 1000) issued.delete(issued.keys().next().value as string);
    const item: InlineCompletionItem = {
      insertText: edit.text,
      range: { start: params.position, end: document.positionAt(cursor + edit.replaceLength) },
      command: { title: 'codeloop: completion accepted', command: ACCEPTED_COMMAND, arguments: [id] },
    };
    return { items: [item] };
  });

  connection.onExecuteCommand((params) => {
    if (params.command !== ACCEPTED_COMMAND)
      throw new ResponseError(-32602, `unknown command ${params.command}; codeloop runs ${ACCEPTED_COMMAND} only.`);
    const event = issued.get(String(params.arguments?.[0]));
    if (event !== undefined) {
      stats.accepted += 1;
      onAccepted?.(event);
    }
    return null;
  });

  connection.onNotification(SHOWN_NOTIFICATION, (params: { item?: { command?: { arguments?: unknown[] } } }) => {
    const event = issued.get(String(params?.item?.command?.arguments?.[0]));
    if (event !== undefined) {
      stats.shown += 1;
      onShown?.(event);
    }
  });

  connection.onRequest(STATS_REQUEST, () => ({ ...stats, engine: { ...engine.stats } }));

  connection.onShutdown(() => engine.close());
  documents.listen(connection);
  connection.listen();
  return { connection, stats };
}
