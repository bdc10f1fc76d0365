/**
 * AdamW over the model's single parameter vector (decoupled weight decay, Loshchilov & Hutter 2019), global-norm
 * gradient clipping, and the learning-rate schedule (linear warmup, then cosine decay to a floor).
 */
import type { ParameterGroup } from './model.js';

export interface AdamWOptions {
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface AdamWState {
  m: Float32Array;
  v: Float32Array;
  /** Number of updates applied (for bias correction). */
  t: number;
}

export function createAdamWState(size: number): AdamWState {
  return { m: new Float32Array(size), v: new Float32Array(size), t: 0 };
}

/** Scales `grad` in place so its global L2 norm is at most `maxNorm`; returns the norm before clipping. */
export function clipGradientNorm(grad: Float32Array, maxNorm: number): number {
  let sum = 0;
  for (let i = 0; i < grad.length; i++) sum += grad[i]! * grad[i]!;
  const norm = Math.sqrt(sum);
  if (norm > maxNorm && norm > 0) {
    const scale = maxNorm / norm;
    for (let i = 0; i < grad.length; i++) grad[i]! *= scale;
  }
  return norm;
}

/** One AdamW update of `params` in place. Groups with `decay: false` (norm weights) get no weight decay. */
export function adamWStep(
  params: Float32Array,
  grad: Float32Array,
  state: AdamWState,
  groups: readonly ParameterGroup[],
  lr: number,
  options: AdamWOptions,
): void {
  const { beta1, beta2, eps, weightDecay } = options;
  state.t += 1;
  const correction1 = 1 - Math.pow(beta1, state.t);
  const correction2 = 1 - Math.pow(beta2, state.t);
  const { m, v } = state;
  for (const group of groups) {
    const decay = group.decay ? lr * weightDecay : 0;
    const end = group.offset + group.size;
    for (let i = group.offset; i < end; i++) {
      const g = grad[i]!;
      m[i] = beta1 * m[i]! + (1 - beta1) * g;
      v[i] = beta2 * v[i]! + (1 - beta2) * g * g;
      const update = m[i]! / correction1 / (Math.sqrt(v[i]! / correction2) + eps);
      params[i] = params[i]! - decay * params[i]! - lr * update;
    }
  }
}

export interface LearningRateSchedule {
  peak: number;
  /** Steps of linear warmup from 0. */
  warmupSteps: number;
  /** Total steps; the cosine reaches `floor` here and stays there after. */
  totalSteps: number;
  /** Fraction of `peak` at the end. */
  floorFraction: number;
}

export function learningRate(step: number, schedule: LearningRateSchedule): number {
  const { peak, warmupSteps, totalSteps, floorFraction } = schedule;
  if (step < warmupSteps) return (peak * (step + 1)) / warmupSteps;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  const floor = peak * floorFraction;
  return floor + 0.5 * (peak - floor) * (1 + Math.cos(Math.PI * progress));
}
