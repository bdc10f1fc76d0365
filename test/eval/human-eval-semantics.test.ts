// Known-answer test: programs that openai/human-eval's check_correctness judges differently from `python3 FILE`.
// Each sample is HumanEval/0's canonical solution (read from the data folder, not copied here) followed by code a
// model might write after it: a `__main__` block, calls human-eval's reliability_guard disables, stdin reads, threads,
// imports of modules human-eval's worker has loaded before the guard. `humanEval` is what openai/human-eval @6d43fb98
// (`evaluate_functional_correctness --n_workers 2 --timeout 3.0`, Debian Python 3.11.2, numpy 1.24.2) printed for
// each sample in its _results.jsonl, recorded 2026-12-02; codeloop must give the same `passed` for every one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evaluateSamples, parseSamples, resultLines } from '../../src/eval/index.js';
import { createExecutor } from '../../src/sandbox/index.js';
import { loadDataset } from '../../src/tasks/index.js';
import { noSandbox, sharedDatasets } from './helpers.js';

const { dataDir, skip: noData } = sharedDatasets();

interface Case {
  name: string;
  /** Appended to the canonical solution of the task. */
  after: string;
  /** human-eval's `result` for the sample. */
  humanEval: string;
}

const CASES: Case[] = [
  {
    name: 'unittest.main() in a __main__ block',
    after: '\n\nif __name__ == "__main__":\n    import unittest\n    unittest.main()\n',
    humanEval: 'passed',
  },
  {
    name: 'input() in a __main__ block',
    after: '\n\nif __name__ == "__main__":\n    print(has_close_elements(input(), 0.5))\n',
    humanEval: 'passed',
  },
  { name: 'doctest.testmod() at top level', after: '\n\nimport doctest\ndoctest.testmod()\n', humanEval: 'passed' },
  { name: 'os.getcwd()', after: '\nimport os\nos.getcwd()\n', humanEval: "failed: 'NoneType' object is not callable" },
  { name: 'sys.stdin.read()', after: '\nimport sys\ndata = sys.stdin.read()\n', humanEval: 'failed: ' },
  {
    name: 'a thread left running',
    after:
      '\nimport threading, time\ndef _spin():\n    while True:\n        time.sleep(0.05)\nthreading.Thread(target=_spin).start()\n',
    humanEval: 'passed',
  },
  { name: 'exit()', after: '\nexit()\n', humanEval: "failed: 'NoneType' object is not callable" },
  {
    name: 'import resource',
    after: '\nimport resource\n',
    humanEval: 'failed: import of resource halted; None in sys.modules',
  },
  { name: '__file__', after: '\nprint(__file__)\n', humanEval: "failed: name '__file__' is not defined" },
  {
    name: 'sys.stdout.buffer',
    after: '\nimport sys\nsys.stdout.buffer.write(b"x")\n',
    humanEval: "failed: 'WriteOnlyStringIO' object has no attribute 'buffer'",
  },
  { name: 'printing', after: '\nprint("hello " * 1000)\n', humanEval: 'passed' },
  { name: 'raise SystemExit(0)', after: '\nraise SystemExit(0)\n', humanEval: 'failed: 0' },
  { name: 'os._exit(0)', after: '\nimport os\nos._exit(0)\n', humanEval: 'timed out' },
  {
    name: 'shutil.rmtree',
    after: '\nimport shutil\nshutil.rmtree("/nonexistent", ignore_errors=True)\n',
    humanEval: "failed: 'NoneType' object is not callable",
  },
  { name: 'import subprocess', after: '\nimport subprocess\n', humanEval: 'passed' },
  {
    name: 'import numpy (loaded before the guard in human-eval)',
    after: '\nimport numpy as np\nx = np.zeros(3)\n',
    humanEval: 'passed',
  },
  {
    name: 'inspect.getsource (exec has no source file)',
    after: '\nimport inspect\nsrc = inspect.getsource(has_close_elements)\n',
    humanEval: 'failed: could not get source code',
  },
  { name: 'help()', after: '\nhelp(len)\n', humanEval: "failed: 'NoneType' object is not callable" },
  {
    name: 'setting os.environ (putenv is None)',
    after: '\nimport os\nos.environ["X"] = "1"\n',
    humanEval: "failed: 'NoneType' object is not callable",
  },
  {
    name: 'os.remove',
    after: '\nimport os\nopen("f.txt", "w").write("x")\nos.remove("f.txt")\n',
    humanEval: "failed: 'NoneType' object is not callable",
  },
  { name: 'signal.alarm(0)', after: '\nimport signal\nsignal.alarm(0)\n', humanEval: 'passed' },
  { name: 'sys.setrecursionlimit', after: '\nimport sys\nsys.setrecursionlimit(100)\n', humanEval: 'passed' },
  {
    name: 'import multiprocessing (loaded before the guard in human-eval)',
    after: '\nimport multiprocessing\n',
    humanEval: 'passed',
  },
  {
    name: 'faulthandler.enable()',
    after: '\nimport faulthandler\nfaulthandler.enable()\n',
    humanEval: 'failed: fileno',
  },
  {
    name: 'globals() has no __name__',
    after: '\nglobal_var = globals()\nassert "__name__" not in global_var\n',
    humanEval: 'passed',
  },
  {
    name: 'tempfile.mkdtemp (the temp folder is known before the guard)',
    after: '\nimport tempfile\nd = tempfile.mkdtemp()\n',
    humanEval: 'passed',
  },
  { name: 'os.listdir', after: '\nimport os\nos.listdir(".")\n', humanEval: 'passed' },
  {
    name: 'pickling a class defined in the program',
    after: '\nclass Foo:\n    pass\nimport pickle\npickle.dumps(Foo())\n',
    humanEval: "failed: Can't pickle <class 'Foo'>: attribute lookup Foo on builtins failed",
  },
  {
    name: 'a dataclass',
    after: '\nfrom dataclasses import dataclass\n@dataclass\nclass P:\n    x: int\nP(1)\n',
    humanEval: 'passed',
  },
  {
    name: 'a NamedTuple',
    after: '\nfrom typing import NamedTuple\nclass Q(NamedTuple):\n    a: int\nQ(1)\n',
    humanEval: 'passed',
  },
  { name: 'an Enum', after: '\nimport enum\nclass E(enum.Enum):\n    A = 1\nE.A\n', humanEval: 'passed' },
  { name: 'warnings.warn', after: '\nimport warnings\nwarnings.warn("x")\n', humanEval: 'passed' },
  { name: 'logging', after: '\nimport logging\nlogging.basicConfig()\nlogging.error("x")\n', humanEval: 'passed' },
  { name: 'sys.argv', after: '\nimport sys\nprint(sys.argv)\n', humanEval: 'passed' },
  // From a security review: each checked against openai/human-eval the same way.
  {
    name: '800,000 prints (the buffer is a StringIO, not a write per line)',
    after: '\nfor _i in range(800000):\n    print(_i)\n',
    humanEval: 'passed',
  },
  {
    name: 'importlib.import_module of a module loaded before the guard',
    after: '\nimport importlib\nimportlib.import_module("numpy")\n',
    humanEval: 'passed',
  },
  {
    name: 'writing bytes to sys.stdout',
    after: '\nimport sys\nsys.stdout.write(b"x")\n',
    humanEval: "failed: string argument expected, got 'bytes'",
  },
  {
    name: 'sys.stdout keeps what was printed',
    after: '\nimport sys\nprint("hi")\nassert sys.stdout.getvalue() == "hi\\n"\n',
    humanEval: 'passed',
  },
  { name: 'the working folder is empty', after: '\nimport os\nassert os.listdir(".") == []\n', humanEval: 'passed' },
  {
    name: 'a numpy.py the program writes is not what import numpy finds',
    after: '\nopen("numpy.py", "w").write("raise SystemExit(3)\\n")\nimport numpy\nassert hasattr(numpy, "zeros")\n',
    humanEval: 'passed',
  },
  // Recursion depth: human-eval's worker runs exec() deeper in the stack than a fresh script (recorded by calling
  // check_correctness from a ThreadPoolExecutor thread, as evaluate_functional_correctness does): 982 nested calls at
  // the top level fit under the default limit of 1000, 983 do not.
  {
    name: '982 nested calls (the deepest human-eval allows)',
    after: '\ndef _r(n):\n    return 0 if n == 0 else 1 + _r(n - 1)\n_r(982)\n',
    humanEval: 'passed',
  },
  {
    name: '983 nested calls',
    after: '\ndef _r(n):\n    return 0 if n == 0 else 1 + _r(n - 1)\n_r(983)\n',
    humanEval: 'failed: maximum recursion depth exceeded',
  },
];

