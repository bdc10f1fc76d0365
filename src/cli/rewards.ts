import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UsageError } from '../core/index.js';
import { REWARD_MODES, scoreRun, type RewardMode } from '../rewards/index.js';
import { checkListenAddress, startHttpServer } from '../server/http/index.js';
import { createRewardsService } from '../server/rewards/index.js';
import { numberFlag } from './flags.js';
import { QUEUE_OPTION, QUEUE_USAGE, openExecutor, withJournalState } from './queue-flag.js';
import type { Command } from './command.js';

const usage = `Usage: codeloop rewards score --rows FILE --completions FILE --out DIR [options]
       codeloop rewards serve [--port P] [--host 127.0.0.1] [--api-key K] [options]

Execution rewards for RL trainers (docs/rewards.md). Rows: Open-R1 verification_info, verl ground_truth,
HumanEval/MBPP/MultiPL-E function tests or codeloop tasks, in Python, JavaScript or TypeScript.

score: scores every completion line against its row; writes DIR/results.jsonl (input order) and DIR/run.json;
       journaled: run it again with the same --out to finish a stopped run.
serve: HTTP POST /v1/rewards {"items": [{"row", "completion"}], "options"?: {"mode"}}, GET /health, GET /metrics.

Options (both):
  --mode M               binary | fraction | weighted (default fraction)
  --per-test-ms MS       time limit of one test (default 2000; stdin/stdout cases 3000)
  --rerun N              score each item N more times with the tests in another order; changes => flaky (null)
  --no-type-check        TypeScript: do not type-check the solution (default: type-check, MultiPL-E's rule)
  --concurrency N        sandbox workers (default: CPU cores)
  --unsafe-no-sandbox    run programs with NO OS isolation (only on a throw-away machine)
${QUEUE_USAGE}
serve only:
  --port P               default 8177
  --host H               default 127.0.0.1; another address needs --allow-remote and --api-key
  --allow-remote         allow a non-loopback --host
  --api-key K            require Authorization: Bearer K (default: env CODELOOP_REWARDS_API_KEY)
  --max-body-bytes N     largest request body (default 16777216)
  --max-items N          items per request at most (default 512)
  --max-queued N         items queued over all requests before 429 (default 4096)
  --item-timeout-ms MS   time limit of one item in the service (default 120000)`;

