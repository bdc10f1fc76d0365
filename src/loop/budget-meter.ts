/**
 * The solve budget: its limits, the spending so far, and whether another model call or program is allowed. One meter
 * per solve; the loop asks it before each call and records each call's usage in it.
 */
import { UsageError } from '../core/index.js';

/** Prices of a priced API, in US dollars per million tokens. */
export interface Pricing {
  promptUsdPerMillion: number;
  completionUsdPerMillion: number;
}

/** Limits on one solve; the loop stops before the next model call once any is reached. */
export interface SolveBudget {
  /** Prompt + completion tokens over all model calls (tests generation included). */
  maxTokens?: number;
  /** Wall-clock time of the loop in ms (model calls and executions; the final verdict is outside it). */
  maxWallMs?: number;
  /** Programs generated (samples + repairs). */
  maxAttempts?: number;
  /** US dollars, computed from `pricing`; needs `pricing`. */
  maxCostUsd?: number;
  pricing?: Pricing;
}

/** Why a budget ended the loop (the budget part of solve's `StopReason`). */
export type BudgetStopReason = 'budget-tokens' | 'budget-wall' | 'budget-attempts' | 'budget-cost';

/** Token counts of one call (or a sum of calls). */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface BudgetMeter {
  /** Aborts when the wall-clock budget runs out; undefined without one. Starts when the meter is made. */
  readonly deadline: AbortSignal | undefined;
  /** What was spent so far (all calls; `programs` counts samples + repairs). */
  readonly spent: Readonly<TokenUsage & { usd: number; programs: number }>;
  /** The USD cost of `usage` at the budget's prices (0 without prices). */
  cost(usage: TokenUsage): number;
  /** max_tokens for the next call: `maxTokensPerCall`, capped by the tokens and the cost left, at least 1. */
  callMaxTokens(maxTokensPerCall: number): number;
  /** Why the loop must stop before another model call (`program`: one that makes a program), if it must. */
  exhausted(program: boolean): BudgetStopReason | null;
  /** Adds one call's usage (tokens and cost). */
  recordCall(usage: TokenUsage): void;
  /** Counts one program generated. */
  recordProgram(): void;
}

/** Refuses a budget with a non-positive limit, or a cost limit without prices (usage errors naming the value). */
export function checkBudget(budget: SolveBudget): void {
  if (budget.maxCostUsd !== undefined && budget.pricing === undefined)
    throw new UsageError(
      `maxCostUsd=${budget.maxCostUsd} needs prices: give pricing ` +
        `(--price PROMPT,COMPLETION in USD per million tokens).`,
    );
  for (const [key, value] of Object.entries(budget) as [string, unknown][]) {
    if (key !== 'pricing' && value !== undefined && (typeof value !== 'number' || !(value > 0)))
      throw new UsageError(`budget ${key}=${String(value)} must be a positive number.`);
  }
}

export function createBudgetMeter(budget: SolveBudget): BudgetMeter {
  const deadline = budget.maxWallMs === undefined ? undefined : AbortSignal.timeout(budget.maxWallMs);
  const spent = { promptTokens: 0, completionTokens: 0, usd: 0, programs: 0 };

  const cost = (usage: TokenUsage): number =>
    budget.pricing
      ? (usage.promptTokens * budget.pricing.promptUsdPerMillion +
          usage.completionTokens * budget.pricing.completionUsdPerMillion) /
        1e6
      : 0;

  /**
   * Completion tokens the cost budget still pays for (tokens = USD left / USD per million × 1e6): each call's
   * max_tokens is capped by it, so that one call cannot overshoot the budget by a whole max_tokens. The prompt's cost
   * is known only after the call and can still take the total over.
   */
  const affordableTokens = (): number => {
    const price = budget.pricing?.completionUsdPerMillion ?? 0;
    return budget.maxCostUsd === undefined || price <= 0
      ? Infinity
      : Math.floor(((budget.maxCostUsd - spent.usd) / price) * 1e6);
  };

  return {
    deadline,
    spent,
    cost,
    callMaxTokens(maxTokensPerCall) {
      const remaining =
        budget.maxTokens === undefined ? Infinity : budget.maxTokens - spent.promptTokens - spent.completionTokens;
      return Math.max(1, Math.min(maxTokensPerCall, remaining, affordableTokens()));
    },
    exhausted(program) {
      if (deadline?.aborted) return 'budget-wall';
      if (budget.maxTokens !== undefined && spent.promptTokens + spent.completionTokens >= budget.maxTokens)
        return 'budget-tokens';
      if (budget.maxCostUsd !== undefined && (spent.usd >= budget.maxCostUsd || affordableTokens() < 1))
        return 'budget-cost';
      if (program && budget.maxAttempts !== undefined && spent.programs >= budget.maxAttempts) return 'budget-attempts';
      return null;
    },
    recordCall(usage) {
      spent.promptTokens += usage.promptTokens;
      spent.completionTokens += usage.completionTokens;
      spent.usd += cost(usage);
    },
    recordProgram() {
      spent.programs++;
    },
  };
}
