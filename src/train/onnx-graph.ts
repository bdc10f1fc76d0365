/**
 * A minimal ONNX model encoder: just enough protobuf (ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto)
 * to hand-build the small graphs the trainer runs in onnxruntime-node. Field numbers are from onnx/onnx.proto3.
 * onnxruntime-node is inference-only (no TrainingSession), so the trainer builds forward and backward graphs itself.
 */

/** A growing byte buffer with protobuf wire-format writers. */
class ProtoWriter {
  private chunks: Uint8Array[] = [];
  private length = 0;

  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }

  private push(chunk: Uint8Array): void {
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    const out: number[] = [];
    while (v >= 0x80n) {
      out.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    out.push(Number(v));
    this.push(Uint8Array.from(out));
  }

  private tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    const buffer = new Uint8Array(4);
    new DataView(buffer.buffer).setFloat32(0, value, true);
    this.push(buffer);
  }

  raw(field: number, value: Uint8Array): void {
    this.tag(field, 2);
    this.varint(value.length);
    this.push(value);
  }

  string(field: number, value: string): void {
    this.raw(field, new TextEncoder().encode(value));
  }

  message(field: number, build: (writer: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    build(inner);
    this.raw(field, inner.bytes());
  }
}

/** ONNX TensorProto.DataType values used here. */
export const OnnxType = { float: 1, int32: 6, int64: 7 } as const;
export type OnnxElementType = (typeof OnnxType)[keyof typeof OnnxType];

export type OnnxAttribute = number | number[] | { floatValue: number };

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attributes?: Record<string, OnnxAttribute>;
}

export interface OnnxValue {
  name: string;
  type?: OnnxElementType;
  /** Dimensions; a string is a symbolic dimension. */
  shape: (number | string)[];
}

export interface OnnxInitializer {
  name: string;
  type: OnnxElementType;
  dims: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  inputs: OnnxValue[];
  outputs: OnnxValue[];
  initializers?: OnnxInitializer[];
  /** Default opset 17 (LayerNormalization-era ops; every op used here exists there). */
  opset?: number;
}

function writeValueInfo(writer: ProtoWriter, value: OnnxValue): void {
  writer.string(1, value.name);
  writer.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, value.type ?? OnnxType.float);
      tensor.message(2, (shape) => {
        for (const dim of value.shape) {
          shape.message(1, (d) => (typeof dim === 'number' ? d.int(1, dim) : d.string(2, dim)));
        }
      });
    }),
  );
}

function writeAttribute(writer: ProtoWriter, name: string, value: OnnxAttribute): void {
  writer.string(1, name);
  if (typeof value === 'number') {
    writer.int(3, value);
    writer.int(20, 2); // INT
  } else if (Array.isArray(value)) {
    for (const item of value) writer.int(8, item);
    writer.int(20, 7); // INTS
  } else {
    writer.float(2, value.floatValue);
    writer.int(20, 1); // FLOAT
  }
}

/** Encodes a graph as a serialized ONNX ModelProto (IR version 8). */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const writer = new ProtoWriter();
  writer.int(1, 8); // ir_version
  writer.string(2, 'codeloop'); // producer_name
  writer.message(7, (g) => {
    graph.nodes.forEach((node, index) => {
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `n${index}`);
        n.string(4, node.op);
        for (const [name, value] of Object.entries(node.attributes ?? {}))
          n.message(5, (a) => writeAttribute(a, name, value));
      });
    });
    g.string(2, 'g');
    for (const init of graph.initializers ?? []) {
      g.message(5, (t) => {
        for (const dim of init.dims) t.int(1, dim);
        t.int(2, init.type);
        t.string(8, init.name);
        t.raw(9, new Uint8Array(init.data.buffer, init.data.byteOffset, init.data.byteLength));
      });
    }
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  writer.message(8, (o) => {
    o.string(1, '');
    o.int(2, graph.opset ?? 17);
  });
  return writer.bytes();
}
