import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BUILT_ENTRY } from './built-entry.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** A worker in its own process (`node dist/main.js worker`, as shipped), so a test can kill it with SIGKILL. */
export function spawnWorker(env: Record<string, string>): ChildProcess & { output: string[] } {
  const child = spawn(process.execPath, ['--enable-source-maps', BUILT_ENTRY, 'worker'], {
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
