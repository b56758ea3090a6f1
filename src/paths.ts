import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where mnemo keeps its data: `$XDG_DATA_HOME/mnemo`, else `~/.local/share/mnemo`. The only module that knows
 * about $HOME and XDG.
 */
export function dataDir(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_DATA_HOME?.trim();
  return xdg ? join(xdg, 'mnemo') : join(env.HOME?.trim() || homedir(), '.local', 'share', 'mnemo');
}

/** The database file: `--db`, else `$MNEMO_DB`, else `mnemo.db` in the data directory. */
export function databasePath(env: NodeJS.ProcessEnv, flag?: string): string {
  return flag?.trim() || env.MNEMO_DB?.trim() || join(dataDir(env), 'mnemo.db');
}

/** Caches that can be rebuilt (the word-vector cache). */
export function cacheDir(env: NodeJS.ProcessEnv): string {
  return join(dataDir(env), 'cache');
}
