import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Where `npm start` looks for its variables besides the environment: `.env` in the working directory. */
export const ENV_FILE = '.env';

/**
 * Loads `file` into `process.env` when it exists (Node's own parser; variables already set in the
 * environment win, as with `--env-file`). Returns the absolute path it read, or undefined.
 */
export function loadEnvFile(file = ENV_FILE): string | undefined {
  const path = resolve(file);
  if (!existsSync(path)) return undefined;
  process.loadEnvFile(path);
  return path;
}

/** Said beside a configuration error, so a user knows which file was (or was not) read. */
export const envFileNote = (read: string | undefined): string =>
  read
    ? `(variables read from the environment and ${read})`
    : `(no ${ENV_FILE} in ${process.cwd()}: copy .env.example to .env and fill it in, or set the variables in the environment)`;
