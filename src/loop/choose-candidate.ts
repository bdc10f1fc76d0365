import type { ChatMessage } from '../models/index.js';
import type { AttemptRecord } from './attempt-record.js';
import { rankByDualAgreement, type AgreementCluster } from './codet.js';
import type { TestResult, TestRunResult } from '../sandbox/index.js';
import type { Strategy } from './strategy.js';

/**
 * The final program among the candidates: CodeT's dual execution agreement or MBR-exec over the generated tests, or,
 * without selection (or without generated tests to select by), the first candidate with the best visible pass rate.
 */

/** A finished chain of attempts (a sample and its repairs): its last attempt, with its test run. */
export interface Candidate {
  record: AttemptRecord;
  run: TestRunResult;
  /** For chat repairs: the conversation that produced this attempt. */
  messages?: ChatMessage[];
}

export interface Choice {
  candidate: Candidate | null;
  method: string;
  clusters?: { attempt_ids: string[]; tests: number; score: number }[];
}

/** The first candidate with the best visible pass rate (no visible tests: the first candidate). */
function bestVisible(candidates: readonly Candidate[]): Candidate | null {
  let best: Candidate | null = null;
  for (const candidate of candidates) {
    if (candidate.record.infra_error) continue;
    if (best === null || (candidate.record.visible_pass_rate ?? 1) > (best.record.visible_pass_rate ?? 1))
      best = candidate;
  }
  return best ?? candidates[0] ?? null;
}

export function chooseCandidate(
  candidates: readonly Candidate[],
  strategy: Strategy,
  testSamples: readonly string[][],
  generatedIds: ReadonlyMap<string, string>,
): Choice {
  if (strategy.select === 'none' || generatedIds.size === 0 || candidates.length === 0) {
    return {
      candidate: bestVisible(candidates),
      method: strategy.select === 'none' ? 'best-visible' : `best-visible (no generated tests for ${strategy.select})`,
    };
  }
  const byCode = new Map<string, Candidate>();
  for (const candidate of candidates)
    if (!candidate.record.infra_error && !byCode.has(candidate.record.code))
      byCode.set(candidate.record.code, candidate);
  const status = (candidate: Candidate, testCase: string): TestResult | undefined =>
    candidate.run.tests.find((test) => test.id === generatedIds.get(testCase));
  if (strategy.select === 'codet') {
    const ranked: AgreementCluster[] = rankByDualAgreement({
      solutions: candidates
        .filter((candidate) => !candidate.record.infra_error)
        .map((candidate) => candidate.record.code),
      testSamples,
      limit: strategy.testsPerSample,
      scoring: strategy.scoring,
      passes: (code, testCase) => {
        const candidate = byCode.get(code);
        return candidate !== undefined && status(candidate, testCase)?.status === 'passed';
      },
    });
    const clusters = ranked.map((cluster) => ({
      attempt_ids: candidates
        .filter((candidate) => cluster.solutions.includes(candidate.record.code))
        .map((candidate) => candidate.record.attempt_id),
      tests: cluster.tests.length,
      score: cluster.score,
    }));
    const top = ranked[0];
    if (top === undefined)
      return {
        candidate: bestVisible(candidates),
        method: 'best-visible (no candidate passed a generated test)',
        clusters,
      };
    // Ties of the top score: the first candidate of the tied clusters (CodeT's evaluation draws from them uniformly).
    const tied = new Set(
      ranked.filter((cluster) => cluster.score === top.score).flatMap((cluster) => cluster.solutions),
    );
    return {
      candidate: candidates.find((candidate) => tied.has(candidate.record.code)) ?? null,
      method: 'codet',
      clusters,
    };
  }
  // MBR-exec (Shi et al. 2022) with 0/1 loss: each candidate's outputs on the generated tests' calls; the candidate
  // whose outputs differ from the fewest others wins (first on ties).
  const tests = [...generatedIds.keys()];
  const signature = (candidate: Candidate): string =>
    JSON.stringify(
      tests.map((testCase) => {
        const result = status(candidate, testCase);
        return result?.actual ?? `${result?.status ?? 'missing'}:${result?.exception?.type ?? ''}`;
      }),
    );
  const pool = candidates.filter((candidate) => !candidate.record.infra_error);
  const signatures = pool.map(signature);
  let best = -1;
  let bestRisk = Infinity;
  signatures.forEach((own, index) => {
    const risk = signatures.filter((other) => other !== own).length;
    if (risk < bestRisk) {
      best = index;
      bestRisk = risk;
    }
  });
  return { candidate: pool[best] ?? bestVisible(candidates), method: 'mbr-exec' };
}
