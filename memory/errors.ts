/** Every error code mnemo raises. Adapters map codes to user-facing text. */
export type MnemoErrorCode =
  | 'invalid_argument'
  | 'invalid_input'
  | 'not_found'
  | 'embedder_mismatch'
  | 'embedder_failed'
  | 'store_failed'
  | 'config_invalid'
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
  constructor(
    message: string,
    options?: { cause?: unknown; code?: 'invalid_argument' | 'invalid_input' | 'not_found' },
  ) {
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

/** How many bad lines {@link badLinesError} lists before it only counts the rest. */
const LISTED_LINES = 10;

/** One error for a file with bad lines: the first ten, each as `line N: what is wrong`, and that nothing was written. */
export function badLinesError(name: string, problems: readonly string[]): InputError {
  const more = problems.length > LISTED_LINES ? `\n  … and ${problems.length - LISTED_LINES} more bad lines` : '';
  const listed = problems.slice(0, LISTED_LINES).join('\n  ');
  return new InputError(
    `${name}: ${problems.length} bad line${problems.length === 1 ? '' : 's'}, nothing was written\n  ${listed}${more}`,
    { code: 'invalid_input' },
  );
}
