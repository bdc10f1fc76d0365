import { parseArgs } from 'node:util';
import { REDIS_URL_ENV, inspectQueue, redactRedisUrl, type QueueInspection } from '../queue/index.js';
import { describeSeccompPolicy, probeIsolation, seccompOptionsFor } from '../sandbox/index.js';
import type { Command } from './command.js';

const usage = `Usage: codeloop doctor [--json] [--redis URL]

Reports which sandbox isolation this machine gives and why: user namespaces, bubblewrap, seccomp, cgroup v1/v2
memory+pids controllers, root or not, and what each missing piece costs. With --redis URL (or $${REDIS_URL_ENV}) it
also checks the job queue there (codeloop worker, --queue): Redis version, round trip, queue depth, connected workers
and dead-lettered jobs. Exit code 0 when a sandbox is available (and, when asked, the queue is reachable).`;

type QueueCheck = { ok: true; inspection: QueueInspection } | { ok: false; url: string; error: string };

async function checkQueue(url: string | undefined): Promise<QueueCheck | undefined> {
  if (url === undefined || url === '') return undefined;
  try {
    return { ok: true, inspection: await inspectQueue(url, { deadLetterLimit: 3 }) };
  } catch (error) {
    return { ok: false, url: redactRedisUrl(url), error: (error as Error).message };
  }
}

function queueLines(check: QueueCheck): string[] {
  if (!check.ok) return [`  MISS  ${'queue'.padEnd(16)} ${check.error}`];
  const { inspection } = check;
  const lines = [
    `  ok    ${'queue'.padEnd(16)} ${inspection.url}: Redis ${inspection.redisVersion}, ping ${inspection.pingMs.toFixed(1)} ms; ` +
      `${inspection.waiting} waiting, ${inspection.active} active, ${inspection.deadLettered} dead-lettered; ` +
      `${inspection.workers.length} worker(s) connected`,
  ];
  for (const worker of inspection.workers) lines.push(`        ${''.padEnd(16)} ${worker}`);
  for (const letter of inspection.deadLetters)
    lines.push(`        ${''.padEnd(16)} dead letter ${letter.jobId.slice(0, 12)}: ${letter.reason}`);
  return lines;
}

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'report which sandbox isolation this machine gives, and what is missing',
  usage,
  async run(argv) {
    const { values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean', default: false }, redis: { type: 'string' } },
    });
    const report = probeIsolation();
    const queue = await checkQueue(values.redis ?? process.env[REDIS_URL_ENV]);
    const exitCode = report.level === null || queue?.ok === false ? 1 : 0;
    if (values.json) {
      process.stdout.write(
        `${JSON.stringify({ ...report, seccompPolicy: describeSeccompPolicy(seccompOptionsFor(report.level === 'bwrap+seccomp+cgroup' ? report.cgroups : null)), ...(queue === undefined ? {} : { queue }) }, null, 2)}\n`,
      );
      return exitCode;
    }
    const lines = ['codeloop doctor', ''];
    for (const check of report.checks) {
      lines.push(`  ${check.ok ? 'ok  ' : 'MISS'}  ${check.name.padEnd(16)} ${check.detail}`);
      if (!check.ok && check.cost) lines.push(`        ${''.padEnd(16)} cost: ${check.cost}`);
    }
    if (queue !== undefined) lines.push(...queueLines(queue));
    lines.push('');
    lines.push(
      report.level === null
        ? 'Isolation: NONE. codeloop refuses to run untrusted code here unless given --unsafe-no-sandbox. Fix the MISS lines above.'
        : `Isolation: ${report.level}${report.level === 'bwrap+seccomp' ? ' (no cgroups: see the cgroups line for what that costs)' : ' (every layer available)'}`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
    return exitCode;
  },
};
