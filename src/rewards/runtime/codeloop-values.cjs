// Value transfer between the candidate's process and the trusted test process (src/rewards), JavaScript side. Runs
// INSIDE the sandbox. A value crosses as tagged JSON and is rebuilt from plain data only (arrays, plain objects, Map,
// Set, primitives), so no getter, Proxy, prototype or method of the candidate's reaches the process that runs the
// assertions:
//   null/boolean/string -> JSON; number -> {"n": String(v)}; undefined -> {"u": 1}; bigint -> {"bi": digits};
//   Array -> [...]; Map -> {"map": [[k, v], ...]}; Set -> {"set": [...]}; Date -> {"date": ms};
//   other objects -> {"obj": [[key, v], ...]} (own enumerable string keys); anything else -> {"o": type, "r": text},
//   which decodes to an Opaque value that deep-equals nothing.
'use strict';
const fs = require('node:fs');
const { Buffer } = require('node:buffer');

// Captured when this module loads, before any solution runs: a solution that replaces the globals later does not
// change how result lines are written.
const writeSync = fs.writeSync;
const byteLength = Buffer.byteLength;
const bufferFrom = Buffer.from.bind(Buffer);
const wait = Atomics.wait.bind(Atomics);
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd`. Touching process.stdout makes fd 1 non-blocking when it is a pipe, so writeSync may
 * write part of a long line or throw EAGAIN while the reader catches up: write the rest after a 1 ms pause.
 */
function writeAll(fd, text) {
  const buffer = bufferFrom(text, 'utf8');
  const total = byteLength(text, 'utf8');
  let offset = 0;
  while (offset < total) {
    try {
      offset += writeSync(fd, buffer, offset, total - offset);
    } catch (error) {
      if (!error || error.code !== 'EAGAIN') throw error;
      wait(pause, 0, 0, 1);
    }
  }
}

const MAX_DEPTH = 200;
const MAX_ITEMS = 1_000_000;
/** An own enumerable key no expected value has, so an Opaque value never deep-equals one. */
const OPAQUE_KEY = `__codeloopOpaque${Math.random().toString(36).slice(2)}`;

class Opaque {
  constructor(type, text) {
    Object.defineProperty(this, OPAQUE_KEY, { value: `${type} ${text}`, enumerable: true });
  }
}

function encode(value, depth = 0, budget = { left: MAX_ITEMS }) {
  budget.left -= 1;
  if (budget.left < 0 || depth > MAX_DEPTH) return { o: 'too-large', r: '' };
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (value === undefined) return { u: 1 };
  if (typeof value === 'number') return { n: Object.is(value, -0) ? '-0' : String(value) };
  if (typeof value === 'bigint') return { bi: value.toString() };
  if (typeof value !== 'object') return { o: typeof value, r: '' };
  if (Array.isArray(value)) {
    const items = [];
    for (let index = 0; index < value.length; index++) items.push(encode(value[index], depth + 1, budget));
    return items;
  }
  if (value instanceof Map) return { map: [...value].map(([k, v]) => [encode(k, depth + 1, budget), encode(v, depth + 1, budget)]) };
  if (value instanceof Set) return { set: [...value].map((item) => encode(item, depth + 1, budget)) };
  if (value instanceof Date) return { date: String(value.getTime()) };
  if (typeof value.then === 'function') return { o: 'Promise', r: '' };
  return { obj: Object.keys(value).map((key) => [String(key), encode(value[key], depth + 1, budget)]) };
}

function number(text) {
  if (typeof text !== 'string') throw new TypeError('malformed number');
  return text === '-0' ? -0 : Number(text);
}

/** Rebuilds a value from plain data; throws a TypeError for anything malformed. */
function decode(data, depth = 0) {
  if (depth > MAX_DEPTH) throw new TypeError('value nested too deeply');
  if (data === null || typeof data === 'boolean' || typeof data === 'string') return data;
  if (Array.isArray(data)) {
    // A literal, not data.map(): the array must belong to the realm this code runs in (see trusted-tests.cjs).
    const items = [];
    for (const item of data) items.push(decode(item, depth + 1));
    return items;
  }
  if (typeof data !== 'object') throw new TypeError('malformed value');
  if ('n' in data) return number(data.n);
  if ('u' in data) return undefined;
  if ('bi' in data) {
    if (typeof data.bi !== 'string' || !/^-?\d{1,5000}$/.test(data.bi)) throw new TypeError('malformed bigint');
    return BigInt(data.bi);
  }
  if ('map' in data) return new Map(list(data.map).map((pair) => pairOf(pair, depth)));
  if ('set' in data) {
    const set = new Set();
    for (const item of list(data.set)) set.add(decode(item, depth + 1));
    return set;
  }
  if ('date' in data) return new Date(number(data.date));
  if ('obj' in data) {
    const object = {};
    for (const pair of list(data.obj)) {
      const [key, value] = pairOf(pair, depth);
      if (typeof key !== 'string') throw new TypeError('malformed object key');
      Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
    }
    return object;
  }
  if ('o' in data) return new Opaque(String(data.o).slice(0, 100), String(data.r ?? '').slice(0, 200));
  throw new TypeError('unknown value tag');
}

function list(value) {
  if (!Array.isArray(value)) throw new TypeError('malformed value: expected a list');
  return value;
}

function pairOf(pair, depth) {
  if (!Array.isArray(pair) || pair.length !== 2) throw new TypeError('malformed pair');
  return [decode(pair[0], depth + 1), decode(pair[1], depth + 1)];
}

module.exports = { encode, decode, Opaque, writeAll };
