/**
 * Golden tests for the stop and merge rules. Each case reproduces a failure users of the anchors reported (the issue
 * is in the test name); the expected text is what an editor should show. The cases go through the whole
 * post-processing path of the engine (`finish` below = text rules, suffix merge, tree-sitter check), so a rule that
 * another one undoes would show up here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadSyntaxParser, type SyntaxLanguage } from '../context/index.js';
import { completionSite, decideCompletionMode } from './completion-mode.js';
import { postProcessText } from './post-process.js';
import { mergeSuffixOverlap } from './suffix-merge.js';
import { checkCompletionSyntax } from './syntax-check.js';

const QWEN_SPECIAL = [
  '<|endoftext|>',
  '<|fim_prefix|>',
  '<|fim_middle|>',
  '<|fim_suffix|>',
  '<|fim_pad|>',
  '<|repo_name|>',
  '<|file_sep|>',
  '<|im_end|>',
];

/** `document` has one `█` where the cursor is. */
async function finish(
  document: string,
  raw: string,
  language: SyntaxLanguage | undefined = 'python',
): Promise<{ text: string; replaceLength: number; rules: string[]; mode: string }> {
  const cursor = document.indexOf('█');
  assert.ok(cursor >= 0, 'the document needs a █ cursor');
  const site = completionSite(document.replace('█', ''), cursor);
  const decision = decideCompletionMode(site);
  assert.notEqual(decision.mode, 'none', decision.reason);
  const mode = decision.mode === 'none' ? 'single-line' : decision.mode;
  const step = postProcessText(raw, { site, mode, specialTokens: QWEN_SPECIAL });
  const rules = [...step.rules];
  const merged = mergeSuffixOverlap(step.text, mode === 'single-line' ? site.lineSuffix : site.suffix);
  if (merged.replaceLength > 0) rules.push('suffix-merge');
  let text = merged.text;
  if (language !== undefined) {
    const checked = checkCompletionSyntax(
      await loadSyntaxParser(language),
      site.prefix,
      text,
      site.suffix.slice(merged.replaceLength),
    );
    if (checked.verdict !== 'ok') rules.push(`syntax-${checked.verdict}`);
    text = checked.text;
  }
  return { text, replaceLength: text === merged.text ? merged.replaceLength : 0, rules, mode };
}

test('Continue #4721 / PR #3001 (completion re-types the rest of the line): a replace range, not a duplicate', async () => {
  const result = await finish('total = add(█)\n', 'a, b)');
  assert.deepEqual([result.text, result.replaceLength], ['a, b)', 1]);
  assert.ok(result.rules.includes('suffix-merge'));
});

test('Cody #811 (suggests code already present): the block tail that re-types the suffix is merged', async () => {
  const result = await finish('function f(a) {\n  if (a) {\n    █\n  }\n}\n', 'return 1;\n  }\n}', 'javascript');
  // The completion's last lines equal the suffix: the stop-at-suffix-line rule cuts them before the merge is needed.
  assert.equal(result.text, 'return 1;');
  assert.equal(result.replaceLength, 0);
});

test('Cody #264 (multi-line completion repeats the next line) and PR #3032: stop before the next non-empty suffix line', async () => {
  const result = await finish(
    'function area(w, h) {\n  █\n}\n',
    'const result = w * h;\n  return result;\n}',
    'javascript',
  );
  assert.equal(result.text, 'const result = w * h;\n  return result;');
  assert.ok(result.rules.includes('stop-at-suffix-line'));
  // The same on a blank line inside a block that already has code.
  const inside = await finish('def area(w, h):\n    █\n    return result\n', 'result = w * h\n    return result');
  assert.deepEqual([inside.mode, inside.text, inside.rules], ['multi-line', 'result = w * h', ['stop-at-suffix-line']]);
});

