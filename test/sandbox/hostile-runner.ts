// Runs the hostile battery with a fresh executor and prints one JSON line per program. Started by hostile.test.ts,
// in process as root and as a child process under an unprivileged uid.
import { createExecutor, type ExecutionResult, type Executor } from '../../src/sandbox/index.js';
import { HOSTILE_PROGRAMS, batteryRequest, type BatteryContext } from './hostile-programs.js';

export interface BatteryOutcome {
  name: string;
  verdict: string;
  problem?: string;
  reason: string;
}

/** CPU time two concurrent executions got in the same 2 s of wall clock: one spinning alone, one in 60 sessions. */
export interface CpuShare {
  victimCpuMs: number;
  attackerCpuMs: number;
}

const SPIN = 'import time\nend = time.monotonic() + 2.0\nwhile time.monotonic() < end:\n    pass\n';
// 60 children that each try to start a session of their own (each session is a scheduler autogroup, which weighs as
// much as a whole other execution), spin for the same 2 s, and are waited for, so their CPU time counts in the result.
const SPIN_IN_SESSIONS =
  'import os, time\nend = time.monotonic() + 2.0\nchildren = []\nfor _ in range(60):\n    pid = os.fork()\n' +
  '    if pid == 0:\n        try:\n            os.setsid()\n        except OSError:\n            pass\n' +
  '        while time.monotonic() < end:\n            pass\n        os._exit(0)\n    children.append(pid)\n' +
  'for pid in children:\n    os.waitpid(pid, 0)\n';

/** Runs the spinner and the 60-session spinner side by side (the executor must have two workers). */
export async function measureCpuShare(executor: Executor): Promise<CpuShare> {
  const limits = { wallMs: 15_000, processes: 128 };
  const [victim, attacker] = await Promise.all([
    executor.run({ language: 'python', code: SPIN, limits }),
    executor.run({ language: 'python', code: SPIN_IN_SESSIONS, limits }),
  ]);
  for (const result of [victim, attacker])
    if (result.verdict !== 'passed') throw new Error(`CPU share program: ${result.verdict} (${result.reason})`);
  return { victimCpuMs: victim.cpuMs, attackerCpuMs: attacker.cpuMs };
}

export async function runBattery(
  context: BatteryContext,
  concurrency = 2,
): Promise<{ isolation: string; outcomes: BatteryOutcome[]; after: ExecutionResult; cpuShare: CpuShare }> {
  const executor = await createExecutor({ concurrency });
  try {
    const outcomes = await Promise.all(
      HOSTILE_PROGRAMS.map(async (program): Promise<BatteryOutcome> => {
        const result = await executor.run(batteryRequest(program, context));
        const expected = Array.isArray(program.expect) ? program.expect : [program.expect];
        const problems: string[] = [];
        if (!expected.includes(result.verdict))
          problems.push(`verdict ${result.verdict}, expected ${expected.join(' or ')}`);
        const extra = program.check?.(result, context);
        if (extra) problems.push(extra);
        return {
          name: program.name,
          verdict: result.verdict,
          reason: result.reason,
          ...(problems.length
            ? { problem: `${problems.join('; ')} (${result.reason}; stderr: ${result.stderr.slice(-300)})` }
            : {}),
        };
      }),
    );
    // The pool survived: a plain program still runs and passes.
    const after = await executor.run({ language: 'python', code: 'print(sum(range(10)))' });
    const cpuShare = await measureCpuShare(executor);
    return { isolation: executor.isolation, outcomes, after, cpuShare };
  } finally {
    await executor.close();
  }
}

if (process.argv[1]?.endsWith('hostile-runner.js') && process.argv[2]) {
  const context = JSON.parse(process.argv[2]) as BatteryContext;
  const { isolation, outcomes, after, cpuShare } = await runBattery(context);
  process.stdout.write(
    `${JSON.stringify({ isolation, outcomes, after: { verdict: after.verdict, stdout: after.stdout }, cpuShare })}\n`,
  );
}
