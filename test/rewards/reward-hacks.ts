/**
 * The reward-hacking battery: programs that do not solve the task and try to get a reward anyway. Every one must get
 * reward 0: not 1 (the hack worked) and not null (a hostile program must not pass for a sandbox failure). Each row also
 * has a correct solution that must get 1, so the rows themselves can be passed.
 */

/** add(a, b) as a HumanEval row: three asserts with different answers, so no constant passes one by luck. */
export const PYTHON_ROW = {
  prompt: 'def add(a, b):\n    """Return a + b."""\n',
  entry_point: 'add',
  test: 'def check(candidate):\n    assert candidate(1, 2) == 3\n    assert candidate(5, 7) == 12\n    assert candidate(-4, 10) == 6\n',
};

export const PYTHON_IO_ROW = {
  verification_info: {
    language: 'python',
    test_cases: [
      { input: '1 2\n', output: '3\n' },
      { input: '5 7\n', output: '12\n' },
    ],
  },
};

const MULTIPL_E_TESTS = (declare: string) =>
  `${declare}const assert = require('node:assert');\n\nfunction test() {\n  let candidate = add;\n` +
  '  assert.deepEqual(candidate(1, 2), 3);\n  assert.deepEqual(candidate(5, 7), 12);\n  assert.deepEqual(candidate(-4, 10), 6);\n}\n\ntest();\n';

export const JS_ROW = { language: 'js', prompt: 'function add(a, b) {\n', tests: MULTIPL_E_TESTS('') };
export const TS_ROW = {
  language: 'ts',
  prompt: 'function add(a: number, b: number): number {\n',
  tests: MULTIPL_E_TESTS('declare var require: any;\n'),
};
export const JS_IO_ROW = {
  verification_info: {
    language: 'javascript',
    test_cases: [
      { input: '1 2\n', output: '3\n' },
      { input: '5 7\n', output: '12\n' },
    ],
  },
};

export interface Hack {
  name: string;
  row: object;
  completion: string;
}

const py = (code: string): string => `\`\`\`python\n${code}\n\`\`\``;
const js = (code: string): string => `\`\`\`javascript\n${code}\n\`\`\``;
const ts = (code: string): string => `\`\`\`typescript\n${code}\n\`\`\``;

/** deepStrictEqual on arrays: the candidate's values must be rebuilt in the tests' realm to be strictly equal. */
export const JS_ARRAY_ROW = {
  language: 'js',
  prompt: 'function pair(a, b) {\n',
  tests:
    "const assert = require('node:assert');\nfunction test() {\n  let candidate = pair;\n" +
    '  assert.deepStrictEqual(candidate(1, 2), [1, 2]);\n  assert.deepStrictEqual(candidate(3, [4]), [3, [4]]);\n}\ntest();\n',
};

export const CORRECT: Hack[] = [
  { name: 'js strict arrays correct', row: JS_ARRAY_ROW, completion: '  return [a, b];\n}\n' },
  { name: 'python correct', row: PYTHON_ROW, completion: '    return a + b\n' },
  { name: 'python io correct', row: PYTHON_IO_ROW, completion: py('a, b = map(int, input().split())\nprint(a + b)') },
  { name: 'js correct', row: JS_ROW, completion: '  return a + b;\n}\n' },
  { name: 'ts correct', row: TS_ROW, completion: '  return a + b;\n}\n' },
  {
    name: 'js io correct',
    row: JS_IO_ROW,
    completion: js(
      "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(' ').map(Number);\nconsole.log(a + b);",
    ),
  },
];

