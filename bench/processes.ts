import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchFailed } from './bench-error.js';

const root = fileURLToPath(new URL('../', import.meta.url));

/** What the image, compose, Kubernetes and `npm start` run. */
export const BUILT_ENTRY = 'dist/main.js';
/**
 * The bare Bolt app, compiled to JavaScript like Switchyard, so both bots are measured the
 * same way; in npm's cache directory, where Node still finds `@slack/bolt` in node_modules/.
 */
export const BARE_BOLT_ENTRY = 'node_modules/.cache/switchyard-bench/bare-bolt.js';

/**
 * `npm run build` (dist/, as shipped) and the bare Bolt app compiled by the same tsc with the
 * same compiler options (tsconfig.json's, emitting). Once per bench run, before any process starts.
 */
export function buildArtefacts(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const steps: [string, string[]][] = [
    ['npm run build', ['scripts/build.mjs']],
    [
      'compiling bench/bare-bolt.ts',
      [
        tsc,
        'bench/bare-bolt.ts',
        '--ignoreConfig',
        '--outDir',
        join('node_modules', '.cache', 'switchyard-bench'),
        '--target',
        'ES2022',
        '--module',
        'NodeNext',
        '--moduleResolution',
        'NodeNext',
        '--strict',
        '--skipLibCheck',
        '--types',
        'node',
      ],
    ],
  ];
  for (const [what, args] of steps) {
    const result = spawnSync(process.execPath, args, { cwd: root, encoding: 'utf8' });
    if (result.status !== 0)
      throw new BenchFailed(`${what} failed (exit ${result.status})`, { output: `${result.stdout}${result.stderr}` });
  }
}

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

export interface NodeSpawnOptions extends SpawnOptions {
  /** Node flags before the entry (`--import tsx` for TypeScript). */
  nodeFlags?: string[];
}

/** Runs an entry in its own Node process (the same Node as the bench), JavaScript unless `nodeFlags` say otherwise. */
export function spawnNode(name: string, entry: string, args: string[], options: NodeSpawnOptions): BenchProcess {
  // One directory per process: Node writes a profile per thread (a loader such as tsx runs in one of its own).
  const flags = options.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${join(options.cpuProfDir, name)}`] : [];
  const child = spawn(process.execPath, [...flags, ...(options.nodeFlags ?? []), entry, ...args], {
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

/** The bench's own TypeScript helpers (the load generator), through tsx: they are not what is measured. */
export const spawnTs = (name: string, entry: string, args: string[], options: SpawnOptions): BenchProcess =>
  spawnNode(name, entry, args, { ...options, nodeFlags: ['--import', 'tsx'] });

/** `node --enable-source-maps dist/main.js bot|worker` (or both), as `npm start` runs it, with the sandbox's environment. */
export const spawnSwitchyard = (role: 'bot' | 'worker' | 'all', name: string, options: SpawnOptions): BenchProcess =>
  spawnNode(name, BUILT_ENTRY, role === 'all' ? [] : [role], { ...options, nodeFlags: ['--enable-source-maps'] });

/** The bare Bolt app (compiled by `buildArtefacts`). */
export const spawnBareBolt = (name: string, options: SpawnOptions): BenchProcess =>
  spawnNode(name, BARE_BOLT_ENTRY, [], options);

/** The way Switchyard ran before it was compiled: `node --import tsx src/main.ts worker`, for the cold-start comparison. */
export const spawnSwitchyardFromSource = (role: 'worker', name: string, options: SpawnOptions): BenchProcess =>
  spawnTs(name, 'src/main.ts', [role], options);

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
