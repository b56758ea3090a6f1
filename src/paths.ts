import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where the user's data may live, as the configuration read it (`$XDG_DATA_HOME`, `$HOME`). */
export interface DataLocation {
  readonly xdgDataHome?: string | undefined;
  readonly home?: string | undefined;
}

/**
 * Where mnemo keeps its data: `$XDG_DATA_HOME/mnemo`, else `~/.local/share/mnemo`. The only module that knows
 * the XDG layout; config.ts reads the variables.
 */
export function dataDirectory(location: DataLocation): string {
  return location.xdgDataHome
    ? join(location.xdgDataHome, 'mnemo')
    : join(location.home || homedir(), '.local', 'share', 'mnemo');
}

/** The database file: the one named (`--db`, else `$MNEMO_DB`), else `mnemo.db` in the data directory. */
export function databaseFile(dataDir: string, named?: string): string {
  return named || join(dataDir, 'mnemo.db');
}

/** Caches that can be rebuilt (the word-vector cache). */
export function cacheDirectory(dataDir: string): string {
  return join(dataDir, 'cache');
}
