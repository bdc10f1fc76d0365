import { codeloopVersion, isCodeloopError, UsageError } from '../core/index.js';
import type { Command } from './command.js';
import { doctorCommand } from './doctor.js';
import { evalCommand } from './eval.js';
import { exportCommand } from './export.js';
import { generateCommand } from './generate.js';
import { reportCommand } from './report.js';
import { rewardsCommand } from './rewards.js';
import { runCommand } from './run.js';
import { serveCommand } from './serve.js';
import { trainCommand } from './train.js';
import { solveCommand } from './solve.js';

const COMMANDS: Command[] = [
  runCommand,
  doctorCommand,
  evalCommand,
  generateCommand,
  trainCommand,
  reportCommand,
  solveCommand,
  serveCommand,
  rewardsCommand,
  exportCommand,
];

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    'codeloop — execution-grounded code generation',
    '',
    'Usage: codeloop <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}`),
    '',
    'Run `codeloop <command> --help` for a command’s options.',
  ].join('\n');
}

/** Runs the CLI; returns the process exit code. The only place in codeloop that prints or decides exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${help()}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    process.stdout.write(`${codeloopVersion()}\n`);
    return 0;
  }
  const command = COMMANDS.find((candidate) => candidate.name === name);
  if (!command) {
    process.stderr.write(`codeloop: unknown command "${name}".\n\n${help()}\n`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${command.usage}\n`);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (error) {
    if (
      error instanceof UsageError ||
      (error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS'))
    ) {
      process.stderr.write(`codeloop ${name}: ${error.message}\n\n${command.usage}\n`);
      return 2;
    }
    if (isCodeloopError(error)) {
      process.stderr.write(`codeloop ${name}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(
      `codeloop ${name}: internal error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nThis is a bug in codeloop; please file an issue with the command you ran and this output.\n`,
    );
    return 70;
  }
}
