import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkTagged } from './tagged.js';

const nested = (depth: number): unknown => {
  let value: unknown = [];
  for (let index = 0; index < depth; index++) value = [value];
  return value;
};

test('checkTagged accepts what the runtimes encode', () => {
  for (const value of [
    null,
    true,
    'text',
    [{ i: '-12' }, { f: 'nan' }, { n: '-0' }, { bi: '123456789012345678901234567890' }, { u: 1 }],
    { t: [{ i: '1' }] },
    { d: [['key', { s: [{ fs: [] }] }]] },
    { obj: [['a', { map: [[{ n: '1' }, { set: [] }]] }]] },
    { b: '00ff' },
    { c: ['1.0', '-inf'] },
    { date: '0' },
    { ty: 'int' },
    { o: 'function', r: '<function f>' },
    nested(200),
  ])
    assert.equal(checkTagged(value), undefined, JSON.stringify(value));
});

test('checkTagged refuses malformed claims with a reason, without recursion', () => {
  const cases: [unknown, RegExp][] = [
    [{ i: 'xyz' }, /malformed integer/],
    [{ bi: '1'.repeat(5001) }, /malformed integer/],
    [nested(300_000), /nested more than/],
    [{ d: [['only one']] }, /malformed pair/],
    [{ t: 'not a list' }, /without a list/],
    [{ i: '1', f: '1' }, /no tagged value/],
    [{ toString: 1 }, /no tagged value/],
    [{ o: [[[]]], r: '' }, /opaque/],
    [{ f: 'x'.repeat(101) }, /malformed "f"/],
    [{ b: 'zz' }, /bytes/],
    [{ c: ['1'] }, /complex/],
    [3, /bare number/],
  ];
  for (const [value, reason] of cases) assert.match(checkTagged(value) ?? 'accepted', reason);
});
