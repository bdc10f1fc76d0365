import { parseArgs } from 'node:util';
import { describeSeccompPolicy, probeIsolation, seccompOptionsFor } from '../sandbox/index.js';
import type { Command } from './command.js';

const usage = `Usage: codeloop doctor [--json]

Reports which sandbox isolation this machine gives and why: user namespaces, bubblewrap, seccomp, cgroup v1/v2
memory+pids controllers, root or not, and what each missing piece costs. Exit code 0 when a sandbox is available.`;

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'report which sandbox isolation this machine gives, and what is missing',
  usage,
  async run(argv) {
    const { values } = parseArgs({ args: argv, options: { json: { type: 'boolean', default: false } } });
    const report = probeIsolation();
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ...report, seccompPolicy: describeSeccompPolicy(seccompOptionsFor(report.level === 'bwrap+seccomp+cgroup' ? report.cgroups : null)) }, null, 2)}\n`,
      );
      return report.level === null ? 1 : 0;
    }
    const lines = ['codeloop doctor', ''];
    for (const check of report.checks) {
      lines.push(`  ${check.ok ? 'ok  ' : 'MISS'}  ${check.name.padEnd(16)} ${check.detail}`);
      if (!check.ok && check.cost) lines.push(`        ${''.padEnd(16)} cost: ${check.cost}`);
    }
    lines.push('');
    lines.push(
      report.level === null
        ? 'Isolation: NONE. codeloop refuses to run untrusted code here unless given --unsafe-no-sandbox. Fix the MISS lines above.'
        : `Isolation: ${report.level}${report.level === 'bwrap+seccomp' ? ' (no cgroups: see the cgroups line for what that costs)' : ' (every layer available)'}`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    return report.level === null ? 1 : 0;
  },
};
