import { startSwitchyard, type Roles } from './app/bootstrap.js';
import { loadCatalogApart } from './app/load-catalog-apart.js';
import { loadConfig } from './config.js';
import { envFileNote, loadEnvFile } from './env-file.js';
import { createLogger } from './logger.js';

const ROLES: Record<string, Roles> = {
  all: { bot: true, worker: true },
  bot: { bot: true, worker: false },
  worker: { bot: false, worker: true },
};

async function main(): Promise<void> {
  const role = process.argv[2] ?? 'all';
  const roles = ROLES[role];
  if (!roles) throw new Error(`unknown role "${role}": give bot, worker or nothing (both)`);
  const envFile = loadEnvFile();
  const config = (() => {
    try {
      return loadConfig();
    } catch (error) {
      throw new Error(`${error instanceof Error ? error.message : String(error)} ${envFileNote(envFile)}`, {
        cause: error,
      });
    }
  })();
  const catalog = await loadCatalogApart(config.SERVICES_FILE);
  const log = createLogger(config.LOG_LEVEL);
  log.info({ envFile: envFile ?? null }, envFile ? `read variables from ${envFile}` : 'no .env file: environment only');
  const running = await startSwitchyard({ config, catalog, roles, log });
  const stop = async (signal: string) => {
    log.info({ signal }, 'shutting down');
    await running.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
}

main().catch((error: unknown) => {
  // One clear line naming what was wrong; catalog errors list each bad path.
  process.stderr.write(`switchyard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
