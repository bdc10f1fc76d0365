/**
 * A GGUF v3 file writer: metadata key/values, tensor infos and tensor data, laid out the way ggml's gguf.cpp reads
 * them (https://github.com/ggml-org/ggml/blob/master/docs/gguf.md). Generic: it knows no architecture; see
 * llama-gguf.ts for the Llama tensors and keys.
 *
 * Layout: magic `GGUF`, u32 version 3, u64 tensor count, u64 key/value count; each KV is a string key (u64 length +
 * UTF-8 bytes), a u32 value type and the value (arrays: u32 element type, u64 count, elements); each tensor info is
 * its name, u32 n_dims, u64 dims in ggml order (ne0 = the contiguous, innermost dimension), u32 ggml type and a u64
 * offset into the data section; then padding to `general.alignment` (32), then the tensors, each padded to 32.
 */
import { open } from 'node:fs/promises';

/** GGUF metadata value types (gguf.md `gguf_metadata_value_type`). */
const VALUE_TYPES = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

export type GgufScalarType = Exclude<keyof typeof VALUE_TYPES, 'array'>;
export type GgufScalar = number | bigint | boolean | string;

export type GgufMetadataValue =
  | { type: GgufScalarType; value: GgufScalar }
  | { type: 'array'; elementType: GgufScalarType; value: readonly GgufScalar[] };

/** Tensor element types this writer can encode (ggml `GGML_TYPE_*` ids 0, 1, 8). */
export type GgufTensorType = 'f32' | 'f16' | 'q8_0';

const TENSOR_TYPES: Record<GgufTensorType, number> = { f32: 0, f16: 1, q8_0: 8 };

/** Elements per Q8_0 block; a block is an f16 scale then 32 int8 values (34 bytes). */
export const Q8_0_BLOCK_SIZE = 32;

export interface GgufTensor {
  name: string;
  /** Dimensions in ggml order: `dims[0]` (ne0) is the contiguous one, e.g. `[in, out]` for a row-major [out][in] matrix. */
  dims: readonly number[];
  type: GgufTensorType;
  /** Encoded data (see `encodeTensorData`). */
  data: Uint8Array;
}

export interface WriteGgufOptions {
  /** Key/value pairs in the order to write them. `general.alignment` is written as 32 unless given. */
  metadata: ReadonlyArray<readonly [string, GgufMetadataValue]>;
  tensors: readonly GgufTensor[];
}

const ALIGNMENT = 32;
const utf8 = new TextEncoder();

/** Growable little-endian byte buffer for the header. */
class ByteWriter {
  private buffer = new Uint8Array(1 << 16);
  private view = new DataView(this.buffer.buffer);
  length = 0;

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buffer.subarray(0, this.length));
    this.buffer = next;
    this.view = new DataView(next.buffer);
  }

  u8(value: number): void {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
  }
  i8(value: number): void {
    this.reserve(1);
    this.view.setInt8(this.length, value);
    this.length += 1;
  }
  u16(value: number): void {
    this.reserve(2);
    this.view.setUint16(this.length, value, true);
    this.length += 2;
  }
  i16(value: number): void {
    this.reserve(2);
    this.view.setInt16(this.length, value, true);
    this.length += 2;
  }
  u32(value: number): void {
    this.reserve(4);
    this.view.setUint32(this.length, value, true);
    this.length += 4;
  }
  i32(value: number): void {
    this.reserve(4);
    this.view.setInt32(this.length, value, true);
    this.length += 4;
  }
  f32(value: number): void {
    this.reserve(4);
    this.view.setFloat32(this.length, value, true);
    this.length += 4;
  }
  f64(value: number): void {
    this.reserve(8);
    this.view.setFloat64(this.length, value, true);
    this.length += 8;
  }
  u64(value: number | bigint): void {
    this.reserve(8);
    this.view.setBigUint64(this.length, BigInt(value), true);
    this.length += 8;
  }
  i64(value: number | bigint): void {
    this.reserve(8);
    this.view.setBigInt64(this.length, BigInt(value), true);
    this.length += 8;
  }
  string(value: string): void {
    const bytes = utf8.encode(value);
    this.u64(bytes.length);
    this.reserve(bytes.length);
    this.buffer.set(bytes, this.length);
    this.length += bytes.length;
  }
  pad(alignment: number): void {
    while (this.length % alignment !== 0) this.u8(0);
  }
  bytes(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }
}

