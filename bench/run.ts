import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { measureAckLatency } from './ack-latency.js';
import { measureBreachToRollback } from './breach-to-rollback.js';
import { measureColdStart } from './cold-start.js';
import type { BenchContext } from './context.js';
import { summarizeProfiles } from './cpu-profile.js';
import { measureMemory } from './memory.js';
import { measureRedisMemoryPerDeployment } from './redis-memory.js';
import { renderAckLatencySvg } from './plot.js';
import { buildArtefacts } from './processes.js';
import { startPrivateRedis } from './redis-server.js';
import { checkTargets, markdownReport, type Machine, type Results } from './report.js';
import { measureRollbackLatency } from './rollback-latency.js';
import { measureThroughput } from './throughput.js';

/**
 * `npm run bench`: every measurement on the sandbox stand-ins and a private redis-server,
 * written to bench/results.json, bench/results.md and bench/ack-latency.svg. Switchyard runs
 * as built (`npm run build` first, then `node dist/main.js bot|worker`), and so does the bare
 * Bolt app it is compared with (compiled by the same tsc).
 *
 *   --quick (or BENCH_QUICK=1)  small smoke run, written to a temporary directory
 *   --only=ack,rollback,…       some measurements only (ack, rollback, breach, throughput, memory, redismemory, coldstart)
 *   --cpu-prof (or BENCH_CPU_PROF=1)  Switchyard's processes write CPU profiles to bench/profiles/
 *   --fleet=N                   services deploying at once for throughput and memory (default 200, quick 20)
 *   --out=DIR                   where to write the results
 */

const root = fileURLToPath(new URL('../', import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const quick = args.includes('--quick') || process.env.BENCH_QUICK === '1';
const cpuProf = args.includes('--cpu-prof') || process.env.BENCH_CPU_PROF === '1';
const only = flag('only')?.split(',');
const fleetSize = Number(flag('fleet') ?? (quick ? 20 : 200));
const partial = quick || only !== undefined || flag('fleet') !== undefined;
// A smoke or partial run must not overwrite the full results that are committed.
const outDir = flag('out') ?? (partial ? join(tmpdir(), 'switchyard-bench') : join(root, 'bench'));

type Key = 'ack' | 'rollback' | 'breach' | 'throughput' | 'memory' | 'redismemory' | 'coldstart';
const KEYS: Key[] = ['ack', 'rollback', 'breach', 'throughput', 'memory', 'redismemory', 'coldstart'];

function machine(): Machine {
  const cpu = cpus();
  let redis = 'unknown';
  try {
    redis = /v=([\d.]+)/.exec(execFileSync('redis-server', ['--version'], { encoding: 'utf8' }))?.[1] ?? redis;
  } catch {
    // Reported as unknown; starting the private server below says what is wrong.
  }
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    redis,
  };
}

async function main(): Promise<number> {
  const unknown = only?.filter((k) => !KEYS.includes(k as Key));
  if (unknown?.length) throw new Error(`unknown measurement ${unknown.join(', ')}: give some of ${KEYS.join(', ')}`);
  if (!Number.isInteger(fleetSize) || fleetSize < 1 || fleetSize > 999)
    throw new Error(`--fleet must be a whole number of services from 1 to 999, not ${flag('fleet')}`);
  const selected = KEYS.filter((k) => !only || only.includes(k));
  const started = Date.now();
  const log = (text: string) =>
    process.stdout.write(`[bench +${((Date.now() - started) / 1000).toFixed(0)}s] ${text}\n`);
  const profileDir = cpuProf
    ? join(root, 'bench', 'profiles', new Date(started).toISOString().replace(/[:.]/g, '-'))
    : undefined;
  if (profileDir) await mkdir(profileDir, { recursive: true });

  log('building dist/ and the bare Bolt app…');
  buildArtefacts();
  const redis = await startPrivateRedis();
  log(`private redis-server on port ${redis.port}; ${quick ? 'quick' : 'full'} run of ${selected.join(', ')}`);
  const ctx: BenchContext = { redisUrl: redis.url, quick, fleetSize, cpuProfDir: profileDir, log };
  const results: Omit<Results, 'targets'> = {
    machine: machine(),
    quick,
    startedAt: new Date(started).toISOString(),
    durationSeconds: 0,
    errors: {},
  };
  const measurements: Record<Key, () => Promise<void>> = {
    ack: async () => void (results.ackLatency = await measureAckLatency(ctx)),
    rollback: async () => void (results.rollbackLatency = await measureRollbackLatency(ctx)),
    breach: async () => void (results.breachToRollback = await measureBreachToRollback(ctx)),
    throughput: async () => void (results.throughput = await measureThroughput(ctx, redis)),
    memory: async () => void (results.memory = await measureMemory(ctx)),
    redismemory: async () => void (results.redisMemory = await measureRedisMemoryPerDeployment(ctx)),
    coldstart: async () => void (results.coldStart = await measureColdStart(ctx)),
  };
  try {
    for (const key of selected) {
      log(`${key}…`);
      try {
        await measurements[key]();
      } catch (error) {
        const context =
          error instanceof Error && 'context' in error ? ` ${JSON.stringify(error.context).slice(0, 2000)}` : '';
        results.errors[key] = `${error instanceof Error ? error.message : String(error)}${context}`;
        log(`${key} failed: ${results.errors[key]}`);
      }
    }
  } finally {
    await redis.stop();
  }

  results.durationSeconds = (Date.now() - started) / 1000;
  const full: Results = {
    ...results,
    targets: checkTargets(results),
    ...(profileDir ? { profiles: await summarizeProfiles(profileDir, root) } : {}),
  };
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'results.json'), `${JSON.stringify(full, null, 2)}\n`);
  const report = markdownReport(full);
  await writeFile(join(outDir, 'results.md'), report);
  if (full.ackLatency?.length) {
    const subtitle = `${full.machine.cores} cores, Node ${full.machine.node}, ${full.startedAt.slice(0, 10)}${quick ? ' (quick run)' : ''}; dashed rule: 100 ms target`;
    await writeFile(join(outDir, 'ack-latency.svg'), await renderAckLatencySvg(full.ackLatency, subtitle));
  }
  process.stdout.write(`\n${report}\nwritten to ${outDir}\n`);
  return Object.keys(full.errors).length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
