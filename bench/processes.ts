import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchFailed } from './bench-error.js';

const root = fileURLToPath(new URL('../', import.meta.url));

export interface BenchProcess {
  name: string;
  pid: number;
  child: ChildProcess;
  /** The last few kB the process wrote, for error messages. */
  tail(): string;
  /** Resident set size now, in MiB (Linux /proc). */
  rssMiB(): Promise<number>;
  /** SIGTERM, then SIGKILL if it has not exited in time; resolves once it has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface SpawnOptions {
  env: Record<string, string>;
  /** Write a V8 CPU profile (`--cpu-prof`) into this directory when the process exits. */
  cpuProfDir?: string;
  /** Open an IPC channel (`child.send` / `process.send`). */
  ipc?: boolean;
}

/** Runs a TypeScript entry (through tsx) in its own Node process, as `npm start` would. */
export function spawnTs(name: string, entry: string, args: string[], options: SpawnOptions): BenchProcess {
  // One directory per process: Node writes a profile per thread (tsx's loader runs in one of its own).
  const flags = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, name)}`] : [];
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', entry, ...args], {
    cwd: root,
    env: { ...process.env, NODE_NO_WARNINGS: '1', LOG_LEVEL: 'warn', ...options.env },
    stdio: options.ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid === undefined) throw new BenchFailed(`could not start ${name} (${entry})`);
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const pid = child.pid;
  return {
    name,
    pid,
    child,
    tail: () => output,
    rssMiB: async () => {
      const status = await readFile(`/proc/${pid}/status`, 'utf8');
      const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
      if (!kb) throw new BenchFailed(`no VmRSS for ${name} (pid ${pid})`);
      return Number(kb) / 1024;
    },
    stop: (timeoutMs = 10_000) =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** `src/main.ts bot|worker|all` with the sandbox's environment. */
export const spawnSwitchyard = (role: 'bot' | 'worker' | 'all', name: string, options: SpawnOptions): BenchProcess =>
  spawnTs(name, 'src/main.ts', role === 'all' ? [] : [role], options);

/** Polls until `probe` is true; fails with the process's last output if it exits or time runs out. */
export async function waitUntil(
  what: string,
  probe: () => Promise<boolean> | boolean,
  timeoutMs: number,
  proc?: BenchProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc && proc.child.exitCode !== null)
      throw new BenchFailed(`${proc.name} exited (${proc.child.exitCode}) while waiting for ${what}`, {
        output: proc.tail(),
      });
    if (
      await Promise.resolve()
        .then(probe)
        .catch(() => false)
    )
      return;
    if (Date.now() > deadline)
      throw new BenchFailed(`timed out after ${timeoutMs} ms waiting for ${what}`, proc ? { output: proc.tail() } : {});
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Any HTTP answer from `url` means the server is listening. */
export const answers = async (url: string): Promise<boolean> => {
  const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
  await response.arrayBuffer();
  return true;
};
