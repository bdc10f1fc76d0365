import { CodeloopError } from '../../core/index.js';

/** `fim-format-unknown`: no family's tokens were found; `fim-format-ambiguous`: more than one family fits. */
export type FimFormatErrorCode = 'fim-format-unknown' | 'fim-format-ambiguous';

/**
 * The FIM format could not be decided from a model's tokenizer. The message lists what was found and how to override;
 * `found` holds the FIM-looking special tokens (`'<|fim_prefix|>' (151659)`), `candidates` the families that fit.
 */
export class FimFormatError extends CodeloopError {
  declare readonly code: FimFormatErrorCode;
  readonly found: readonly string[];
  readonly candidates: readonly string[];

  constructor(
    code: FimFormatErrorCode,
    message: string,
    details: { found: readonly string[]; candidates: readonly string[] },
  ) {
    super(code, message);
    this.name = 'FimFormatError';
    this.found = details.found;
    this.candidates = details.candidates;
  }
}
