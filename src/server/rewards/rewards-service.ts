/**
 * The reward service's HTTP handler (`codeloop rewards serve`): POST /v1/rewards scores a batch of (row, completion)
 * items, one result per item in the same order; GET /health; GET /metrics (Prometheus text). Wire format: docs/rewards.md
 * and /work/team/REWARDS-CONTRACT.md.
 *
 * Load is bounded: items wait in one queue of `maxQueuedItems` (a request that does not fit is refused whole with 429
 * and Retry-After), at most `maxConcurrentItems` are scored at once, every item has a time limit, and a client that
 * goes away takes its queued items with it. A hostile completion only ever reaches the sandbox: its result is its own.
 */
import { timingSafeEqual } from 'node:crypto';
import { UsageError } from '../../core/index.js';
import {
  normalizeRow,
  REWARD_MODES,
  rewardResultJson,
  scoreItem,
  type RewardItem,
  type RewardMode,
  type RewardResult,
  type ScoreOptions,
} from '../../rewards/index.js';
import type { HttpHandler, HttpRequest, HttpResponse } from '../http/index.js';

export interface RewardsServiceOptions {
  executor: ScoreOptions['executor'] & { readonly concurrency?: number };
  /** When set, every request but GET /health needs `Authorization: Bearer KEY`. */
  apiKey?: string;
  /** Items in one request at most (400 above). Default 512. */
  maxItemsPerRequest?: number;
  /** Items waiting or being scored at once, over all requests; a request that does not fit gets 429. Default 4096. */
  maxQueuedItems?: number;
  /** Items scored at once. Default: twice the executor's concurrency (an item waits on several executions). */
  maxConcurrentItems?: number;
  /** Time limit of one item from the moment it starts (ms); past it the item is null with an infra reason. Default 120000. */
  itemTimeoutMs?: number;
  /** Defaults for every request (a request's `options.mode` overrides the mode). */
  scoreDefaults?: Pick<ScoreOptions, 'mode' | 'perTestMs' | 'memoryMiB' | 'rerun' | 'typeCheck' | 'programBudgetMs'>;
}

export interface RewardsService {
  handler: HttpHandler;
  /** Refuse new batches (503) and resolve when every accepted item has its result. */
  drain(): Promise<void>;
  /** Items queued or running now. */
  readonly queueDepth: number;
}

const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Metrics {
  requests = new Map<string, number>();
  items = new Map<string, number>();
  latency = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0);
  latencySum = 0;
  latencyCount = 0;
  inFlight = 0;

  countRequest(status: number): void {
    this.requests.set(String(status), (this.requests.get(String(status)) ?? 0) + 1);
  }

  observe(seconds: number): void {
    const index = LATENCY_BUCKETS.findIndex((bound) => seconds <= bound);
    this.latency[index < 0 ? LATENCY_BUCKETS.length : index]! += 1;
    this.latencySum += seconds;
    this.latencyCount += 1;
  }

  render(queueDepth: number, running: number): string {
    const lines = [
      '# HELP codeloop_rewards_requests_total HTTP requests answered, by status code.',
      '# TYPE codeloop_rewards_requests_total counter',
      ...[...this.requests].map(([code, count]) => `codeloop_rewards_requests_total{code="${code}"} ${count}`),
      '# HELP codeloop_rewards_requests_in_flight Requests being answered now.',
      '# TYPE codeloop_rewards_requests_in_flight gauge',
      `codeloop_rewards_requests_in_flight ${this.inFlight}`,
      '# HELP codeloop_rewards_queue_depth Items accepted and not yet scored (waiting or running).',
      '# TYPE codeloop_rewards_queue_depth gauge',
      `codeloop_rewards_queue_depth ${queueDepth}`,
      '# HELP codeloop_rewards_items_running Items being scored now.',
      '# TYPE codeloop_rewards_items_running gauge',
      `codeloop_rewards_items_running ${running}`,
      '# HELP codeloop_rewards_executions_total Items scored, by verdict.',
      '# TYPE codeloop_rewards_executions_total counter',
      ...[...this.items].map(([verdict, count]) => `codeloop_rewards_executions_total{verdict="${verdict}"} ${count}`),
      '# HELP codeloop_rewards_request_duration_seconds Time to answer POST /v1/rewards.',
      '# TYPE codeloop_rewards_request_duration_seconds histogram',
    ];
    let cumulative = 0;
    LATENCY_BUCKETS.forEach((bound, index) => {
      cumulative += this.latency[index]!;
      lines.push(`codeloop_rewards_request_duration_seconds_bucket{le="${bound}"} ${cumulative}`);
    });
    cumulative += this.latency[LATENCY_BUCKETS.length]!;
    lines.push(`codeloop_rewards_request_duration_seconds_bucket{le="+Inf"} ${cumulative}`);
    lines.push(`codeloop_rewards_request_duration_seconds_sum ${this.latencySum}`);
    lines.push(`codeloop_rewards_request_duration_seconds_count ${this.latencyCount}`);
    return `${lines.join('\n')}\n`;
  }
}

class RequestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

function json(status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

function sameKey(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function parseItems(body: string, maxItems: number): { items: RewardItem[]; mode: RewardMode | undefined } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch (error) {
    throw new RequestError(400, 'invalid-json', `the body is not JSON (${(error as Error).message}).`);
  }
  if (typeof parsed !== 'object' || parsed === null || !Array.isArray((parsed as { items?: unknown }).items))
    throw new RequestError(
      400,
      'invalid-request',
      'the body must be {"items": [{"row": {...}, "completion": "..."}, ...]}.',
    );
  const { items, options } = parsed as { items: unknown[]; options?: { mode?: unknown } };
  if (items.length > maxItems)
    throw new RequestError(
      400,
      'too-many-items',
      `${items.length} items in one request; the limit is ${maxItems}: split the batch.`,
    );
  let mode: RewardMode | undefined;
  if (options !== undefined) {
    if (typeof options !== 'object' || options === null)
      throw new RequestError(400, 'invalid-request', 'options must be an object.');
    if (options.mode !== undefined) {
      if (!REWARD_MODES.includes(options.mode as RewardMode))
        throw new RequestError(
          400,
          'invalid-request',
          `options.mode ${JSON.stringify(options.mode)} must be one of ${REWARD_MODES.join(', ')}.`,
        );
      mode = options.mode as RewardMode;
    }
  }
  const checked = items.map((item, index): RewardItem => {
    if (typeof item !== 'object' || item === null)
      throw new RequestError(400, 'invalid-item', `items[${index}] must be an object {row, completion}.`);
    const { row, completion } = item as { row?: unknown; completion?: unknown };
    const messages =
      Array.isArray(completion) &&
      completion.every(
        (message) =>
          typeof message === 'object' &&
          message !== null &&
          typeof message.role === 'string' &&
          typeof message.content === 'string',
      );
    if (typeof completion !== 'string' && !messages)
      throw new RequestError(
        400,
        'invalid-item',
        `items[${index}].completion must be a string or a list of {role, content} messages.`,
      );
    try {
      normalizeRow(row);
    } catch (error) {
      throw new RequestError(400, 'invalid-row', `items[${index}].row: ${(error as Error).message}`);
    }
    return { row, completion: completion as RewardItem['completion'] };
  });
  return { items: checked, mode };
}

export function createRewardsService(options: RewardsServiceOptions): RewardsService {
  const {
    executor,
    apiKey,
    maxItemsPerRequest = 512,
    maxQueuedItems = 4096,
    maxConcurrentItems = 2 * (executor.concurrency ?? 4),
    itemTimeoutMs = 120_000,
    scoreDefaults = {},
  } = options;
  for (const [name, value] of Object.entries({ maxItemsPerRequest, maxQueuedItems, maxConcurrentItems, itemTimeoutMs }))
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`${name}=${value} must be a whole number ≥ 1.`);
  // The programs of an item get half of its time limit (split over its reruns), so that an item whose many tests each
  // run near their limit ends as timed-out (reward 0: a slow program is a result) instead of hitting the item limit
  // (null). The other half covers the trusted test runs, queueing for a worker and an infrastructure retry.
  const programBudgetMs =
    scoreDefaults.programBudgetMs ?? Math.max(100, Math.floor(itemTimeoutMs / (2 * (1 + (scoreDefaults.rerun ?? 0)))));
  const metrics = new Metrics();
  let queued = 0;
  let running = 0;
  let draining = false;
  const waiting: (() => void)[] = [];
  let idle: (() => void) | null = null;

  async function slot(signal: AbortSignal): Promise<void> {
    if (running < maxConcurrentItems) {
      running++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const start = (): void => {
        signal.removeEventListener('abort', cancel);
        running++;
        resolve();
      };
      const cancel = (): void => {
        const index = waiting.indexOf(start);
        if (index >= 0) waiting.splice(index, 1);
        reject(signal.reason);
      };
      waiting.push(start);
      signal.addEventListener('abort', cancel, { once: true });
    });
  }

  function release(): void {
    running--;
    waiting.shift()?.();
  }

  async function scoreQueued(
    item: RewardItem,
    mode: RewardMode | undefined,
    clientSignal: AbortSignal,
  ): Promise<RewardResult> {
    const started = performance.now();
    try {
      await slot(clientSignal);
    } catch {
      return nullResult('the client went away before the item ran', started);
    }
    // One controller per item, its timer cleared and its listener removed at the end: AbortSignal.timeout/any would
    // keep every item's signal (and through the executor's abort listeners, its programs) alive for the whole limit.
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error(`item time limit of ${itemTimeoutMs} ms`));
    }, itemTimeoutMs);
    const onClientGone = (): void => controller.abort(clientSignal.reason);
    clientSignal.addEventListener('abort', onClientGone, { once: true });
    try {
      return await scoreItem(item, {
        executor,
        ...scoreDefaults,
        programBudgetMs,
        ...(mode ? { mode } : {}),
        signal: controller.signal,
      });
    } catch (error) {
      if (timedOut)
        return nullResult(`the item took longer than the service's ${itemTimeoutMs} ms item limit`, started);
      if (clientSignal.aborted) return nullResult('the client went away', started);
      return nullResult(`internal error while scoring: ${(error as Error).message}`, started);
    } finally {
      clearTimeout(timer);
      clientSignal.removeEventListener('abort', onClientGone);
      release();
    }
  }

  async function rewards(request: HttpRequest): Promise<HttpResponse> {
    if (draining)
      throw new RequestError(503, 'draining', 'the service is shutting down; retry on another instance.', {
        'retry-after': '5',
      });
    const { items, mode } = parseItems(request.body, maxItemsPerRequest);
    if (queued + items.length > maxQueuedItems) {
      const seconds = Math.min(60, Math.max(1, Math.ceil(queued / Math.max(1, maxConcurrentItems))));
      throw new RequestError(
        429,
        'queue-full',
        `${queued} items are queued and the limit is ${maxQueuedItems}; retry after ${seconds} s or send smaller batches.`,
        { 'retry-after': String(seconds) },
      );
    }
    queued += items.length;
    const signal = request.signal ?? new AbortController().signal;
    try {
      const results = await Promise.all(
        items.map(async (item) => {
          try {
            const result = await scoreQueued(item, mode, signal);
            metrics.items.set(result.verdict, (metrics.items.get(result.verdict) ?? 0) + 1);
            return rewardResultJson(result);
          } finally {
            queued--;
          }
        }),
      );
      return json(200, { results });
    } finally {
      if (queued === 0 && running === 0) idle?.();
    }
  }

  const handler: HttpHandler = async (request) => {
    const started = performance.now();
    metrics.inFlight++;
    let response: HttpResponse;
    try {
      const path = request.path.split('?')[0];
      if (path === '/health' && request.method === 'GET') {
        response = json(200, {
          status: draining ? 'draining' : 'ok',
          queue_depth: queued,
          items_running: running,
          isolation: executor.isolation,
        });
      } else {
        if (apiKey !== undefined && apiKey !== '') {
          const header = request.headers['authorization'] ?? '';
          const given = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
          if (!sameKey(given, apiKey))
            throw new RequestError(401, 'unauthorized', 'missing or wrong API key: send Authorization: Bearer KEY.');
        }
        if (path === '/metrics' && request.method === 'GET')
          response = {
            status: 200,
            headers: { 'content-type': 'text/plain; version=0.0.4' },
            body: metrics.render(queued, running),
          };
        else if (path === '/v1/rewards' && request.method === 'POST') {
          response = await rewards(request);
          metrics.observe((performance.now() - started) / 1000);
        } else
          throw new RequestError(
            404,
            'not-found',
            `no route ${request.method} ${path}: use POST /v1/rewards, GET /health or GET /metrics.`,
          );
      }
    } catch (error) {
      response =
        error instanceof RequestError
          ? json(error.status, { error: { code: error.code, message: error.message } }, error.headers)
          : json(500, { error: { code: 'internal', message: `internal error: ${(error as Error).message}` } });
    } finally {
      metrics.inFlight--;
    }
    metrics.countRequest(response.status);
    return response;
  };

  return {
    handler,
    get queueDepth() {
      return queued;
    },
    drain() {
      draining = true;
      if (queued === 0 && running === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        idle = resolve;
      });
    },
  };
}

function nullResult(reason: string, started: number): RewardResult {
  return {
    reward: null,
    passRate: null,
    verdict: 'infra-error',
    tests: [],
    infraError: true,
    reason,
    formatReward: 0,
    durationMs: Math.round(performance.now() - started),
  };
}
