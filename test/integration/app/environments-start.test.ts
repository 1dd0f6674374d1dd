import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { BUILT_ENTRY } from '../../support/built-entry.js';
import { REDIS_URL } from '../../support/harness.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** `node dist/main.js worker` with this environment; its exit code and output. */
function runWorker(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BUILT_ENTRY, 'worker'], {
    cwd: root,
    env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { stdout: '', stderr: '' };
  child.stdout.on('data', (chunk: Buffer) => (output.stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output.stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, ...output })));
}

describe('a worker whose catalog names a kubeContext KUBECONFIG lacks', () => {
  let sandbox: Sandbox;
  let dir: string;
  beforeAll(async () => {
    sandbox = await startSandbox({ staging: true });
    dir = await mkdtemp(join(tmpdir(), 'switchyard-contexts-'));
  });
  afterAll(async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('stops at start with one line naming the environment and the context', async () => {
    const catalog = parse(sandbox.catalogYaml) as { environments: Record<string, Record<string, unknown>> };
    catalog.environments.staging = { ...catalog.environments.staging, kubeContext: 'staging-eu' };
    const file = join(dir, 'services.yaml');
    await writeFile(file, stringify(catalog));
    const env = await sandbox.env(REDIS_URL, `sy-test-contexts-${process.pid}`);

    const { code, stdout, stderr } = await runWorker({ ...env, SERVICES_FILE: file });
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      'switchyard: environment staging: kubeContext "staging-eu" is not a context of KUBECONFIG (contexts: production, staging)\n',
    );
  });
});
