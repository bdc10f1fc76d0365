import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EMBEDDED_SPECIAL_TOKENS } from '../models/index.js';
import { repoSourceText, seededRandom } from '../../test/models/tiny-gguf.js';
import { QWEN2_PRETOKENIZE_PATTERN, createBpeTokenizer, preTokenize, trainBpeTokenizer } from './bpe-tokenizer.js';

const corpus = await repoSourceText(300_000);
const tokenizer = trainBpeTokenizer(corpus, { vocabSize: 1024, specialTokens: EMBEDDED_SPECIAL_TOKENS });

/** Random text mixing ASCII code, whitespace runs, CRLF, Latin accents, CJK, emoji (surrogate pairs), combining marks. */
function randomText(random: () => number, length: number): string {
  const pieces = [
    'function ',
    'const x = ',
    '  ',
    '\t',
    '\r\n',
    '\n\n',
    ' ',
    "'s",
    "'LL",
    '123',
    '0x1f',
    '=>',
    '{',
    '}',
    '();',
    '"',
    '`${a}`',
    'é',
    'ß',
    'ñ',
    '日本語',
    'テスト',
    '🎉',
    '👩‍💻',
    'e\u0301',
    '\u00a0',
    '\u2028',
    '\u3000',
    'Ω',
    'δ',
    '٣',
    '½',
    '<|',
    '|>',
    '<|fim_prefix|',
    '\u0000',
    '\u007f',
  ];
  let text = '';
  while (text.length < length) {
    if (random() < 0.3) text += String.fromCodePoint(32 + Math.floor(random() * 0x2fff));
    else text += pieces[Math.floor(random() * pieces.length)];
  }
  return text;
}

test('the vocabulary has the requested size: specials at 0–7, the 256 byte symbols, then one token per merge, all distinct', () => {
  assert.equal(tokenizer.vocabSize, 1024);
  assert.deepEqual(tokenizer.data.vocab.slice(0, 8), [...EMBEDDED_SPECIAL_TOKENS]);
  assert.equal(tokenizer.data.merges.length, 1024 - 8 - 256);
  assert.equal(new Set(tokenizer.data.vocab).size, 1024);
  tokenizer.data.merges.forEach(([left, right], rank) =>
    assert.equal(tokenizer.data.vocab[8 + 256 + rank], left + right),
  );
});

test('encode/decode round-trips the repository sources exactly and compresses them', () => {
  const text = corpus.join('\n');
  const ids = tokenizer.encode(text);
  assert.equal(tokenizer.decode(ids), text);
  assert.ok(text.length / ids.length > 2.5, `${(text.length / ids.length).toFixed(2)} chars/token`);
});

test('encode/decode round-trips arbitrary unicode text exactly', () => {
  const random = seededRandom(7);
  for (let round = 0; round < 200; round++) {
    const text = randomText(random, 1 + Math.floor(random() * 300));
    assert.equal(tokenizer.decode(tokenizer.encode(text)), text, JSON.stringify(text));
  }
  assert.deepEqual(tokenizer.encode(''), []);
});

test('special tokens are never produced from plain text, and only as whole ids with allowSpecial', () => {
  const text = `a<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>  return 1<|endoftext|><|codeloop|><|file_sep|>`;
  const plain = tokenizer.encode(text);
  assert.ok(
    plain.every((id) => id >= 8),
    'no special id from plain text',
  );
  assert.equal(tokenizer.decode(plain), text);
  const special = tokenizer.encode(text, { allowSpecial: true });
  assert.deepEqual(
    special.filter((id) => id < 8),
    [1, 3, 2, 0, 7, 6],
  );
  assert.equal(tokenizer.decode(special), text);
  assert.equal(tokenizer.tokenText(1), '<|fim_prefix|>');
  assert.equal(tokenizer.tokenText(0), '<|endoftext|>');
  // Training saw these strings many times (the fim sources spell them) but learned no merge equal to one.
  for (const token of EMBEDDED_SPECIAL_TOKENS)
    assert.equal(tokenizer.data.vocab.indexOf(token), EMBEDDED_SPECIAL_TOKENS.indexOf(token));
});

test('the pre-tokenizer covers every character and splits like the qwen2 regex', () => {
  const random = seededRandom(3);
  for (let round = 0; round < 50; round++) {
    const text = randomText(random, 200);
    assert.equal(preTokenize(text).join(''), text);
  }
  assert.deepEqual(preTokenize("it's  x = foo(12);\n\n  return"), [
    'it',
    "'s",
    ' ',
    ' x',
    ' =',
    ' foo',
    '(',
    '1',
    '2',
    ');\n\n',
    ' ',
    ' return',
  ]);
  assert.ok(QWEN2_PRETOKENIZE_PATTERN.flags.includes('u'));
});

test('training is deterministic and merges the most frequent pair first (ties: lowest ids)', () => {
  const again = trainBpeTokenizer(corpus, { vocabSize: 1024, specialTokens: EMBEDDED_SPECIAL_TOKENS });
  assert.deepEqual(again.data.merges, tokenizer.data.merges);
  // words: "hello" ×1, " hello" ×2, " world" ×1. Pairs e·l, h·e, l·l, l·o all occur 3 times; e·l has the lowest ids.
  const small = trainBpeTokenizer(['hello hello hello world'], {
    vocabSize: 8 + 256 + 1,
    specialTokens: EMBEDDED_SPECIAL_TOKENS,
  });
  assert.deepEqual(small.data.merges, [['e', 'l']]);
  const progress: number[] = [];
  trainBpeTokenizer(corpus.slice(0, 5), {
    vocabSize: 8 + 256 + 600,
    specialTokens: EMBEDDED_SPECIAL_TOKENS,
    onProgress: (merges) => progress.push(merges),
  });
  assert.deepEqual(progress, [256, 512, 600]);
});

test('a vocabulary larger than the corpus can fill stops early, still consistent', () => {
  const small = trainBpeTokenizer(['abab'], { vocabSize: 8 + 256 + 50, specialTokens: EMBEDDED_SPECIAL_TOKENS });
  assert.deepEqual(small.data.merges, [
    ['a', 'b'],
    ['ab', 'ab'],
  ]);
  assert.deepEqual(small.encode('abab'), [8 + 256 + 1]);
});

test('createBpeTokenizer rebuilds the same encoder from data, and rejects bad data with a clear message', () => {
  const rebuilt = createBpeTokenizer(JSON.parse(JSON.stringify(tokenizer.data)));
  const text = corpus[0]!;
  assert.deepEqual(rebuilt.encode(text), tokenizer.encode(text));
  assert.throws(
    () => createBpeTokenizer({ ...tokenizer.data, vocab: [...tokenizer.data.vocab.slice(0, 300), 'e'] }),
    /token "e" appears twice/,
  );
  assert.throws(
    () => trainBpeTokenizer([], { vocabSize: 100, specialTokens: EMBEDDED_SPECIAL_TOKENS }),
    /vocabSize 100 is too small: it must be an integer ≥ 264/,
  );
  assert.throws(() => tokenizer.decode([5000]), /token id 5000 is outside the vocabulary \(0\.\.1023\)/);
});
