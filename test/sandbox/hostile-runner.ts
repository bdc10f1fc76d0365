// Runs the hostile battery with a fresh executor and prints one JSON line per program. Started by hostile.test.ts,
// in process as root and as a child process under an unprivileged uid.
import { createExecutor, type ExecutionResult } from '../../src/sandbox/index.js';
import { HOSTILE_PROGRAMS, batteryRequest, type BatteryContext } from './hostile-programs.js';

export interface BatteryOutcome {
  name: string;
  verdict: string;
  problem?: string;
  reason: string;
}

export async function runBattery(
  context: BatteryContext,
  concurrency = 2,
): Promise<{ isolation: string; outcomes: BatteryOutcome[]; after: ExecutionResult }> {
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
    return { isolation: executor.isolation, outcomes, after };
  } finally {
    await executor.close();
  }
}

if (process.argv[1]?.endsWith('hostile-runner.js') && process.argv[2]) {
  const context = JSON.parse(process.argv[2]) as BatteryContext;
  const { isolation, outcomes, after } = await runBattery(context);
  process.stdout.write(
    `${JSON.stringify({ isolation, outcomes, after: { verdict: after.verdict, stdout: after.stdout } })}\n`,
  );
}