test('Cody #264 on the first line: a completion whose first line re-types the next suffix line is stopped there (nothing is shown)', async () => {
  const retyped = await finish('def f():\n    █\n    return r\n', 'return r');
  assert.deepEqual([retyped.text, retyped.rules], ['', ['stop-at-suffix-line']]);
  // With a line break after it, and with part of the line already typed.
  assert.equal((await finish('def f():\n    █\n    return r\n', 'return r\n    x = 1')).text, '');
  assert.equal((await finish('def f():\n    ret█\n    return r\n', 'urn r')).text, '');
  // A first line that only starts like the next line is kept.
  assert.equal((await finish('def f():\n    █\n    return r\n', 'r = 1')).text, 'r = 1');
});

test('Continue #4413/#7806 (model returns several lines, one shown): an empty block start is multi-line', async () => {
  const result = await finish(
    'def fizz(n):\n    █',
    'if n % 3 == 0:\n        return "Fizz"\n    return str(n)\n\n\ndef buzz():\n    pass',
  );
  assert.equal(result.mode, 'multi-line');
  assert.equal(result.text, 'if n % 3 == 0:\n        return "Fizz"\n    return str(n)');
  assert.ok(result.rules.includes('stop-at-dedent'));
});

test('at the top level a blank line ends the statement (Continue noDoubleNewLine, Tabby\'s "\\n\\n" stop word)', async () => {
  const result = await finish('import os\n\n█', 'ROOT = os.getcwd()\nDATA = os.path.join(ROOT, "data")\n\nprint(ROOT)');
  assert.equal(result.text, 'ROOT = os.getcwd()\nDATA = os.path.join(ROOT, "data")');
  assert.ok(result.rules.includes('stop-at-blank-line'));
  // Inside a block a blank line between statements does not stop the completion; the block's end does.
  const inside = await finish('def main():\n    █', 'load()\n\n    run()\n\nmain()');
  assert.equal(inside.text, 'load()\n\n    run()');
});

test('Cody PR #330 (single-line mode adds a line below the cursor): mid-line completions keep one line', async () => {
  const result = await finish('names = [user.name for user in █]\n', 'users if user.active\nprint(names)');
  assert.equal(result.mode, 'single-line');
  assert.equal(result.text, 'users if user.active');
});

test('mid-line before code: no completion (Copilot mid-line rule; llama.vscode skips >8 characters right of the cursor)', () => {
  const site = completionSite('value = compute(x) + other', 'value = '.length);
  assert.equal(decideCompletionMode(site).mode, 'none');
  assert.equal(decideCompletionMode(completionSite('call(x, "a', 'call(x, '.length)).mode, 'none');
  assert.equal(decideCompletionMode(completionSite('call(x, ")', 'call(x, "'.length)).mode, 'single-line');
});

test('dedent below the block ends a multi-line completion (Tabby limitScopeByIndentation; the next function is not suggested)', async () => {
  const result = await finish('def first():\n    █', 'value = 1\n    return value\ndef second():\n    return 2');
  assert.equal(result.text, 'value = 1\n    return value');
  assert.ok(result.rules.includes('stop-at-dedent'));
});

test('a brace block keeps its one closing line when the suffix does not close it (Tabby: one closing line)', async () => {
  const result = await finish(
    'function f(items) {\n  for (const item of items) {\n    █',
    'console.log(item);\n  }\n}\nfunction g() {}',
    'javascript',
  );
  assert.equal(result.text, 'console.log(item);\n  }');
  assert.ok(result.rules.includes('stop-after-block-close'));
});

test('Tabby #3261 (the suggestion starts with a space after a space): the extra space is dropped', async () => {
  const result = await finish('limit = █', ' 10');
  assert.equal(result.text, '10');
  assert.ok(result.rules.includes('drop-leading-space'));
});

test('Tabby #3263 / PR #3361 (only the first line has extra indentation): the re-typed indent is removed', async () => {
  const result = await finish('def greet(name):\n    █', '    message = "hi " + name\n    return message');
  assert.equal(result.text, 'message = "hi " + name\n    return message');
  assert.ok(result.rules.includes('drop-retyped-indent'));
});

