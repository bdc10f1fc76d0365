import { createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import { createCompletionEngine, modelFimFormat, type CompletionEngineOptions } from '../fim/index.js';
import { getFimFormat, openModel } from '../models/index.js';
import { checkListenAddress, createHttpHandler, startHttpServer, withRequestLog } from '../server/http/index.js';
import { startLspServer } from '../server/lsp/index.js';
import type { Command } from './command.js';
import { numberFlag } from './flags.js';

const usage = `Usage: codeloop serve --http [options]
       codeloop serve --lsp [options]

Serves code completion with repository context, stop and merge rules (docs/completion.md).

  --http                 HTTP: llama.cpp POST /infill and /completion, OpenAI POST /v1/completions,
                         POST /v1/chat/completions (models with a chat template), GET /v1/models
  --lsp                  LSP over stdio: textDocument/inlineCompletion (LSP 3.18), for any editor

Options:
  --model M              model name (default: embedded; also gguf:PATH, hf:…, ollama:…, openai:MODEL@URL, replay:FILE)
  --fim-format FAMILY    render FIM prompts in this family's format (qwen2.5-coder, starcoder2, …) and send them as
                         raw completions; default: the family the backend detected from the model's tokens (GGUF),
                         else the backend renders its own infill format
  --max-tokens N         most tokens per completion (default 128)
  --prompt-tokens N      prompt budget: prefix + suffix + repository context (default 2048)
  --soft-deadline-ms MS  return what is ready after this long (default 1000)
  --hard-deadline-ms MS  cancel after this much generation time, counted from the first token (default 3000)
  --first-token-timeout-ms MS
                         give up when no token came this long after the request (default 60000)
HTTP only:
  --port P               default 8012 (llama.vscode's default endpoint)
  --host H               default 127.0.0.1; another address needs --allow-remote and --api-key
  --allow-remote         allow a non-loopback --host
  --quiet                no log line per request (by default: method, route, status, ms, tokens on stderr)
  --api-key K            require Authorization: Bearer K (default: env CODELOOP_SERVER_API_KEY)
  --max-body-bytes N     largest request body (default 1048576)
  --max-connections N    open connections at most (default 64); past it a new one replaces the oldest that holds
                         no request (a half-sent or idle one)
  --max-connections-per-client N
                         open connections from one client address at most (default 16)`;

/** Listens on host:port for a moment; a port in use is a UsageError naming it and the fix. */
async function checkPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        error.code === 'EADDRINUSE'
          ? new UsageError(
              `port ${port} on ${host} is in use (another codeloop serve, or llama-server?): stop that server or pick another with --port.`,
            )
          : error.code === 'EACCES'
            ? new UsageError(
                `port ${port} on ${host} needs privileges to listen on: pick a port above 1023 with --port.`,
              )
            : error,
      ),
    );
    probe.listen(port, host, () => probe.close(() => resolve()));
  });
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'serve code completion over HTTP (llama.cpp /infill, OpenAI /v1/completions) or LSP (inline completion)',
  usage,
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        http: { type: 'boolean', default: false },
        lsp: { type: 'boolean', default: false },
        model: { type: 'string', default: 'embedded' },
        'fim-format': { type: 'string' },
        'max-tokens': { type: 'string' },
        'prompt-tokens': { type: 'string' },
        'soft-deadline-ms': { type: 'string' },
        'hard-deadline-ms': { type: 'string' },
        'first-token-timeout-ms': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        'allow-remote': { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
        'api-key': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'max-connections': { type: 'string' },
        'max-connections-per-client': { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}.`);
    if (values.http === values.lsp)
      throw new UsageError(
        values.http
          ? 'give one of --http and --lsp, not both (run two servers for both).'
          : 'say what to serve: --http or --lsp.',
      );
    if (values.lsp && (values.port !== undefined || values['api-key'] !== undefined || values['allow-remote'])) {
      throw new UsageError(
        '--port, --host, --api-key and --allow-remote are for --http; --lsp talks over stdin/stdout.',
      );
    }
    const format = values['fim-format'] === undefined ? undefined : getFimFormat(values['fim-format']);
    const engineOptions: Omit<CompletionEngineOptions, 'model'> = {
      ...(format === undefined ? {} : { format }),
      ...optional(
        'maxTokens',
        numberFlag('--max-tokens', values['max-tokens'], { integer: true, min: 1, max: 100000 }),
      ),
      ...optional(
        'promptTokens',
        numberFlag('--prompt-tokens', values['prompt-tokens'], { integer: true, min: 16, max: 1000000 }),
      ),
      ...optional(
        'softDeadlineMs',
        numberFlag('--soft-deadline-ms', values['soft-deadline-ms'], { integer: true, min: 0, max: 600000 }),
      ),
      ...optional(
        'hardDeadlineMs',
        numberFlag('--hard-deadline-ms', values['hard-deadline-ms'], { integer: true, min: 0, max: 600000 }),
      ),
      ...optional(
        'firstTokenTimeoutMs',
        numberFlag('--first-token-timeout-ms', values['first-token-timeout-ms'], {
          integer: true,
          min: 0,
          max: 600000,
        }),
      ),
    };
    const port = numberFlag('--port', values.port, { integer: true, min: 0, max: 65535 });
    const maxBodyBytes = numberFlag('--max-body-bytes', values['max-body-bytes'], { integer: true, min: 1 });
    const maxConnections = numberFlag('--max-connections', values['max-connections'], { integer: true, min: 1 });
    const maxConnectionsPerClient = numberFlag('--max-connections-per-client', values['max-connections-per-client'], {
      integer: true,
      min: 1,
    });
    const apiKey = values['api-key'] ?? (process.env.CODELOOP_SERVER_API_KEY || undefined);

    if (values.http)
      checkListenAddress({
        host: values.host,
        ...(port === undefined ? {} : { port }),
        allowRemote: values['allow-remote'],
        ...(apiKey === undefined ? {} : { apiKey }),
      });
    // Loading a model takes seconds to minutes: find out first that the port is free.
    // 8012 is startHttpServer's default port.
    if (values.http && port !== 0) await checkPortFree(values.host, port ?? 8012);
    const model = await openModel(values.model);
    // The model's own family by default, so repository context goes in its file-separator layout.
    const detected = format === undefined ? modelFimFormat(model) : { format, reason: 'from --fim-format' };
    const engine = createCompletionEngine({
      model,
      ...engineOptions,
      ...(detected.format === undefined ? {} : { format: detected.format }),
    });
    process.stderr.write(
      `codeloop serve: FIM format ${detected.format?.family ?? "the backend's own"}: ${detected.reason}\n`,
    );

    if (values.lsp) {
      // stdout is the protocol channel: nothing else may be written to it.
      startLspServer({ engine });
      process.stderr.write(`codeloop serve: LSP on stdio (model ${model.modelId})\n`);
      return new Promise<number>(() => {});
    }
    const bare = createHttpHandler({
      engine,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
    });
    // One line per request on stderr (method, route, status, ms, tokens) unless --quiet.
    const handler = values.quiet
      ? bare
      : withRequestLog(bare, (line) => process.stderr.write(`codeloop serve: ${line}\n`));
    const server = await startHttpServer({
      handler,
      host: values.host,
      ...(port === undefined ? {} : { port }),
      allowRemote: values['allow-remote'],
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
      ...optional('maxConnections', maxConnections),
      ...optional('maxConnectionsPerClient', maxConnectionsPerClient),
    }).catch(async (error: unknown) => {
      await model.close();
      throw error;
    });
    process.stderr.write(
      `codeloop serve: listening on ${server.url} (model ` +
        `${model.modelId}${apiKey === undefined ? '' : ', API key required'}); POST /infill, POST /completion, POST ` +
        `/v1/completions, POST /v1/chat/completions, GET /v1/models\n`,
    );
    return new Promise<number>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.stderr.write(`codeloop serve: ${signal}, shutting down\n`);
        engine.close();
        void server
          .close()
          .then(() => model.close())
          .finally(() => resolve(signal === 'SIGINT' ? 130 : 143));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}
