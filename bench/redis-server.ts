import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { BenchFailed } from './bench-error.js';
import { freePort } from './ports.js';

/**
 * A redis-server of the bench's own, on a free port, without persistence: the shared Redis
 * other engineers' tests use is never flushed, and its command counters stay clean.
 */
export interface PrivateRedis {
  url: string;
  port: number;
  /** Calls per command since start (INFO commandstats), without the INFO calls made to read them. */
  commandCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** `cmdstat_get:calls=12,usec=…` lines → { get: 12 }. */
export function parseCommandStats(info: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const line of info.split(/\r?\n/)) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match?.[1] && match[2] && match[1] !== 'info') counts[match[1]] = Number(match[2]);
  }
  return counts;
}

/** Counts after minus counts before, commands that were not called left out. */
export function commandDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [command, calls] of Object.entries(after)) {
    const grown = calls - (before[command] ?? 0);
    if (grown > 0) delta[command] = grown;
  }
  return delta;
}

export async function startPrivateRedis(timeoutMs = 10_000): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new BenchFailed(`redis-server did not start on port ${port} within ${timeoutMs} ms`, { output })),
      timeoutMs,
    );
    const onData = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-4000);
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new BenchFailed(`could not run redis-server (is it installed?): ${error.message}`, { port }));
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new BenchFailed(`redis-server exited with ${code} before it was ready`, { port, output }));
    });
  });
  child.removeAllListeners('exit');
  const url = `redis://127.0.0.1:${port}`;
  const admin = new Redis(url, { lazyConnect: true });
  await admin.connect();

  return {
    url,
    port,
    commandCounts: async () => parseCommandStats(await admin.info('commandstats')),
    async stop() {
      await admin.quit().catch(() => undefined);
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
