import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codeloopEmbeddedFormat, EMBEDDED_SPECIAL_TOKENS } from '../models/index.js';
import { trainBpeTokenizer } from './bpe-tokenizer.js';
import { chooseFimSpan, fimTokens, fimTransformContext, SPECIAL_IDS } from './fim-transform.js';
import { createRandom } from './model.js';

const code = [
  'export function add(a: number, b: number): number {\n  return a + b;\n}\n',
  'def greet(name):\n    """Say hello."""\n    return f"hello {name}"\n',
  'const items = [1, 2, 3].map((x) => x * 2);\nconsole.log(items.join(", "));\n',
];
const tokenizer = trainBpeTokenizer(code.concat(code, code), {
  vocabSize: 300,
  specialTokens: EMBEDDED_SPECIAL_TOKENS,
});

test('special ids match EMBEDDED_SPECIAL_TOKENS', () => {
  assert.equal(EMBEDDED_SPECIAL_TOKENS[SPECIAL_IDS.endOfText], '<|endoftext|>');
  assert.equal(EMBEDDED_SPECIAL_TOKENS[SPECIAL_IDS.prefix], '<|fim_prefix|>');
  assert.equal(EMBEDDED_SPECIAL_TOKENS[SPECIAL_IDS.middle], '<|fim_middle|>');
  assert.equal(EMBEDDED_SPECIAL_TOKENS[SPECIAL_IDS.suffix], '<|fim_suffix|>');
  assert.equal(EMBEDDED_SPECIAL_TOKENS[SPECIAL_IDS.pad], '<|fim_pad|>');
});

test('a PSM example is exactly codeloopEmbeddedFormat.render + middle + <|endoftext|>', () => {
  const prefix = 'def greet(name):\n    ';
  const middle = 'return f"hello {name}"';
  const suffix = '\n';
  const tokens = fimTokens(tokenizer.encode(prefix), tokenizer.encode(middle), tokenizer.encode(suffix), 'psm');
  const rendered = codeloopEmbeddedFormat.render({ prefix, suffix });
  assert.equal(tokenizer.decode(tokens), `${rendered.prompt}${middle}<|endoftext|>`);
  // and the specials are single tokens, the way the llama backend sends them
  const expected = rendered.segments.flatMap((segment) =>
    segment.type === 'special' ? [EMBEDDED_SPECIAL_TOKENS.indexOf(segment.token)] : tokenizer.encode(segment.text),
  );
  assert.deepEqual(tokens.slice(0, expected.length), expected);
});

test('an SPM example is PRE SUF suffix MID prefix middle EOT', () => {
  const tokens = fimTokens([10], [11], [12], 'spm');
  assert.deepEqual(tokens, [
    SPECIAL_IDS.prefix,
    SPECIAL_IDS.suffix,
    12,
    SPECIAL_IDS.middle,
    10,
    11,
    SPECIAL_IDS.endOfText,
  ]);
});

test('chooseFimSpan: character spans cover the text; line spans are whole lines without their newline', () => {
  const random = createRandom(4);
  const text = code[0]!;
  for (let i = 0; i < 50; i++) {
    const split = chooseFimSpan(text, random.next, 0);
    assert.equal(split.prefix + split.middle + split.suffix, text);
  }
  for (let i = 0; i < 50; i++) {
    const split = chooseFimSpan(text, random.next, 1);
    assert.equal(split.prefix + split.middle + split.suffix, text);
    assert.ok(split.prefix === '' || split.prefix.endsWith('\n'), JSON.stringify(split));
    assert.ok(split.suffix === '' || split.suffix.startsWith('\n'), JSON.stringify(split));
    assert.ok(!split.middle.endsWith('\n'));
  }
});

test('fimTransformContext keeps the length, transforms about fimRate of pieces, pads with zero weight', () => {
  const random = createRandom(9);
  const stream: number[] = [];
  // documents of a few hundred characters, like code files cut by the context
  for (let i = 0; i < 40; i++)
    stream.push(...tokenizer.encode([0, 1, 2, 0].map((k) => code[(i + k) % 3]!).join('\n')), SPECIAL_IDS.endOfText);
  const T1 = 129;
  let fim = 0;
  let pieces = 0;
  let padded = 0;
  for (let start = 0; start + T1 <= stream.length; start += T1 - 1) {
    const context = stream.slice(start, start + T1);
    pieces += context
      .reduce<number[][]>(
        (parts, id) => (id === SPECIAL_IDS.endOfText ? [...parts, []] : (parts.at(-1)!.push(id), parts)),
        [[]],
      )
      .filter((part) => part.length >= 4).length;
    const { tokens, weights } = fimTransformContext(context, tokenizer, random.next, {
      fimRate: 0.7,
      spmFraction: 0.2,
      lineSpanFraction: 0.3,
    });
    assert.equal(tokens.length, T1);
    assert.equal(weights.length, T1);
    tokens.forEach((id, index) => assert.equal(weights[index], id === SPECIAL_IDS.pad ? 0 : 1));
    padded += tokens.filter((id) => id === SPECIAL_IDS.pad).length;
    fim += tokens.filter((id) => id === SPECIAL_IDS.prefix).length;
    // every FIM example has PRE, SUF, MID in that order, then the middle closed by EOT
    let at = tokens.indexOf(SPECIAL_IDS.prefix);
    while (at !== -1) {
      const suffixAt = tokens.indexOf(SPECIAL_IDS.suffix, at);
      const middleAt = tokens.indexOf(SPECIAL_IDS.middle, at);
      assert.ok(suffixAt > at && middleAt > suffixAt);
      at = tokens.indexOf(SPECIAL_IDS.prefix, at + 1);
    }
  }
  const rate = fim / pieces;
  assert.ok(rate > 0.55 && rate < 0.9, `FIM rate ${rate}`);
  assert.ok(padded < 0.1 * pieces * 20, `${padded} pad tokens`);
});

test('fimTransformContext with rate 0 returns the context unchanged', () => {
  const context = [...tokenizer.encode(code[1]!), SPECIAL_IDS.endOfText, ...tokenizer.encode(code[2]!)];
  const { tokens, weights } = fimTransformContext(context, tokenizer, createRandom(1).next, {
    fimRate: 0,
    spmFraction: 0,
    lineSpanFraction: 0,
  });
  assert.deepEqual(tokens, context);
  assert.ok(weights.every((weight) => weight === 1));
});
