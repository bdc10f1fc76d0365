import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createStopCutter, cutAtStop, normalizeStops } from './stop-sequences.js';

test('cutAtStop cuts before the earliest stop and names it', () => {
  assert.equal(cutAtStop('a\nprint(x)\ndef f', ['\ndef', '\nprint']).text, 'a');
  assert.deepEqual(cutAtStop('abc', []), { text: 'abc' });
  assert.deepEqual(cutAtStop('    return 1\ndef g():', ['\ndef ', '\nclass ']), {
    text: '    return 1',
    stopSequence: '\ndef ',
  });
  assert.deepEqual(cutAtStop('abc', ['x']), { text: 'abc' });
  assert.deepEqual(cutAtStop('xab', ['b', 'ab']), { text: 'x', stopSequence: 'ab' });
  assert.deepEqual(cutAtStop('abc', ['', 'c']), { text: 'ab', stopSequence: 'c' }, 'an empty stop is ignored');
  assert.deepEqual(normalizeStops(['a', '', 'a']), ['a']);
});

/** Feeds `chunks` through a cutter and returns what it emits. */
function run(stops: string[], chunks: string[]): { text: string; stopSequence?: string } {
  const cutter = createStopCutter(stops);
  let text = '';
  for (const chunk of chunks) {
    const cut = cutter.push(chunk);
    text += cut.text;
    if (cut.stopSequence !== undefined) return { text, stopSequence: cut.stopSequence };
  }
  return { text: text + cutter.flush() };
}

test('a stop string split across chunks is found and never partly emitted', () => {
  assert.deepEqual(run(['\ndef '], ['    return 1\n', 'de', 'f g', '():']), {
    text: '    return 1',
    stopSequence: '\ndef ',
  });
  assert.deepEqual(run(['\ndef '], ['x\nd', 'e']), { text: 'x\nde' }, 'held text is flushed when the stream ends');
  assert.deepEqual(run(['ab'], ['a', 'a', 'b']), { text: 'a', stopSequence: 'ab' });
});

test('streamed cutting gives the same text as cutting the whole text, for every split point', () => {
  const text = 'if x:\n    y = 1\n\n# done\nprint(y)';
  const stops = ['\n\n', '\nprint', '# d'];
  const whole = cutAtStop(text, stops);
  for (let a = 0; a <= text.length; a++) {
    for (let b = a; b <= text.length; b++) {
      assert.deepEqual(run(stops, [text.slice(0, a), text.slice(a, b), text.slice(b)]), whole, `split at ${a}, ${b}`);
    }
  }
});

test('emits text eagerly when it cannot start a stop string', () => {
  const cutter = createStopCutter(['STOP']);
  assert.equal(cutter.push('hello S').text, 'hello ');
  assert.equal(cutter.push('x').text, 'Sx');
  assert.equal(cutter.stopped, false);
});
