/**
 * Checkpoints: one file with a JSON header (config, step, tokens seen, schedule, seed) followed by the weights and
 * AdamW's two moment vectors as float32. Written to a temporary name and renamed, so a kill mid-write leaves the
 * previous checkpoint intact.
 */
import { readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import type { ModelConfig } from './model.js';
import type { AdamWState } from './optimizer.js';

const MAGIC = 'CLCK';

export interface CheckpointHeader {
  version: 1;
  config: ModelConfig;
  /** Steps completed; the next step to run. */
  step: number;
  tokensSeen: number;
  adamT: number;
  seed: number;
  /** The training settings the run was started with (to check a resume uses the same ones). */
  train: Record<string, unknown>;
  /**
   * Training phases: a resumed run that changes the token budget, the peak LR or the FIM mix starts a new one from
   * its step (absent in checkpoints written before phases were recorded: one phase with the starting settings).
   */
  phases?: TrainingPhase[];
  savedAt: string;
}

export interface TrainingPhase {
  fromStep: number;
  totalTokens: number;
  learningRate: number;
  /** The data settings (FIM rate, SPM and line-span fractions…); null where the checkpoint predates this record. */
  data: Record<string, unknown> | null;
  startedAt: string | null;
}

export interface Checkpoint {
  header: CheckpointHeader;
  params: Float32Array;
  adam: AdamWState;
}

function bytesOf(array: Float32Array): Uint8Array {
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

export function saveCheckpoint(path: string, checkpoint: Checkpoint): void {
  const header = Buffer.from(JSON.stringify(checkpoint.header), 'utf8');
  const prefix = Buffer.alloc(8);
  prefix.write(MAGIC, 0, 'ascii');
  prefix.writeUInt32LE(header.length, 4);
  const padding = Buffer.alloc((4 - ((8 + header.length) % 4)) % 4);
  const temporary = `${path}.tmp`;
  writeFileSync(
    temporary,
    Buffer.concat([
      prefix,
      header,
      padding,
      bytesOf(checkpoint.params),
      bytesOf(checkpoint.adam.m),
      bytesOf(checkpoint.adam.v),
    ]),
  );
  renameSync(temporary, path);
}

export function loadCheckpoint(path: string): Checkpoint {
  const bytes = readFileSync(path);
  if (bytes.toString('ascii', 0, 4) !== MAGIC) throw new Error(`${path} is not a codeloop checkpoint (bad magic)`);
  const headerLength = bytes.readUInt32LE(4);
  const header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength)) as CheckpointHeader;
  const start = 8 + headerLength + ((4 - ((8 + headerLength) % 4)) % 4);
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + bytes.length));
  const n = floats.length / 3;
  if (!Number.isInteger(n)) throw new Error(`${path}: truncated checkpoint (${floats.length} floats)`);
  return {
    header,
    params: floats.slice(0, n),
    adam: { m: floats.slice(n, 2 * n), v: floats.slice(2 * n), t: header.adamT },
  };
}

export function checkpointExists(path: string): boolean {
  return existsSync(path);
}
