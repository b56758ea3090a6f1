import { MnemoError, squeeze } from '../memory/index.js';

export {
  badLinesError,
  EmbedderError,
  InputError,
  MnemoError,
  type MnemoErrorCode,
  StoreError,
} from '../memory/index.js';

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

/** An error's message as one line (providers' messages can span several), for events and CLI output. */
export function errorLine(error: unknown, max = 300): string {
  return squeeze(error instanceof Error ? error.message : String(error), max);
}
