/**
 * One base error for everything codeloop throws. `code` is stable and machine-readable; the message says what went
 * wrong, the value involved and what to do next. Generated code failing is never an error: it is a verdict.
 */
export class CodeloopError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CodeloopError';
    this.code = code;
  }
}

/** The user gave a value codeloop cannot use (a flag, a file, an option). The CLI exits with code 2. */
export class UsageError extends CodeloopError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('usage', message, options);
    this.name = 'UsageError';
  }
}

/**
 * A capability needs an npm package that codeloop does not install by default (an optional peer dependency, such as
 * onnxruntime-node for training). The message names the package and the command that installs it.
 */
export class MissingDependencyError extends CodeloopError {
  constructor(
    readonly packageName: string,
    /** What needs it, e.g. `codeloop train`. */
    readonly purpose: string,
    /** The version range to install, e.g. `1.30.0`. */
    readonly versionRange: string,
    options?: { cause?: unknown },
  ) {
    super(
      'missing-dependency',
      `${purpose} needs the npm package ${packageName}, which is not installed. ` +
        `Install it next to codeloop: npm install ${packageName}@${versionRange}`,
      options,
    );
    this.name = 'MissingDependencyError';
  }
}

/** True when `error` is Node failing to find `packageName` itself (not a file or package it imports). */
export function isPackageNotFound(error: unknown, packageName: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  const message = (error as Error).message;
  return message.includes(`'${packageName}'`) || message.includes(`"${packageName}"`);
}

export function isCodeloopError(error: unknown): error is CodeloopError {
  return error instanceof CodeloopError;
}
