import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkSentinels } from './check-sentinels.js';
import { getFimFormat } from './fim-formats.js';

/** A toy tokenizer: known special texts are one id each, anything else is one id per character (as a BPE without the token would split it). */
function tokenizer(specials: Record<string, number>): (text: string) => number[] {
  return (text) =>
    text in specials
      ? [specials[text] as number]
      : [...text].map((character) => 1000 + (character.codePointAt(0) ?? 0));
}

const QWEN_IDS = {
  '<|endoftext|>': 151643,
  '<|fim_prefix|>': 151659,
  '<|fim_middle|>': 151660,
  '<|fim_suffix|>': 151661,
  '<|fim_pad|>': 151662,
  '<|repo_name|>': 151663,
  '<|file_sep|>': 151664,
};

test('every sentinel is one token: no warnings, and the ids for mapping special segments', async () => {
  const result = await checkSentinels(getFimFormat('qwen2.5-coder'), tokenizer(QWEN_IDS));
  assert.deepEqual(result, { warnings: [], tokenIds: QWEN_IDS });
});

test('an async tokenizer that lacks a sentinel: a warning with the pieces it produced', async () => {
  const { '<|file_sep|>': _fileSep, ...withoutFileSep } = QWEN_IDS;
  const tokenize = tokenizer(withoutFileSep);
  const result = await checkSentinels(getFimFormat('qwen2.5-coder'), async (text) => tokenize(text));
  assert.equal(result.tokenIds['<|file_sep|>'], undefined);
  assert.deepEqual(result.warnings, [
    "Qwen2.5-Coder's file separator token '<|file_sep|>' tokenizes to 12 tokens [1060, 1124, 1102, 1105, 1108, 1101, 1095, 1115, 1101, 1112, 1124, 1062], not one: " +
      'the tokenizer does not know it as a special token (wrong FIM format for this model, or special-token parsing is off), ' +
      'so infill prompts would reach the model as plain text.',
  ]);
});

test('the wrong format for a model: every sentinel fails', async () => {
  const result = await checkSentinels(getFimFormat('starcoder'), tokenizer(QWEN_IDS));
  assert.equal(
    result.warnings.length,
    Object.keys(getFimFormat('starcoder').tokens).length - 1,
    'all but <|endoftext|>',
  );
  assert.deepEqual(result.tokenIds, { '<|endoftext|>': 151643 });
});

test('two sentinels with one id are reported; a text shared by two roles is probed once (CodeGemma)', async () => {
  const codegemma = getFimFormat('codegemma');
  const calls: string[] = [];
  const tokenize = tokenizer({
    '<|fim_prefix|>': 67,
    '<|fim_middle|>': 68,
    '<|fim_suffix|>': 67,
    '<|file_separator|>': 70,
  });
  const result = await checkSentinels(codegemma, (text) => {
    calls.push(text);
    return tokenize(text);
  });
  assert.deepEqual(calls, ['<|fim_prefix|>', '<|fim_suffix|>', '<|fim_middle|>', '<|file_separator|>']);
  assert.deepEqual(result.warnings, [
    "CodeGemma's FIM suffix token '<|fim_suffix|>' has the same id 67 as '<|fim_prefix|>'; the model cannot tell them apart.",
  ]);
});

test('Code Llama is probed with its vocabulary spelling ▁<PRE>, not the rendered <PRE>', async () => {
  const result = await checkSentinels(
    getFimFormat('codellama'),
    tokenizer({ '▁<PRE>': 32007, '▁<SUF>': 32008, '▁<MID>': 32009, '▁<EOT>': 32010 }),
  );
  assert.deepEqual(result, {
    warnings: [],
    tokenIds: { '▁<PRE>': 32007, '▁<SUF>': 32008, '▁<MID>': 32009, '▁<EOT>': 32010 },
  });
});
