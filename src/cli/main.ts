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
import { workerCommand } from './worker.js';

const COMMANDS: Command[] = [
  runCommand,
  doctorCommand,
  evalCommand,
  generateCommand,
  trainCommand,
  reportCommand,
  solveCommand,
  serveCommand,
  workerCommand,
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

const NEGATIVE_NUMBER = /^-(\d|\.\d)/;

/**
 * Spellings node:util's parseArgs gets wrong, rewritten before it sees them: a negative number after a flag
 * (`--timeout -1` is "ambiguous" to it) is joined to the flag, and `-n=5` (which it reads as the value "=5") becomes
 * `-n5`. The flag's own check then names the value and its range. Everything after `--` is left alone.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index] as string;
    const next = argv[index + 1];
    if (arg === '--') {
      out.push(...argv.slice(index));
      break;
    }
    const shortWithEquals = /^-([A-Za-z])=(.*)$/s.exec(arg);
    if (shortWithEquals !== null) out.push(`-${shortWithEquals[1]}${shortWithEquals[2]}`);
    else if (next !== undefined && NEGATIVE_NUMBER.test(next) && /^--[^=]+$/.test(arg)) {
      out.push(`${arg}=${next}`);
      index++;
    } else if (next !== undefined && NEGATIVE_NUMBER.test(next) && /^-[A-Za-z]$/.test(arg)) {
      out.push(`${arg}${next}`);
      index++;
    } else out.push(arg);
  }
  return out;
}

/** parseArgs's errors in codeloop's words: the option as typed, and what to do (its own texts quote unevenly). */
function parseArgsMessage(error: NodeJS.ErrnoException): string {
  const unknown = /Unknown option '([^']+)'/.exec(error.message);
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown !== null) return `unknown option ${unknown[1]}.`;
  const missing = /Option '([^']+?)(?: <value>)?' argument missing/.exec(error.message);
  if (missing?.[1] !== undefined)
    return `option ${missing[1]} needs a value, e.g. ${missing[1].split(', ').at(-1) ?? missing[1]} VALUE.`;
  return error.message.replace(/\s*\n\s*/g, ' ');
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
    return await command.run(normalizeArgv(rest));
  } catch (error) {
    const parseError =
      error instanceof TypeError && (error as NodeJS.ErrnoException).code?.startsWith('ERR_PARSE_ARGS');
    if (error instanceof UsageError || parseError) {
      const message = parseError ? parseArgsMessage(error as NodeJS.ErrnoException) : (error as Error).message;
      process.stderr.write(`codeloop ${name}: ${message}\nRun \`codeloop ${name} --help\` for its options.\n`);
      return 2;
    }
    // Ctrl-C (SIGINT) and SIGTERM: 128 + SIGINT, as a shell reports an interrupted command.
    if (isCodeloopError(error) && error.code === 'interrupted') {
      process.stderr.write(`codeloop ${name}: ${error.message}\n`);
      return 130;
    }
    if (isCodeloopError(error)) {
      process.stderr.write(`codeloop ${name}: ${error.message}\n`);
      return 1;
    }
    process.stderr.write(
      `codeloop ${name}: internal error: ` +
        `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\nThis is a bug in codeloop; ` +
        `please file an issue with the command you ran and this output.\n`,
    );
    return 70;
  }
}
