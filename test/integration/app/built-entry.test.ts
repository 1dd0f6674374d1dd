import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packageVersion } from '../../../src/app/bootstrap.js';
import type * as LoadCatalogApart from '../../../src/app/load-catalog-apart.js';
import { CatalogInvalid } from '../../../src/errors.js';
import { loadCatalog } from '../../../src/runbook/catalog.js';
import { BUILT_ENTRY } from '../../support/built-entry.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** `node dist/main.js` with only this environment; its exit code and output. */
function runBuilt(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BUILT_ENTRY, 'bot'], {
    cwd: root,
    env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, ...output })));
}

describe('the built entry point', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'switchyard-entry-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('reads its version from package.json, as built and from source', async () => {
    const { version } = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(packageVersion()).toBe(version);
    expect(packageVersion(join(root, 'dist', 'src', 'app'))).toBe(version);
    expect(packageVersion(tmpdir())).toBe('unknown');
  });

  it('loads the catalog in a thread of its own, with the same result and the same problems', async () => {
    // The built module: from source (no loader in the thread) it reads the catalog in-process.
    const built = pathToFileURL(join(root, 'dist', 'src', 'app', 'load-catalog-apart.js')).href;
    const { loadCatalogApart } = (await import(built)) as typeof LoadCatalogApart;
    const good = join(root, 'services.example.yaml');
    expect(await loadCatalogApart(good)).toEqual(await loadCatalog(good));
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'slack: { channel: deployments }\nservices: {}\n');
    const [apart, inline] = (await Promise.all([
      loadCatalogApart(bad).catch((error: unknown) => error),
      loadCatalog(bad).catch((error: unknown) => error),
    ])) as [CatalogInvalid, CatalogInvalid];
    expect(inline).toBeInstanceOf(CatalogInvalid);
    expect([apart.name, apart.code, apart.problems]).toEqual([inline.name, inline.code, inline.problems]);
    await expect(loadCatalogApart(join(dir, 'missing.yaml'))).rejects.toThrow('cannot be read');
  });

  it('stops with the catalog problems when the catalog is invalid', async () => {
    const bad = join(dir, 'services.yaml');
    await writeFile(bad, 'slack: { channel: deployments }\nservices: {}\n');
    const result = await runBuilt({ SLACK_BOT_TOKEN: 'xoxb-entry', SLACK_SIGNING_SECRET: 'entry', SERVICES_FILE: bad });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^switchyard: services catalog is invalid:\n {2}slack\.channel: /);
  });
});
