import { MnemoError } from '../memory/errors.js';

export {
  badLinesError,
  EmbedderError,
  InputError,
  MnemoError,
  type MnemoErrorCode,
  StoreError,
} from '../memory/errors.js';

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
export function oneLine(error: unknown, max = 300): string {
  const text = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
