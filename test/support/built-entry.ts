import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** `dist/main.js`: the entry point the image, compose, Kubernetes and `npm start` run. */
export const BUILT_ENTRY = 'dist/main.js';

/**
 * Vitest global setup: `npm run build` once per run, so every test that starts Switchyard in a
 * process of its own starts the compiled artefact that ships, not TypeScript through a loader.
 */
export default function buildOnce(): void {
  const result = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status}): the tests need dist/`);
}
