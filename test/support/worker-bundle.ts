import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/** Inside the project, so that the bundle's imports of packages resolve to its node_modules. */
const cacheDir = join(root, 'node_modules', '.cache', 'switchyard-tests');

let bundled: Promise<string> | undefined;

/**
 * `src/main.ts` compiled by esbuild into one file, packages left as imports: the same code tsx
 * runs, without tsx's per-import hooks, so a worker process starts in about half the time. The
 * resilience suite starts dozens of workers on two cores; the file is named by its content, so
 * concurrent test processes share it.
 */
export function workerBundle(): Promise<string> {
  bundled ??= (async () => {
    const result = await build({
      entryPoints: [join(root, 'src', 'main.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      write: false,
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]?.contents;
    if (!code) throw new Error('esbuild produced no worker bundle');
    const file = join(cacheDir, `main-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`);
    const exists = await stat(file).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(cacheDir, { recursive: true });
      const partial = `${file}.${process.pid}.tmp`;
      await writeFile(partial, code);
      await rename(partial, file);
    }
    return file;
  })();
  return bundled;
}