test(
  'human-eval semantics: 42 programs get the verdict and the result text openai/human-eval gave them',
  { skip: noData || noSandbox, timeout: 300_000 },
  async () => {
    const dataset = await loadDataset('humaneval', { dataDir });
    const task = dataset.tasks.find((candidate) => candidate.id === 'HumanEval/0');
    assert.ok(task?.canonicalSolution, 'HumanEval/0 has a canonical solution');
    const text = CASES.map((item) =>
      JSON.stringify({ task_id: task.id, completion: task.canonicalSolution + item.after }),
    ).join('\n');
    const samples = parseSamples(text, 'semantics.jsonl', new Set([task.id]));
    const executor = await createExecutor({ concurrency: 2 });
    try {
      const evaluation = await evaluateSamples([task], samples, { executor });
      const disagreements = CASES.flatMap((item, index) => {
        const result = evaluation.samples[index];
        const passed = result?.verdict === 'passed';
        return passed === (item.humanEval === 'passed')
          ? []
          : [`${item.name}: human-eval "${item.humanEval}", codeloop ${result?.verdict} (${result?.reason})`];
      });
      assert.deepEqual(disagreements, []);
      // The `result` text of the _results.jsonl lines, too: human-eval's own words ("failed: " + the exception's text).
      const lines = resultLines(samples, evaluation.samples)
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { result: string });
      const different = CASES.flatMap((item, index) =>
        lines[index]?.result === item.humanEval
          ? []
          : [
              `${item.name}: human-eval ${JSON.stringify(item.humanEval)}, codeloop ${JSON.stringify(lines[index]?.result)}`,
            ],
      );
      assert.deepEqual(different, []);
    } finally {
      await executor.close();
    }
  },
);
