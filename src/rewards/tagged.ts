/**
 * Checks, on the host, a value the candidate's process claims to have returned, before anything here uses it. The
 * runtimes (runtime/codeloop_values.py, runtime/codeloop-values.cjs) encode values as tagged JSON no deeper than 200
 * levels; a hostile process can write any line instead, so a claim is accepted only in that shape, within those
 * bounds. The check walks with an explicit stack: a claim nested 300,000 deep is refused, not a stack overflow.
 */

/** The runtimes cut values at depth 200 (plus the argsAfter list and the tags' own levels). */
const MAX_DEPTH = 220;
/** Nodes in one claim; the 4 MiB output limit bounds it too. */
const MAX_NODES = 2_000_000;
const DIGITS = /^-?\d{1,5000}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const SHORT = 100;

/** What each tag's payload must be: an integer's digits, a short text, a list of values or a list of pairs. */
const TAGS: Record<string, 'digits' | 'short' | 'values' | 'pairs' | 'hex' | 'complex' | 'any'> = {
  i: 'digits',
  bi: 'digits',
  f: 'short',
  n: 'short',
  date: 'short',
  ty: 'short',
  u: 'any',
  t: 'values',
  s: 'values',
  fs: 'values',
  set: 'values',
  d: 'pairs',
  obj: 'pairs',
  map: 'pairs',
  b: 'hex',
  c: 'complex',
};

/** Undefined when `data` is well-formed tagged data within the bounds; otherwise what is wrong with it. */
export function checkTagged(data: unknown): string | undefined {
  const stack: [unknown, number][] = [[data, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (++nodes > MAX_NODES) return `more than ${MAX_NODES} parts`;
    if (depth > MAX_DEPTH) return `nested more than ${MAX_DEPTH} levels deep`;
    if (value === null || typeof value === 'boolean' || typeof value === 'string') continue;
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    if (typeof value !== 'object') return `a bare ${typeof value}`;
    const keys = Object.keys(value);
    const record = value as Record<string, unknown>;
    if (keys.length === 2 && keys.includes('o') && keys.includes('r')) {
      if (typeof record['o'] !== 'string' || typeof record['r'] !== 'string') return 'a malformed opaque value';
      continue;
    }
    const tag = keys[0];
    const known = keys.length === 1 && tag !== undefined && Object.hasOwn(TAGS, tag);
    const kind = keys.length === 1 && tag === 'o' ? 'opaque' : known ? TAGS[tag!] : undefined;
    if (kind === undefined) return `an object that is no tagged value (keys ${JSON.stringify(keys.slice(0, 5))})`;
    const payload = record[tag!];
    if (kind === 'any') continue;
    if (kind === 'opaque') {
      if (typeof payload !== 'string') return 'a malformed opaque value';
    } else if (kind === 'digits') {
      if (typeof payload !== 'string' || !DIGITS.test(payload)) return `a malformed integer under "${tag}"`;
    } else if (kind === 'short') {
      if (typeof payload !== 'string' || payload.length > SHORT) return `a malformed "${tag}" value`;
    } else if (kind === 'complex') {
      const ok = Array.isArray(payload) && payload.length === 2 && payload.every((part) => typeof part === 'string');
      if (!ok || payload.some((part: string) => part.length > SHORT)) return 'a malformed complex number';
    } else if (kind === 'hex') {
      if (typeof payload !== 'string' || !HEX.test(payload)) return 'malformed bytes';
    } else {
      if (!Array.isArray(payload)) return `"${tag}" without a list`;
      for (const item of payload) {
        if (kind === 'pairs' && (!Array.isArray(item) || item.length !== 2)) return `a malformed pair under "${tag}"`;
        stack.push([item, depth + 1]);
      }
    }
  }
  return undefined;
}