function writeScalar(writer: ByteWriter, type: GgufScalarType, value: GgufScalar, key: string): void {
  const number = (): number => {
    if (typeof value !== 'number')
      throw new TypeError(`GGUF key ${key}: ${type} value must be a number, got ${typeof value}`);
    return value;
  };
  switch (type) {
    case 'uint8':
      return writer.u8(number());
    case 'int8':
      return writer.i8(number());
    case 'uint16':
      return writer.u16(number());
    case 'int16':
      return writer.i16(number());
    case 'uint32':
      return writer.u32(number());
    case 'int32':
      return writer.i32(number());
    case 'float32':
      return writer.f32(number());
    case 'float64':
      return writer.f64(number());
    case 'uint64':
    case 'int64':
      if (typeof value !== 'number' && typeof value !== 'bigint')
        throw new TypeError(`GGUF key ${key}: ${type} value must be a number or bigint`);
      return type === 'uint64' ? writer.u64(value) : writer.i64(value);
    case 'bool':
      if (typeof value !== 'boolean') throw new TypeError(`GGUF key ${key}: bool value must be a boolean`);
      return writer.u8(value ? 1 : 0);
    case 'string':
      if (typeof value !== 'string') throw new TypeError(`GGUF key ${key}: string value must be a string`);
      return writer.string(value);
  }
}

