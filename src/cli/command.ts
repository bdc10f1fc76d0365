/**
 * One `codeloop` subcommand. Each command file exports one (or more) and main.ts lists them; it lives in its own file
 * so command files do not import main.ts, which imports them.
 */
export interface Command {
  /** The word after `codeloop` (`eval`, `solve`, …). */
  name: string;
  /** One line for `codeloop --help`. */
  summary: string;
  /** The command's `--help` text. */
  usage: string;
  /** Runs the command with the arguments after its name; resolves to the process exit code. */
  run(args: string[]): Promise<number>;
}
