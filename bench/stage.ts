import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Queue } from 'bullmq';
import { DeploymentQueue } from '../src/queue/deployment-queue.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../sandbox/sandbox.js';
import { DeploymentStore } from '../src/store/deployment-store.js';
import { freePort } from './ports.js';
import { answers, spawnSwitchyard, waitUntil, type BenchProcess } from './processes.js';

/**
 * One measurement's world: the stand-ins in this process, Switchyard's bot and workers in
 * their own processes (as `npm run start:bot` / `start:worker` run them) on the bench's
 * private Redis under a fresh prefix, and a reader for the records they write.
 */
export interface Stage {
  sandbox: Sandbox;
  prefix: string;
  redisUrl: string;
  store: DeploymentStore;
  /** The deployment queue, for pausing and resuming it (BullMQ's own calls). */
  queue: Queue;
  /** The environment `npm start` would read for this sandbox. */
  env: Record<string, string>;
  startBot(name?: string, extra?: Record<string, string>): Promise<{ proc: BenchProcess; url: string }>;
  startWorker(name: string, extra?: Record<string, string>): Promise<BenchProcess>;
  /** Bot and worker in one process (`npm start`). */
  startAll(name?: string, extra?: Record<string, string>): Promise<{ proc: BenchProcess; url: string }>;
  close(): Promise<void>;
}

export interface StageOptions {
  redisUrl: string;
  sandbox: SandboxOptions;
  cpuProfDir?: string;
}

export async function openStage(options: StageOptions): Promise<Stage> {
  const sandbox = await startSandbox(options.sandbox);
  const prefix = `bench-${randomUUID().slice(0, 8)}`;
  const env = { ...(await sandbox.env(options.redisUrl, prefix)), LOG_LEVEL: 'warn' };
  const reader = new Redis(options.redisUrl, { maxRetriesPerRequest: null });
  const store = new DeploymentStore(reader, prefix);
  const queue = new Queue(DeploymentQueue.nameFor(prefix), { connection: reader, prefix });
  const procs: BenchProcess[] = [];

  const startHttp = async (role: 'bot' | 'all', name: string, extra: Record<string, string>) => {
    const port = await freePort();
    const proc = spawnSwitchyard(role, name, {
      env: { ...env, PORT: String(port), ...extra },
      cpuProfDir: options.cpuProfDir,
    });
    procs.push(proc);
    const url = `http://127.0.0.1:${port}`;
    await waitUntil(`${name} to answer /healthz`, () => answers(`${url}/healthz`), 30_000, proc);
    return { proc, url };
  };

  return {
    sandbox,
    prefix,
    redisUrl: options.redisUrl,
    store,
    queue,
    env,
    startBot: (name = 'bot', extra = {}) => startHttp('bot', name, extra),
    startAll: (name = 'switchyard', extra = {}) => startHttp('all', name, extra),
    async startWorker(name, extra = {}) {
      const before = await queue.getWorkersCount();
      // A worker-only process serves /healthz and /metrics on PORT too.
      const port = await freePort();
      const proc = spawnSwitchyard('worker', name, {
        env: { ...env, PORT: String(port), ...extra },
        cpuProfDir: options.cpuProfDir,
      });
      procs.push(proc);
      await waitUntil(
        `${name} to connect to the queue`,
        async () => (await queue.getWorkersCount()) > before,
        30_000,
        proc,
      );
      return proc;
    },
    async close() {
      await Promise.all(procs.map((proc) => proc.stop()));
      await queue.close();
      await reader.quit().catch(() => undefined);
      await sandbox.close();
    },
  };
}