/** Bytes a tensor of `type` with `elements` values takes. */
export function tensorByteLength(type: GgufTensorType, elements: number): number {
  if (type === 'f32') return elements * 4;
  if (type === 'f16') return elements * 2;
  if (elements % Q8_0_BLOCK_SIZE !== 0)
    throw new RangeError(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} elements per row, got ${elements}`);
  return (elements / Q8_0_BLOCK_SIZE) * (2 + Q8_0_BLOCK_SIZE);
}

/** Writes a GGUF file at `path` (overwritten). */
export async function writeGguf(path: string, options: WriteGgufOptions): Promise<void> {
  const { metadata, tensors } = options;
  const entries = [...metadata];
  if (!entries.some(([key]) => key === 'general.alignment'))
    entries.push(['general.alignment', { type: 'uint32', value: ALIGNMENT }]);
  const seen = new Set<string>();
  for (const [key] of entries) {
    if (seen.has(key)) throw new Error(`GGUF metadata key ${key} is given twice`);
    seen.add(key);
  }

  const header = new ByteWriter();
  header.u8(0x47); // G
  header.u8(0x47); // G
  header.u8(0x55); // U
  header.u8(0x46); // F
  header.u32(3);
  header.u64(tensors.length);
  header.u64(entries.length);
  for (const [key, entry] of entries) {
    header.string(key);
    header.u32(VALUE_TYPES[entry.type]);
    if (entry.type === 'array') {
      header.u32(VALUE_TYPES[entry.elementType]);
      header.u64(entry.value.length);
      for (const element of entry.value) writeScalar(header, entry.elementType, element, key);
    } else writeScalar(header, entry.type, entry.value, key);
  }
  let offset = 0;
  for (const tensor of tensors) {
    const elements = tensor.dims.reduce((product, dim) => product * dim, 1);
    if (tensor.type === 'q8_0' && tensor.dims[0]! % Q8_0_BLOCK_SIZE !== 0) {
      throw new RangeError(
        `GGUF tensor ${tensor.name}: Q8_0 rows (ne0 = ${tensor.dims[0]}) must be a multiple of ${Q8_0_BLOCK_SIZE}`,
      );
    }
    const expected = tensorByteLength(tensor.type, elements);
    if (tensor.data.length !== expected) {
      throw new RangeError(
        `GGUF tensor ${tensor.name}: ${tensor.data.length} bytes of data, expected ${expected} for ${tensor.type} ` +
          `[${tensor.dims.join(', ')}]`,
      );
    }
    header.string(tensor.name);
    header.u32(tensor.dims.length);
    for (const dim of tensor.dims) header.u64(dim);
    header.u32(TENSOR_TYPES[tensor.type]);
    header.u64(offset);
    offset += Math.ceil(expected / ALIGNMENT) * ALIGNMENT;
  }
  header.pad(ALIGNMENT);

  const file = await open(path, 'w');
  try {
    await file.write(header.bytes());
    const zeros = new Uint8Array(ALIGNMENT);
    for (const tensor of tensors) {
      await file.write(tensor.data);
      const padding = (ALIGNMENT - (tensor.data.length % ALIGNMENT)) % ALIGNMENT;
      if (padding > 0) await file.write(zeros.subarray(0, padding));
    }
  } finally {
    await file.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Element encodings

const float32Scratch = new Float32Array(1);
const uint32Scratch = new Uint32Array(float32Scratch.buffer);

/** IEEE half-precision bits of `value`, rounded to nearest even (what ggml's FP32→FP16 conversion does). */
export function float32ToFloat16Bits(value: number): number {
  float32Scratch[0] = value;
  const bits = uint32Scratch[0]!;
  const sign = (bits >>> 16) & 0x8000;
  const exponent = (bits >>> 23) & 0xff;
  let mantissa = bits & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // inf / NaN
  let halfExponent = exponent - 127 + 15;
  if (halfExponent >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (halfExponent <= 0) {
    if (halfExponent < -10) return sign; // underflow → ±0
    mantissa |= 0x800000; // implicit bit
    const shift = 14 - halfExponent;
    let half = mantissa >>> shift;
    const remainder = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (remainder > halfway || (remainder === halfway && (half & 1) === 1)) half++;
    return sign | half;
  }
  let half = (halfExponent << 10) | (mantissa >>> 13);
  const remainder = mantissa & 0x1fff;
  if (remainder > 0x1000 || (remainder === 0x1000 && (half & 1) === 1)) half++; // may carry into the exponent: still correct
  return sign | half;
}

/** The float value of half-precision `bits`. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/**
 * `values` encoded as `type`. Q8_0 follows ggml's `quantize_row_q8_0_ref`: per block of 32, d = max|x| / 127 stored
 * as f16, q = round(x / d) (half away from zero) as int8; `values.length` must be a multiple of 32.
 */
export function encodeTensorData(values: Float32Array, type: GgufTensorType): Uint8Array {
  if (type === 'f32') {
    const copy = new Float32Array(values);
    return new Uint8Array(copy.buffer, copy.byteOffset, copy.byteLength);
  }
  if (type === 'f16') {
    const halves = new Uint16Array(values.length);
    for (let index = 0; index < values.length; index++) halves[index] = float32ToFloat16Bits(values[index]!);
    return new Uint8Array(halves.buffer);
  }
  const bytes = new Uint8Array(tensorByteLength('q8_0', values.length));
  const view = new DataView(bytes.buffer);
  const blockBytes = 2 + Q8_0_BLOCK_SIZE;
  for (let block = 0; block < values.length / Q8_0_BLOCK_SIZE; block++) {
    const start = block * Q8_0_BLOCK_SIZE;
    let max = 0;
    for (let index = 0; index < Q8_0_BLOCK_SIZE; index++) max = Math.max(max, Math.abs(values[start + index]!));
    const scale = Math.fround(max / 127);
    const inverse = scale ? Math.fround(1 / scale) : 0;
    view.setUint16(block * blockBytes, float32ToFloat16Bits(scale), true);
    for (let index = 0; index < Q8_0_BLOCK_SIZE; index++) {
      const scaled = Math.fround(values[start + index]! * inverse);
      const rounded = Math.sign(scaled) * Math.round(Math.abs(scaled));
      view.setInt8(block * blockBytes + 2 + index, Math.max(-128, Math.min(127, rounded)));
    }
  }
  return bytes;
}

/** Decodes `encodeTensorData` output back to floats (what llama.cpp will compute with). */
export function decodeTensorData(bytes: Uint8Array, type: GgufTensorType, elements: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const values = new Float32Array(elements);
  if (type === 'f32') for (let index = 0; index < elements; index++) values[index] = view.getFloat32(index * 4, true);
  else if (type === 'f16')
    for (let index = 0; index < elements; index++)
      values[index] = float16BitsToFloat32(view.getUint16(index * 2, true));
  else {
    const blockBytes = 2 + Q8_0_BLOCK_SIZE;
    for (let block = 0; block < elements / Q8_0_BLOCK_SIZE; block++) {
      const scale = float16BitsToFloat32(view.getUint16(block * blockBytes, true));
      for (let index = 0; index < Q8_0_BLOCK_SIZE; index++) {
        values[block * Q8_0_BLOCK_SIZE + index] = scale * view.getInt8(block * blockBytes + 2 + index);
      }
    }
  }
  return values;
}