export const rewardsCommand: Command = {
  name: 'rewards',
  summary: 'execution rewards for RL trainers: score a rows + completions file, or serve POST /v1/rewards',
  usage,
  async run(argv) {
    const [sub, ...rest] = argv;
    if (sub !== 'score' && sub !== 'serve')
      throw new UsageError(
        `say what to do: \`codeloop rewards score\` or \`codeloop rewards serve\` (got ${JSON.stringify(sub ?? '')}).`,
      );
    const { values, positionals } = parseArgs({
      args: rest,
      allowPositionals: true,
      options: {
        rows: { type: 'string' },
        completions: { type: 'string' },
        out: { type: 'string' },
        mode: { type: 'string', default: 'fraction' },
        'per-test-ms': { type: 'string' },
        rerun: { type: 'string' },
        'no-type-check': { type: 'boolean', default: false },
        concurrency: { type: 'string' },
        'unsafe-no-sandbox': { type: 'boolean', default: false },
        ...QUEUE_OPTION,
        port: { type: 'string' },
        host: { type: 'string', default: '127.0.0.1' },
        'allow-remote': { type: 'boolean', default: false },
        'api-key': { type: 'string' },
        'max-body-bytes': { type: 'string' },
        'max-items': { type: 'string' },
        'max-queued': { type: 'string' },
        'item-timeout-ms': { type: 'string' },
      },
    });
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}.`);
    if (!REWARD_MODES.includes(values.mode as RewardMode))
      throw new UsageError(`--mode ${JSON.stringify(values.mode)} must be one of ${REWARD_MODES.join(', ')}.`);
    const perTestMs = numberFlag('--per-test-ms', values['per-test-ms'], { integer: true, min: 10, max: 60000 });
    const rerun = numberFlag('--rerun', values.rerun, { integer: true, min: 0, max: 10 });
    const concurrency = numberFlag('--concurrency', values.concurrency, { integer: true, min: 1, max: 256 });
    const scoreDefaults = {
      mode: values.mode as RewardMode,
      ...(perTestMs === undefined ? {} : { perTestMs }),
      ...(rerun === undefined ? {} : { rerun }),
      ...(values['no-type-check'] ? { typeCheck: false } : {}),
    };
    if (sub === 'score') {
      for (const flag of ['rows', 'completions', 'out'] as const)
        if (values[flag] === undefined) throw new UsageError(`score needs --${flag}.`);
      const executor = await openExecutor({
        queue: values.queue,
        concurrency,
        unsafe: values['unsafe-no-sandbox'],
        prefix: 'codeloop rewards',
      });
      try {
        let count = 0;
        const result = await scoreRun({
          executor,
          ...scoreDefaults,
          rowsPath: values.rows!,
          completionsPath: values.completions!,
          outDir: values.out!,
          onItem: () => {
            count++;
            if (process.stderr.isTTY && count % 10 === 0) process.stderr.write(`\rcodeloop rewards: ${count} scored`);
          },
        });
        if (process.stderr.isTTY) process.stderr.write('\n');
        const verdicts = Object.entries(result.byVerdict)
          .map(([verdict, n]) => `${verdict} ${n}`)
          .join(', ');
        process.stdout.write(
          `${result.items} items (${result.scored} scored now, ${result.fromJournal} from the journal): ${verdicts}; ` +
            `mean reward ${result.meanReward === null ? 'n/a' : result.meanReward.toFixed(4)}\n${result.resultsPath}\n`,
        );
      } catch (error) {
        throw withJournalState(error, {
          path: join(values.out!, 'journal.jsonl'),
          what: 'scored items',
          resume: 'run it again with the same --out to finish',
        });
      } finally {
        await executor.close();
      }
      return 0;
    }
    const port = numberFlag('--port', values.port, { integer: true, min: 0, max: 65535 }) ?? 8177;
    const apiKey = values['api-key'] ?? (process.env.CODELOOP_REWARDS_API_KEY || undefined);
    const listen = {
      host: values.host,
      port,
      allowRemote: values['allow-remote'],
      ...(apiKey === undefined ? {} : { apiKey }),
    };
    checkListenAddress(listen);
    const maxBodyBytes =
      numberFlag('--max-body-bytes', values['max-body-bytes'], { integer: true, min: 1 }) ?? 16 * 1024 * 1024;
    const maxItems = numberFlag('--max-items', values['max-items'], { integer: true, min: 1 });
    const maxQueued = numberFlag('--max-queued', values['max-queued'], { integer: true, min: 1 });
    const itemTimeoutMs = numberFlag('--item-timeout-ms', values['item-timeout-ms'], { integer: true, min: 100 });
    const executor = await openExecutor({
      queue: values.queue,
      concurrency,
      unsafe: values['unsafe-no-sandbox'],
      prefix: 'codeloop rewards',
    });
    const service = createRewardsService({
      executor,
      scoreDefaults,
      ...(apiKey === undefined ? {} : { apiKey }),
      ...(maxItems === undefined ? {} : { maxItemsPerRequest: maxItems }),
      ...(maxQueued === undefined ? {} : { maxQueuedItems: maxQueued }),
      ...(itemTimeoutMs === undefined ? {} : { itemTimeoutMs }),
    });
    const server = await startHttpServer({
      handler: service.handler,
      ...listen,
      maxBodyBytes,
      maxInFlightBodyBytes: 4 * maxBodyBytes,
      maxConnections: 1024,
      // A trainer sends its batches from one host over many connections.
      maxConnectionsPerClient: 1024,
      // A whole request (headers and body) must arrive within this; answering a batch may take much longer.
      requestTimeoutMs: 120_000,
      headersTimeoutMs: 30_000,
    }).catch(async (error: unknown) => {
      await executor.close();
      throw error;
    });
    // Answering a big batch takes long: Node's default 5 s keep-alive and no response timeout are kept.
    server.server.timeout = 0;
    process.stderr.write(
      `codeloop rewards: listening on ${server.url} (sandbox ${executor.isolation}, ${executor.concurrency} workers` +
        `${apiKey === undefined ? '' : ', API key required'}); POST /v1/rewards, GET /health, GET /metrics\n`,
    );
    return new Promise<number>((resolve) => {
      const stop = (signal: NodeJS.Signals): void => {
        process.stderr.write(
          `codeloop rewards: ${signal}: finishing ${service.queueDepth} queued items, then stopping\n`,
        );
        server.server.close();
        void service
          .drain()
          // The last replies are written after their items finish: give them a moment before closing connections.
          .then(() => new Promise((done) => setTimeout(done, 250)))
          .then(() => server.close())
          .then(() => executor.close())
          .finally(() => resolve(signal === 'SIGINT' ? 130 : 143));
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  },
};
