import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * A worker in its own process (`src/main.ts worker`), so a test can kill it with SIGKILL;
 * `bundle` runs that entry point compiled ahead (see worker-bundle.ts) instead of through tsx.
 */
export function spawnWorker(
  env: Record<string, string>,
  options: { bundle?: string } = {},
): ChildProcess & { output: string[] } {
  const entry = options.bundle ? [options.bundle, 'worker'] : ['--import', 'tsx', 'src/main.ts', 'worker'];
  const child = spawn(process.execPath, entry, {
    cwd: root,
    env: { ...process.env, LOG_LEVEL: 'warn', NODE_NO_WARNINGS: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  }) as ChildProcess & { output: string[] };
  child.output = [];
  child.stdout?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => child.output.push(chunk.toString()));
  return child;
}

export const killed = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
