// Test-only preload (`node --import ./test/support/loaded-modules/register.mjs dist/main.js …`):
// records every module the process loads into the file named by LOADED_MODULES_FILE, one URL
// or path a line. ES modules are seen by the resolve hook in hooks.mjs as they are resolved;
// CommonJS modules required from CommonJS (which that hook does not see) are added from
// require's cache when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import process from 'node:process';

const file = process.env.LOADED_MODULES_FILE;
if (!file) throw new Error('LOADED_MODULES_FILE must name the file that receives the loaded modules');

register('./hooks.mjs', import.meta.url, { data: { file } });

const cache = createRequire(import.meta.url).cache;
process.on('exit', () => {
  const required = Object.keys(cache);
  if (required.length) appendFileSync(file, `${required.join('\n')}\n`);
});
