import type { Executor, TestResult } from '../sandbox/index.js';
import { callRun, type CallOutcome, type FunctionTestsOptions, type FunctionTestsOutcome } from './function-tests.js';
import type { CallsRow } from './types.js';

/**
 * verl's `{inputs, outputs, fn_name}` rows: the arguments are data, so the candidate's execution makes the calls and
 * the host compares each returned value (rebuilt from the tagged data, never the candidate's objects) with the JSON
 * expected value. As in APPS-style checkers, a tuple equals a list, 1 equals 1.0, and a result equals an expected
 * `[result]` (datasets wrap single outputs in a list).
 */
export async function runCallsTests(
  executor: Pick<Executor, 'run'>,
  row: CallsRow,
  code: string,
  options: FunctionTestsOptions,
): Promise<FunctionTestsOutcome> {
  const ids = row.cases.map((_, index) => `case/${index}`);
  const groups = row.cases.map((testCase, index) => ({
    id: ids[index]!,
    calls: [
      {
        fn: row.entryPoint,
        args: toTagged(testCase.args, row.language),
        kwargs: row.language === 'python' ? { d: [] } : { obj: [] },
      },
    ],
  }));
  const ordered = options.shuffle ? options.shuffle(ids).map((id) => groups.find((group) => group.id === id)!) : groups;
  const run = await callRun(executor, row.language, code, ordered, options);
  if (run.execution.verdict === 'infra-error')
    return { tests: [], load: 'passed', infraError: true, reason: `sandbox failure: ${run.execution.reason}` };
  const tests: TestResult[] = row.cases.map((testCase, index) => {
    const id = ids[index]!;
    const base = {
      id,
      origin: 'hidden' as const,
      assertion:
        `${row.entryPoint}(${JSON.stringify(testCase.args).slice(1, -1)}) == ${JSON.stringify(testCase.expected)}`.slice(
          0,
          300,
        ),
    };
    if (run.load !== 'passed')
      return {
        ...base,
        status: run.load,
        exception: run.loadException ?? { type: 'Error', message: run.execution.reason },
      };
    const outcome: CallOutcome =
      run.outcomes.get(id)?.[0] ?? (run.execution.verdict === 'timed-out' ? { timeout: true } : { missing: true });
    if ('timeout' in outcome)
      return {
        ...base,
        status: 'timed-out',
        exception: { type: 'TimeoutError', message: `exceeded the ${options.perTestMs} ms per-test limit` },
      };
    if ('missing' in outcome)
      return {
        ...base,
        status: 'not-run',
        exception: { type: 'ProcessEnded', message: `the process ended first: ${run.execution.reason}` },
      };
    if ('error' in outcome) return { ...base, status: 'error', exception: outcome.error };
    const actual = fromTagged(outcome.ok);
    const expected = testCase.expected;
    const passed =
      actual !== OPAQUE &&
      (plainEqual(actual, expected) ||
        (Array.isArray(expected) && expected.length === 1 && plainEqual(actual, expected[0])));
    return {
      ...base,
      status: passed ? 'passed' : 'failed',
      actual: show(actual),
      ...(passed ? {} : { expected: show(expected), exception: { type: 'AssertionError', message: 'wrong value' } }),
    };
  });
  return {
    tests,
    load: run.load,
    ...(run.loadException ? { loadException: run.loadException } : {}),
    infraError: false,
    reason: '',
  };
}

const OPAQUE = Symbol('opaque');

function show(value: unknown): string {
  const text =
    value === OPAQUE
      ? '<value that cannot be compared>'
      : JSON.stringify(value, (_, item) => (typeof item === 'bigint' ? item.toString() : item));
  return (text ?? 'undefined').slice(0, 300);
}

/** JSON data as the runtime's tagged values (codeloop_values.py / codeloop-values.cjs). */
export function toTagged(value: unknown, language: string): unknown {
  const python = language === 'python';
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    if (!python) return { n: String(value) };
    return Number.isInteger(value) ? { i: BigInt(value).toString() } : { f: String(value) };
  }
  if (Array.isArray(value)) return value.map((item) => toTagged(item, language));
  if (typeof value === 'object') {
    const pairs = Object.entries(value as Record<string, unknown>).map(([key, item]) => [
      key,
      toTagged(item, language),
    ]);
    return python ? { d: pairs } : { obj: pairs };
  }
  return python ? null : { u: 1 };
}

/** A tagged value as plain data for comparison with JSON (tuples and sets as lists, dicts as objects). */
export function fromTagged(data: unknown): unknown {
  if (data === null || typeof data === 'string' || typeof data === 'boolean') return data;
  if (Array.isArray(data)) return data.map(fromTagged);
  if (typeof data !== 'object') return OPAQUE;
  const tagged = data as Record<string, unknown>;
  const list = (value: unknown): unknown[] => (Array.isArray(value) ? value.map(fromTagged) : [OPAQUE]);
  if (typeof tagged['i'] === 'string') {
    const big = BigInt(tagged['i']);
    return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
  }
  if (typeof tagged['f'] === 'string' || typeof tagged['n'] === 'string') {
    const textValue = (tagged['f'] ?? tagged['n']) as string;
    return textValue === 'nan'
      ? Number.NaN
      : textValue === 'inf'
        ? Infinity
        : textValue === '-inf'
          ? -Infinity
          : Number(textValue);
  }
  if (typeof tagged['bi'] === 'string') return BigInt(tagged['bi']);
  if ('u' in tagged) return undefined;
  for (const key of ['t', 's', 'fs', 'set']) if (key in tagged) return list(tagged[key]);
  for (const key of ['d', 'obj', 'map'])
    if (key in tagged) {
      const pairs = tagged[key];
      if (!Array.isArray(pairs)) return OPAQUE;
      const object: Record<string, unknown> = {};
      for (const pair of pairs) {
        if (!Array.isArray(pair) || pair.length !== 2) return OPAQUE;
        const keyValue = fromTagged(pair[0]);
        Object.defineProperty(object, String(keyValue), { value: fromTagged(pair[1]), enumerable: true });
      }
      return object;
    }
  return OPAQUE;
}

/** Deep equality of plain data; numbers by value (1 == 1.0, a bigint equals the same number). */
export function plainEqual(a: unknown, b: unknown): boolean {
  if (a === OPAQUE || b === OPAQUE) return false;
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    if (typeof a === 'number' && typeof b === 'number') return a === b;
    // eslint-disable-next-line eqeqeq -- a bigint and a number compare by value only with ==
    return a == b;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, index) => plainEqual(item, b[index]));
  }
  if (typeof a === 'object' && typeof b === 'object' && a !== null && b !== null) {
    const keysA = Object.keys(a);
    const keysB = Object.keys(b);
    if (keysA.length !== keysB.length) return false;
    return keysA.every(
      (key) =>
        Object.prototype.hasOwnProperty.call(b, key) &&
        plainEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    );
  }
  return a === b;
}