test('Tabby PR #3782 (tabs in the file, spaces from the model): indentation follows the document', async () => {
  const result = await finish(
    'def run(jobs):\n\tfor job in jobs:\n\t\tjob.start()\n\n\ndef stop(jobs):\n\t█',
    'for job in jobs:\n        job.stop()',
  );
  assert.equal(result.text, 'for job in jobs:\n\t\tjob.stop()');
  assert.ok(result.rules.includes('convert-indent-unit'));
});

test('Continue #8569 (a separator token appears in the suggestion): text from the first special token on is cut', async () => {
  const result = await finish('def add(a, b):\n    █', 'return a + b<|file_sep|>utils.py\nimport os');
  assert.equal(result.text, 'return a + b');
  assert.ok(result.rules.includes('strip-special-tokens'));
});

test('Continue #5709 (Qwen3 puts an empty <think> block into the code): reasoning blocks are removed', async () => {
  const result = await finish('def square(x):\n    █', '<think>\n\n</think>\n\nreturn x * x');
  assert.equal(result.text, 'return x * x');
  assert.ok(result.rules.includes('strip-think'));
});

test('llama.cpp n_indent (/infill): the completion ends before a line indented less than n_indent', () => {
  const site = completionSite(
    'class Stack:\n    def push(self, item):\n        ',
    'class Stack:\n    def push(self, item):\n        '.length,
  );
  const step = postProcessText('self.items.append(item)\n        return self\n    def pop(self):', {
    site,
    mode: 'multi-line',
    minIndent: 8,
  });
  assert.equal(step.text, 'self.items.append(item)\n        return self');
  assert.ok(step.rules.includes('stop-at-n-indent') || step.rules.includes('stop-at-dedent'));
});

test('markdown fences from chat-tuned models are stripped (Continue postprocessing removes them too)', async () => {
  const result = await finish('def square(x):\n    █', '```python\nreturn x * x\n```\nThis returns the square.');
  assert.equal(result.text, 'return x * x');
  assert.ok(result.rules.includes('strip-markdown-fence'));
});

test('Cody #944 (suggests the same code non-stop): repeated lines are cut to their first occurrence', async () => {
  const result = await finish(
    'def log_all(items):\n    █',
    'print(items)\n    print(items)\n    print(items)\n    print(items)',
  );
  assert.equal(result.text, 'print(items)');
  assert.ok(result.rules.includes('repetition'));
  const inLine = postProcessText('0, 0, 0, 0, 0, 0, 0, 0, 0', {
    site: completionSite('zeros = [', 9),
    mode: 'single-line',
  });
  assert.equal(inLine.text, '0, ');
});

test('syntax: a completion that breaks the parse is cut back to whole lines that parse (SAFIM syntax-aware truncation)', async () => {
  const result = await finish(
    'def parse(text):\n    █',
    'items = text.split(",")\n    return [int(item) for item in items\n    if item',
    'python',
  );
  assert.equal(result.text, 'items = text.split(",")');
  assert.ok(result.rules.includes('syntax-truncated'));
});

test('syntax: a completion that breaks code that parsed before is rejected', async () => {
  const result = await finish('values = [1, 2, 3]\ntotal = sum(values)█\nprint(total)\n', ' + (((');
  assert.equal(result.text, '');
  assert.ok(result.rules.includes('syntax-rejected'));
});

test('syntax: the completion stops at the end of the block around the cursor', async () => {
  const result = await finish('function a() {\n  █\n', 'return 1;\n}\nfunction b() {\n  return 2;\n}', 'javascript');
  assert.equal(result.text, 'return 1;\n}');
});

test('a short code overlap is not merged (x = a before "a + b" is not a re-typed suffix)', () => {
  assert.deepEqual(mergeSuffixOverlap('x = a', 'a + b'), { text: 'x = a', replaceLength: 0 });
  assert.deepEqual(mergeSuffixOverlap('foobar', 'bar()'), { text: 'foobar', replaceLength: 0 });
  assert.deepEqual(mergeSuffixOverlap('print(value)', '  )'), { text: 'print(value)', replaceLength: 3 });
  assert.deepEqual(mergeSuffixOverlap('return total\n}', '\n}\n'), { text: 'return total\n}', replaceLength: 2 });
});
