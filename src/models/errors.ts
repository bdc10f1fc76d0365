import { CodeloopError } from '../core/index.js';
import type { ModelErrorCode } from './spec.js';

/** An error of the model layer, with one of the codes in `ModelErrorCode`. */
export class ModelError extends CodeloopError {
  declare readonly code: ModelErrorCode;

  constructor(code: ModelErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'ModelError';
  }
}

/** The backend cannot do what was asked (infill without FIM tokens, chat without a template, logprobs, …). */
export class UnsupportedCapabilityError extends ModelError {
  readonly capability: string;

  constructor(capability: string, message: string) {
    super('unsupported-capability', message);
    this.name = 'UnsupportedCapabilityError';
    this.capability = capability;
  }
}

/** An HTTP call to a model server failed. `retryable`: worth retrying (network error, 408, 409, 429, 5xx). */
export class ApiCallError extends ModelError {
  readonly statusCode: number | undefined;
  readonly retryable: boolean;
  readonly url: string;
  readonly responseBody: string | undefined;

  constructor(
    message: string,
    details: { url: string; statusCode?: number; retryable: boolean; responseBody?: string; cause?: unknown },
  ) {
    super('api-call-failed', message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ApiCallError';
    this.url = details.url;
    this.statusCode = details.statusCode;
    this.retryable = details.retryable;
    this.responseBody = details.responseBody;
  }
}
