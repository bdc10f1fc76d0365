// What travels through Redis: one job per program (the request with its limits resolved) and its result. Both sides
// import this file, so a producer and a worker of the same codeloop version agree on it; `JOB_FORMAT` names it.
import { createHash } from 'node:crypto';
import {
  LANGUAGES,
  resolveLimits,
  type ExecutionLimits,
  type ExecutionRequest,
  type ExecutionResult,
  type Harness,
  type Language,
  type Verdict,
} from '../sandbox/index.js';

/** Version of the job and result format; a worker refuses (dead-letters) jobs of any other. */
export const JOB_FORMAT = 'codeloop-execution/1';
/** Default BullMQ queue name. Several runs may share it: identical programs with identical limits share one job. */
export const DEFAULT_QUEUE_NAME = 'codeloop-executions';
/** Default largest job payload (bytes of JSON): the program, its files and stdin. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 4 * 1024 * 1024;
/** Default largest result (bytes of JSON); stdout/stderr are cut (their byte counts stay) to fit. */
export const DEFAULT_MAX_RESULT_BYTES = 512 * 1024;

const HARNESSES: readonly Harness[] = ['exit-code', 'completion', 'human-eval'];
const VERDICTS: readonly Verdict[] = [
  'passed',
  'failed',
  'timed-out',
  'memory-exceeded',
  'crashed',
  'compile-error',
  'infra-error',
];

/** The data of one BullMQ job. `request.limits` is complete (resolved by the producer), so every worker runs the same. */
export interface ExecutionJob {
  format: typeof JOB_FORMAT;
  request: ExecutionRequest & { limits: ExecutionLimits };
}

/** The request with its limits resolved and its optional fields in one canonical form. */
export function canonicalJob(request: ExecutionRequest): ExecutionJob {
  const limits = resolveLimits(request.language, request.limits);
  const sortedLimits = Object.fromEntries(
    Object.entries(limits).sort(([a], [b]) => (a < b ? -1 : 1)),
  ) as unknown as ExecutionLimits;
  const files =
    request.files === undefined || Object.keys(request.files).length === 0
      ? undefined
      : Object.fromEntries(Object.entries(request.files).sort(([a], [b]) => (a < b ? -1 : 1)));
  return {
    format: JOB_FORMAT,
    request: {
      language: request.language,
      code: request.code,
      ...(files === undefined ? {} : { files }),
      ...(request.stdin === undefined ? {} : { stdin: request.stdin }),
      ...(request.args === undefined || request.args.length === 0 ? {} : { args: request.args }),
      limits: sortedLimits,
      ...(request.typeCheck ? { typeCheck: true } : {}),
      harness: request.harness ?? 'exit-code',
    },
  };
}

/**
 * The job's id: SHA-256 over the canonical JSON of the job (program, files, stdin, args, resolved limits, harness,
 * format). Two submissions of the same program under the same limits are one job, so a redelivered or resubmitted job
 * is scored once (the eval journal keys the same way: program hash, under the run's fixed limits).
 */
export function jobKey(job: ExecutionJob): string {
  return createHash('sha256').update(JSON.stringify(job), 'utf8').digest('hex');
}

/** Bytes of the job's JSON, for the payload limit. */
export function jobBytes(job: ExecutionJob): number {
  return Buffer.byteLength(JSON.stringify(job), 'utf8');
}

function isStringRecord(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    Object.values(value).every((entry) => typeof entry === 'string')
  );
}

/**
 * Checks a job taken from the queue (anything may be in Redis) and returns it as a request, or a reason to refuse it.
 * Limits are re-checked against the sandbox's ranges.
 */
export function parseJob(data: unknown): { request: ExecutionRequest } | { refused: string } {
  if (typeof data !== 'object' || data === null) return { refused: 'the job data is not an object' };
  const job = data as Partial<ExecutionJob>;
  if (job.format !== JOB_FORMAT)
    return { refused: `job format ${JSON.stringify(job.format)} is not ${JOB_FORMAT} (a different codeloop version?)` };
  const request = job.request as Partial<ExecutionRequest> | undefined;
  if (typeof request !== 'object' || request === null) return { refused: 'the job has no request' };
  if (!LANGUAGES.includes(request.language as Language))
    return { refused: `language ${JSON.stringify(request.language)} is not one of ${LANGUAGES.join(', ')}` };
  if (typeof request.code !== 'string') return { refused: 'the request has no code' };
  if (request.files !== undefined && !isStringRecord(request.files))
    return { refused: 'request.files is not an object of strings' };
  if (request.stdin !== undefined && typeof request.stdin !== 'string') return { refused: 'request.stdin is not text' };
  if (request.args !== undefined && !(Array.isArray(request.args) && request.args.every((a) => typeof a === 'string')))
    return { refused: 'request.args is not a list of strings' };
  if (request.harness !== undefined && !HARNESSES.includes(request.harness))
    return { refused: `harness ${JSON.stringify(request.harness)} is not one of ${HARNESSES.join(', ')}` };
  if (typeof request.limits !== 'object' || request.limits === null) return { refused: 'the request has no limits' };
  try {
    resolveLimits(request.language as Language, request.limits);
  } catch (error) {
    return { refused: (error as Error).message };
  }
  return { request: request as ExecutionRequest };
}

/** Cuts stdout and stderr (keeping their ends, where errors are) until the result's JSON fits in `maxBytes`. */
export function fitResult(result: ExecutionResult, maxBytes: number): ExecutionResult {
  let size = Buffer.byteLength(JSON.stringify(result), 'utf8');
  if (size <= maxBytes) return result;
  const fitted = { ...result };
  for (const field of ['stdout', 'stderr'] as const) {
    const bytes = Buffer.from(fitted[field], 'utf8');
    const excess = size - maxBytes;
    // JSON escaping can make a byte cost up to 6; cutting `excess` bytes is at least enough for plain text, and the
    // loop below catches the rest.
    const keep = Math.max(0, bytes.length - excess - 64);
    fitted[field] = bytes.subarray(bytes.length - keep).toString('utf8');
    size = Buffer.byteLength(JSON.stringify(fitted), 'utf8');
    if (size <= maxBytes) return fitted;
  }
  fitted.stdout = '';
  fitted.stderr = '';
  return fitted;
}

/** Checks a result taken from the queue; undefined when it is not one. */
export function parseResult(value: unknown): ExecutionResult | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const result = value as Partial<ExecutionResult>;
  if (!VERDICTS.includes(result.verdict as Verdict) || typeof result.reason !== 'string') return undefined;
  if (typeof result.stdout !== 'string' || typeof result.stderr !== 'string') return undefined;
  if (typeof result.limits !== 'object' || result.limits === null) return undefined;
  return result as ExecutionResult;
}
