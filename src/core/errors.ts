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

export function isCodeloopError(error: unknown): error is CodeloopError {
  return error instanceof CodeloopError;
}
