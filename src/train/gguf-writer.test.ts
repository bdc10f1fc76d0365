import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { readGgufFileInfo } from 'node-llama-cpp';
import {
  decodeTensorData,
  encodeTensorData,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  writeGguf,
} from './gguf-writer.js';

const dir = await mkdtemp(join(tmpdir(), 'codeloop-gguf-writer-'));
after(() => rm(dir, { recursive: true, force: true }));

test('node-llama-cpp reads back every metadata type, tensor dims, types and aligned offsets', async () => {
  const path = join(dir, 'all-types.gguf');
  const f32 = Float32Array.from({ length: 64 * 3 }, (_, index) => index / 7);
  await writeGguf(path, {
    metadata: [
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['test.u8', { type: 'uint8', value: 200 }],
      ['test.i8', { type: 'int8', value: -5 }],
      ['test.u16', { type: 'uint16', value: 60000 }],
      ['test.i16', { type: 'int16', value: -30000 }],
      ['test.u32', { type: 'uint32', value: 4_000_000_000 }],
      ['test.i32', { type: 'int32', value: -2_000_000_000 }],
      ['test.f32', { type: 'float32', value: 0.5 }],
      ['test.f64', { type: 'float64', value: 1e-300 }],
      ['test.bool', { type: 'bool', value: true }],
      ['test.u64', { type: 'uint64', value: 2n ** 40n }],
      ['test.i64', { type: 'int64', value: -3 }],
      ['test.unicode', { type: 'string', value: 'héllo 🎉' }],
      ['test.strings', { type: 'array', elementType: 'string', value: ['a', '', 'Ġb'] }],
      ['test.ints', { type: 'array', elementType: 'int32', value: [1, -2, 3] }],
    ],
    tensors: [
      { name: 'a', dims: [64, 3], type: 'f32', data: encodeTensorData(f32, 'f32') },
      { name: 'b', dims: [64, 3], type: 'f16', data: encodeTensorData(f32, 'f16') },
      { name: 'c', dims: [64, 3], type: 'q8_0', data: encodeTensorData(f32, 'q8_0') },
      { name: 'd', dims: [5], type: 'f32', data: encodeTensorData(new Float32Array(5), 'f32') },
    ],
  });
  const info = await readGgufFileInfo(path, { logWarnings: false });
  const metadata = info.metadata as unknown as Record<string, Record<string, unknown>>;
  assert.equal(info.version, 3);
  assert.equal(metadata.general!.architecture, 'llama');
  assert.equal(metadata.general!.alignment, 32);
  assert.deepEqual(
    { ...metadata.test },
    {
      u8: 200,
      i8: -5,
      u16: 60000,
      i16: -30000,
      u32: 4_000_000_000,
      i32: -2_000_000_000,
      f32: 0.5,
      f64: 1e-300,
      bool: true,
      u64: 2n ** 40n,
      i64: -3n,
      unicode: 'héllo 🎉',
      strings: ['a', '', 'Ġb'],
      ints: [1, -2, 3],
    },
  );
  const tensors = info.fullTensorInfo!.map(({ name, dimensions, ggmlType, offset }) => ({
    name,
    dims: dimensions.map(Number),
    ggmlType,
    offset: Number(offset),
  }));
  assert.deepEqual(tensors, [
    { name: 'a', dims: [64, 3], ggmlType: 0, offset: 0 },
    { name: 'b', dims: [64, 3], ggmlType: 1, offset: 768 },
    { name: 'c', dims: [64, 3], ggmlType: 8, offset: 1152 }, // 768 + 384 (f16)
    { name: 'd', dims: [5], ggmlType: 0, offset: 1376 }, // 1152 + 204 (6 Q8_0 blocks of 34) padded to 224
  ]);
  // The data section starts aligned, and tensor "a" is there byte for byte.
  const file = await readFile(path);
  const dataStart = Number(info.fullTensorInfo![0]!.fileOffset);
  assert.equal(dataStart % 32, 0);
  assert.deepEqual(
    new Float32Array(file.buffer.slice(file.byteOffset + dataStart, file.byteOffset + dataStart + 64 * 3 * 4)),
    f32,
  );
  assert.equal(file.length, dataStart + 1376 + 32);
});

test('f16 conversion rounds to nearest even and handles subnormals, overflow and specials', () => {
  const cases: [number, number][] = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [0.5, 0x3800],
    [65504, 0x7bff],
    [65520, 0x7c00],
    [1e6, 0x7c00],
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [0.1, 0x2e66],
    [1 / 3, 0x3555],
    [2 ** -24, 0x0001],
    [2 ** -14, 0x0400],
    [1e-10, 0x0000],
    [1 + 2 ** -11, 0x3c00], // halfway: rounds to even (down)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway: rounds to even (up)
  ];
  for (const [value, bits] of cases) assert.equal(float32ToFloat16Bits(value), bits, `f16(${value})`);
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
  for (const [value, bits] of cases.slice(0, 7))
    assert.equal(float16BitsToFloat32(bits), value === 65520 || value === 1e6 ? Infinity : value);
});

test('Q8_0 stores each block of 32 as an f16 scale (max|x|/127) and rounded int8s; decoding is within half a step', () => {
  const values = Float32Array.from(
    { length: 96 },
    (_, index) => Math.sin(index) * (index < 32 ? 1 : index < 64 ? 100 : 0),
  );
  const bytes = encodeTensorData(values, 'q8_0');
  assert.equal(bytes.length, 3 * 34);
  const view = new DataView(bytes.buffer);
  const max = Math.max(...Array.from(values.subarray(0, 32), Math.abs));
  assert.equal(view.getUint16(0, true), float32ToFloat16Bits(max / 127));
  const decoded = decodeTensorData(bytes, 'q8_0', 96);
  for (let index = 0; index < 96; index++) {
    const step = index < 32 ? 1 / 127 : index < 64 ? 100 / 127 : 0;
    assert.ok(Math.abs(decoded[index]! - values[index]!) <= step * 0.5 + step * 1e-3, `element ${index}`);
  }
  assert.ok(
    decoded.subarray(64).every((value) => value === 0),
    'an all-zero block decodes to zeros',
  );
  assert.throws(
    () => encodeTensorData(new Float32Array(33), 'q8_0'),
    /Q8_0 needs a multiple of 32 elements per row, got 33/,
  );
});

test('bad tensors and duplicate keys are refused with the name involved', async () => {
  const path = join(dir, 'bad.gguf');
  await assert.rejects(
    writeGguf(path, { metadata: [], tensors: [{ name: 'w', dims: [4, 2], type: 'f32', data: new Uint8Array(16) }] }),
    /GGUF tensor w: 16 bytes of data, expected 32 for f32 \[4, 2\]/,
  );
  await assert.rejects(
    writeGguf(path, { metadata: [], tensors: [{ name: 'q', dims: [16, 4], type: 'q8_0', data: new Uint8Array(68) }] }),
    /GGUF tensor q: Q8_0 rows \(ne0 = 16\) must be a multiple of 32/,
  );
  await assert.rejects(
    writeGguf(path, {
      metadata: [
        ['k', { type: 'uint32', value: 1 }],
        ['k', { type: 'uint32', value: 2 }],
      ],
      tensors: [],
    }),
    /GGUF metadata key k is given twice/,
  );
  await assert.rejects(
    writeGguf(path, { metadata: [['k', { type: 'uint32', value: 'x' }]], tensors: [] }),
    /GGUF key k: uint32 value must be a number, got string/,
  );
});