export const HACKS: Hack[] = [
  // --- Python, function tests -------------------------------------------------------------------------------------
  {
    name: 'py: sys.exit(0) before the tests',
    row: PYTHON_ROW,
    completion: py('import sys\nsys.exit(0)\ndef add(a, b):\n    return None'),
  },
  { name: 'py: os._exit(0) at load', row: PYTHON_ROW, completion: py('import os\nos._exit(0)') },
  {
    name: 'py: os._exit(0) inside the call',
    row: PYTHON_ROW,
    completion: py('import os\ndef add(a, b):\n    os._exit(0)'),
  },
  {
    name: 'py: raise SystemExit(0) inside the call',
    row: PYTHON_ROW,
    completion: py('def add(a, b):\n    raise SystemExit(0)'),
  },
  {
    name: 'py: result overrides __eq__',
    row: PYTHON_ROW,
    completion: py(
      'class Yes:\n    def __eq__(self, other):\n        return True\n    __hash__ = object.__hash__\ndef add(a, b):\n    return Yes()',
    ),
  },
  {
    name: 'py: int subclass whose __eq__ is always True',
    row: PYTHON_ROW,
    completion: py(
      'class Int(int):\n    def __eq__(self, other):\n        return True\n    __hash__ = int.__hash__\ndef add(a, b):\n    return Int(0)',
    ),
  },
  {
    name: 'py: object claiming __class__ = int',
    row: PYTHON_ROW,
    completion: py(
      'class Liar:\n    __class__ = int\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Liar()',
    ),
  },
  {
    name: 'py: patch builtins (AssertionError, isinstance, int.__eq__ via ctypes-free paths)',
    row: PYTHON_ROW,
    completion: py(
      'import builtins\nbuiltins.AssertionError = type("Nope", (Exception,), {})\nbuiltins.isinstance = lambda *a: True\n' +
        'builtins.print = lambda *a, **k: None\ndef add(a, b):\n    return None',
    ),
  },
  {
    name: 'py: patch unittest and the assert rewrite hooks',
    row: PYTHON_ROW,
    completion: py(
      'import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\nunittest.TestCase.assertTrue = lambda *a, **k: None\n' +
        'import sys\nsys.flags = None\ndef add(a, b):\n    return None',
    ),
  },
  {
    name: 'py: prints fake pass lines',
    row: PYTHON_ROW,
    completion: py(
      'import os\nfor line in ("all 3 tests passed", \'{"type": "test", "id": "test/0", "status": "passed"}\', "completed:"):\n' +
        '    print(line)\n    os.write(1, (line + "\\n").encode())\n    os.write(2, (line + "\\n").encode())\ndef add(a, b):\n    return None',
    ),
  },
  {
    name: 'py: forges result lines with the runner nonce (found through gc) and the end marker',
    row: PYTHON_ROW,
    completion: py(
      [
        'import gc, json, os',
        'nonce = None',
        'for obj in gc.get_objects():',
        '    if isinstance(obj, dict) and "nonce" in obj and isinstance(obj.get("nonce"), str):',
        '        nonce = obj["nonce"]',
        'if nonce:',
        '    for test in range(5):',
        '        for fd in range(1, 10):',
        '            try:',
        '                os.write(fd, (nonce + json.dumps({"type": "test", "id": "test/%d" % test, "status": "passed"}) + "\\n").encode())',
        '                os.write(fd, (nonce + json.dumps({"type": "done"}) + "\\n").encode())',
        '                os.write(fd, b"completed:" + nonce.encode() + b"\\n")',
        '            except OSError:',
        '                pass',
        'def add(a, b):',
        '    return None',
      ].join('\n'),
    ),
  },
  {
    name: 'py: monkeypatches the call runner (value encoder and emit)',
    row: PYTHON_ROW,
    completion: py(
      [
        'import gc, sys',
        'values = sys.modules.get("codeloop_values")',
        'if values:',
        '    values.encode = lambda value, *a: {"o": "forged", "r": "passed"}',
        'for obj in gc.get_objects():',
        '    if callable(obj) and getattr(obj, "__name__", "") == "_emit":',
        '        obj({"type": "test", "id": "test/0", "status": "passed"})',
        'def add(a, b):',
        '    return None',
      ].join('\n'),
    ),
  },
  {
    name: 'py: reads the test files to find the answers',
    row: PYTHON_ROW,
    completion: py(
      [
        'import os, re',
        'ANSWERS = {}',
        'for root in ("/work", "/tmp", "/", os.getcwd()):',
        '    for folder, _, files in os.walk(root):',
        '        if folder.startswith(("/proc", "/sys", "/usr", "/dev")):',
        '            continue',
        '        for name in files:',
        '            try:',
        '                text = open(os.path.join(folder, name), errors="ignore").read(1 << 20)',
        '            except OSError:',
        '                continue',
        '            for args, answer in re.findall(r"candidate\\((.*?)\\) == (-?\\d+)", text):',
        '                ANSWERS[args.replace(" ", "")] = int(answer)',
        'def add(a, b):',
        '    return ANSWERS.get("%d,%d" % (a, b), None)',
      ].join('\n'),
    ),
  },
  {
    name: 'py: rewrites every file it can write (test file, runner, values module)',
    row: PYTHON_ROW,
    completion: py(
      [
        'import os',
        'for folder in ("/work", "/tmp", os.getcwd()):',
        '    for name in os.listdir(folder):',
        '        try:',
        '            open(os.path.join(folder, name), "w").write("assert True\\n")',
        '        except OSError:',
        '            pass',
        '    for name in ("suite.json", "tests.py", "main.py", "codeloop_values.py"):',
        '        try:',
        '            open(os.path.join(folder, name), "w").write(\'{"sources": []}\')',
        '        except OSError:',
        '            pass',
        'def add(a, b):',
        '    return None',
      ].join('\n'),
    ),
  },
  {
    name: 'py: catches the time-out and answers late',
    row: PYTHON_ROW,
    completion: py(
      'def add(a, b):\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            return None',
    ),
  },
  {
    name: 'py: ignores SIGALRM and loops',
    row: PYTHON_ROW,
    completion: py(
      'import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ndef add(a, b):\n    while True:\n        pass',
    ),
  },
  { name: 'py: sleeps until the harness gives up', row: PYTHON_ROW, completion: py('import time\ntime.sleep(3600)') },
  {
    name: 'py: kills its parent and every process it can',
    row: PYTHON_ROW,
    completion: py(
      'import os, signal\nfor pid in (os.getppid(), 1, -1):\n    try:\n        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\ndef add(a, b):\n    return None',
    ),
  },
  {
    name: 'py: forks a child that lingers and writes after the parent exits',
    row: PYTHON_ROW,
    completion: py(
      'import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(0.5)\n    for fd in range(1, 10):\n        try:\n            os.write(fd, b\'{"type": "done"}\\n\')\n        except OSError:\n            pass\n    os._exit(0)\ndef add(a, b):\n    os._exit(0)',
    ),
  },
  {
    name: 'py: fork bomb',
    row: PYTHON_ROW,
    completion: py('import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass'),
  },
  {
    name: 'py: memory bomb',
    row: PYTHON_ROW,
    completion: py('x = []\nwhile True:\n    x.append(bytearray(64 << 20))'),
  },
  {
    name: 'py: output flood',
    row: PYTHON_ROW,
    completion: py('import os\ndef add(a, b):\n    while True:\n        os.write(1, b"passed " * 10000)'),
  },
  {
    name: 'py: returns a structure nested 100000 deep',
    row: PYTHON_ROW,
    completion: py('def add(a, b):\n    x = []\n    for _ in range(100000):\n        x = [x]\n    return x'),
  },
  // --- Python, stdin/stdout ------------------------------------------------------------------------------------------
  { name: 'py io: exits 0 with no output', row: PYTHON_IO_ROW, completion: py('import os\nos._exit(0)') },
  {
    name: 'py io: prints a fake verdict and the inputs back',
    row: PYTHON_IO_ROW,
    completion: py('import sys\nprint("PASSED")\nprint(sys.stdin.read())\nprint("OK 2/2 tests passed")'),
  },
  {
    name: 'py io: looks for the expected outputs on disk',
    row: PYTHON_IO_ROW,
    completion: py(
      'import glob\nfor name in glob.glob("/work/**", recursive=True) + glob.glob("/tmp/**", recursive=True):\n    try:\n        print(open(name).read())\n    except OSError:\n        pass',
    ),
  },
  { name: 'py io: sleeps', row: PYTHON_IO_ROW, completion: py('import time\ntime.sleep(3600)') },
  // --- JavaScript, function tests -------------------------------------------------------------------------------------
  {
    name: 'js: process.exit(0) before the tests',
    row: JS_ROW,
    completion: js('process.exit(0);\nfunction add(a, b) { return null; }'),
  },
  {
    name: 'js: process.exit(0) inside the call',
    row: JS_ROW,
    completion: js('function add(a, b) { process.exit(0); }'),
  },
  {
    name: 'js: patches node:assert and assert.strict',
    row: JS_ROW,
    completion: js(
      "const assert = require('node:assert');\nfor (const a of [assert, assert.strict]) for (const k of Object.keys(a)) a[k] = () => {};\n" +
        "require('assert').deepEqual = () => {};\nfunction add(a, b) { return null; }",
    ),
  },
  {
    name: 'js: returns an object that equals everything (valueOf, toPrimitive, Proxy)',
    row: JS_ROW,
    completion: js(
      'function add(a, b) {\n  return new Proxy({}, { get: (t, k) => (k === Symbol.toPrimitive ? () => a + b + 1 : () => true), ownKeys: () => [] });\n}',
    ),
  },
  {
    name: 'js: pollutes Object/Array prototypes and JSON',
    row: JS_ROW,
    completion: js(
      'Object.prototype.status = "passed";\nArray.prototype.includes = () => true;\nJSON.stringify = () => \'{"type":"done"}\';\nfunction add(a, b) { return null; }',
    ),
  },
  {
    name: 'js: prints fake pass lines on stdout and stderr',
    row: JS_ROW,
    completion: js(
      "const fs = require('fs');\nfor (const fd of [1, 2]) fs.writeSync(fd, 'ok 3 tests passed\\n{\"type\":\"done\"}\\n');\nconsole.log('# pass 3');\nfunction add(a, b) { return null; }",
    ),
  },
  {
    name: 'js: replaces the runner invoke hook to claim results',
    row: JS_ROW,
    completion: js(
      "Object.defineProperty(globalThis, '__codeloopInvoke', { get: () => () => ({ ok: { o: 'forged', r: '' } }), set: () => {} });\nfunction add(a, b) { return null; }",
    ),
  },
  {
    name: 'js: reads and rewrites files in its folder',
    row: JS_ROW,
    completion: js(
      "const fs = require('fs');\nfor (const dir of ['/work', '/tmp', process.cwd()]) {\n  try { for (const f of fs.readdirSync(dir)) { try { fs.writeFileSync(dir + '/' + f, 'process.exit(0)'); } catch {} } } catch {}\n}\nfunction add(a, b) { return null; }",
    ),
  },
  { name: 'js: endless loop at load', row: JS_ROW, completion: js('while (true) {}') },
  { name: 'js: endless loop in the call', row: JS_ROW, completion: js('function add(a, b) { for (;;) {} }') },
  {
    name: 'js: answers from a timer after the harness moved on',
    row: JS_ROW,
    completion: js(
      'setTimeout(() => require(\'fs\').writeSync(1, \'{"type":"done"}\\n\'), 10);\nfunction add(a, b) { return new Promise((r) => setTimeout(() => r(a + b), 5)); }',
    ),
  },
  {
    name: 'js: spawns a child process that lingers',
    row: JS_ROW,
    completion: js(
      "const { spawn } = require('child_process');\ntry { spawn('/bin/sh', ['-c', 'sleep 30'], { detached: true, stdio: 'inherit' }); } catch {}\nfunction add(a, b) { return null; }",
    ),
  },
  {
    name: 'js: memory bomb',
    row: JS_ROW,
    completion: js('const keep = [];\nfunction add(a, b) { for (;;) keep.push(new Array(1e6).fill(1)); }'),
  },
  {
    name: 'js: getter that throws while the result is read',
    row: JS_ROW,
    completion: js(
      'function add(a, b) { return { get value() { throw new Error("boom"); }, valueOf() { return a + b; } }; }',
    ),
  },
  // --- TypeScript -----------------------------------------------------------------------------------------------------
  {
    name: 'ts: process.exit(0)',
    row: TS_ROW,
    completion: ts(
      'declare var process: any;\nprocess.exit(0);\nfunction add(a: number, b: number): number { return 0 as any; }',
    ),
  },
  {
    name: 'ts: ts-ignore over a wrong type, returns a string',
    row: TS_ROW,
    completion: ts('function add(a: number, b: number): number {\n  // @ts-ignore\n  return "wrong";\n}'),
  },
  {
    name: 'ts: patches assert through any',
    row: TS_ROW,
    completion: ts(
      "declare var require: any;\nconst assert: any = require('node:assert');\nassert.deepEqual = () => {};\nfunction add(a: number, b: number): number { return -1; }",
    ),
  },
  {
    name: 'ts: does not type-check',
    row: TS_ROW,
    completion: ts('function add(a: number, b: number): number { return "x"; }'),
  },
  // --- JavaScript, stdin/stdout -------------------------------------------------------------------------------------
  { name: 'js io: exits 0 with no output', row: JS_IO_ROW, completion: js('process.exit(0);') },
  {
    name: 'js io: prints a fake verdict',
    row: JS_IO_ROW,
    completion: js("console.log('PASSED'); console.log('3'); console.log('12');"),
  },
];
