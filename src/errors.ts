import { MnemoError } from '../memory/errors.js';

export { MnemoError, InputError, StoreError, EmbedderError, type MnemoErrorCode } from '../memory/errors.js';

/** The configuration (environment or flags) cannot be used. */
export class ConfigError extends MnemoError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config_invalid', message, options);
  }
}

/** A command-line usage mistake: the CLI prints one line and exits with status 2. */
export class UsageError extends MnemoError {
  constructor(message: string) {
    super('invalid_argument', message);
  }
}
