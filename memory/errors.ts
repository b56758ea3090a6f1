/** Every error code mnemo raises. Adapters map codes to user-facing text. */
export type MnemoErrorCode =
  | 'invalid_argument'
  | 'invalid_input'
  | 'not_found'
  | 'embedder_mismatch'
  | 'embedder_failed'
  | 'store_failed'
  | 'config_invalid'
  | 'model_unavailable'
  | 'model_failed'
  | 'tool_failed'
  | 'aborted';

/** Base of every error mnemo throws on purpose; `code` is stable, `message` is one line for a human. */
export class MnemoError extends Error {
  readonly code: MnemoErrorCode;

  constructor(code: MnemoErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The caller passed something the API cannot accept (bad user id, empty text, k out of range...). */
export class InputError extends MnemoError {
  constructor(message: string, options?: { cause?: unknown; code?: 'invalid_argument' | 'invalid_input' | 'not_found' }) {
    super(options?.code ?? 'invalid_argument', message, options);
  }
}

/** The database or its contents cannot be used as asked (wrong embedder, failed migration...). */
export class StoreError extends MnemoError {
  constructor(code: 'embedder_mismatch' | 'store_failed', message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/** An embedder could not produce vectors (network error, bad response, missing cache). */
export class EmbedderError extends MnemoError {
  constructor(message: string, options?: { cause?: unknown; code?: 'embedder_failed' | 'aborted' }) {
    super(options?.code ?? 'embedder_failed', message, options);
  }
}
