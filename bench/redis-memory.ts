import { Redis } from 'ioredis';
import { keys } from '../src/store/keys.js';
import { BenchFailed } from './bench-error.js';
import type { BenchContext } from './context.js';
import { SlackDriver, waitForPhase } from './flows.js';
import { waitUntil } from './processes.js';
import { openStage } from './stage.js';

/** One key of a finished deployment and the bytes Redis reports for it (MEMORY USAGE), null when absent. */
export interface KeyUsage {
  kind: string;
  key: string;
  bytes: number | null;
  /** Milliseconds left before it expires; -1 none, -2 absent. */
  ttlMs: number;
}

export interface DeploymentMemory {
  deploymentId: string;
  totalBytes: number;
  /** Bytes per kind of key (record, events, intents, posted, outbox, edits). */
  byKind: Record<string, number>;
  /** Keys present without a TTL: a finished deployment should have none. */
  withoutTtl: string[];
}

/** Every key one deployment may own, by kind (edits: one per message key it posted). */
export function deploymentKeyNames(prefix: string, id: string, messageKeys: string[]): { kind: string; key: string }[] {
  const k = keys(prefix);
  return [
    { kind: 'record', key: k.deployment(id) },
    { kind: 'events', key: k.events(id) },
    { kind: 'intents', key: k.intents(id) },
    { kind: 'posted', key: k.posted(id) },
    { kind: 'outbox', key: k.outboxOrder(id) },
    { kind: 'outbox', key: k.outboxSending(id) },
    ...messageKeys.map((message) => ({ kind: 'edits', key: k.edit(id, message) })),
  ];
}

/** The pure part: adds up the usages, absent keys counting nothing. */
export function summarizeDeploymentMemory(deploymentId: string, usages: KeyUsage[]): DeploymentMemory {
  const byKind: Record<string, number> = {};
  let totalBytes = 0;
  for (const usage of usages) {
    if (usage.bytes === null) continue;
    byKind[usage.kind] = (byKind[usage.kind] ?? 0) + usage.bytes;
    totalBytes += usage.bytes;
  }
  const withoutTtl = usages.filter((u) => u.bytes !== null && u.ttlMs === -1).map((u) => u.key);
  return { deploymentId, totalBytes, byKind, withoutTtl };
}

/** One line for the report, e.g. `acme-api-1: 41.2 KiB (record 3.1 KiB, events 36.0 KiB, …)`. */
export function describeDeploymentMemory(m: DeploymentMemory): string {
  const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;
  const parts = Object.entries(m.byKind).map(([kind, bytes]) => `${kind} ${kib(bytes)}`);
  const ttl = m.withoutTtl.length ? `; no TTL on ${m.withoutTtl.join(', ')}` : '';
  return `${m.deploymentId}: ${kib(m.totalBytes)} (${parts.join(', ')})${ttl}`;
}

/** MEMORY USAGE (all samples) and PTTL over a finished deployment's keys, under `prefix`. */
export async function measureDeploymentMemory(
  ctx: Pick<BenchContext, 'redisUrl' | 'log'>,
  prefix: string,
  deploymentId: string,
): Promise<DeploymentMemory> {
  const redis = new Redis(ctx.redisUrl, { maxRetriesPerRequest: null });
  try {
    const messageKeys = await redis.hkeys(keys(prefix).posted(deploymentId));
    const usages: KeyUsage[] = [];
    for (const { kind, key } of deploymentKeyNames(prefix, deploymentId, messageKeys)) {
      const bytes = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
      usages.push({ kind, key, bytes, ttlMs: await redis.pttl(key) });
    }
    const memory = summarizeDeploymentMemory(deploymentId, usages);
    ctx.log(describeDeploymentMemory(memory));
    return memory;
  } finally {
    await redis.quit();
  }
}

/**
 * Redis memory per deployment, as the bench reports it: one deployment of acme-api through
 * Slack to success, on Switchyard as built (`npm start`), with gates every 0.2 s over 5 s bakes
 * (25 gate runs per bake, more than the 10 a 5-minute bake at 30 s gives; repeated readings are
 * compacted), then MEMORY USAGE over every key it owns.
 */
export async function measureRedisMemoryPerDeployment(ctx: BenchContext): Promise<DeploymentMemory> {
  const stage = await openStage({
    redisUrl: ctx.redisUrl,
    sandbox: { bakeSeconds: 5, service: { gates: { intervalSeconds: 0.2, failureLimit: 0, inconclusiveLimit: 3 } } },
    cpuProfDir: ctx.cpuProfDir,
  });
  try {
    const { url } = await stage.startAll('redis-memory');
    await new SlackDriver(stage.sandbox, url).requestAndApprove('acme-api', 'v1.5.0');
    const done = await waitForPhase(stage.store, 'acme-api', ['succeeded', 'rolled-back', 'failed'], 120_000);
    if (done.phase !== 'succeeded')
      throw new BenchFailed(`the measured deployment ended ${done.phase}`, { reason: done.failureReason });
    // Its last messages (the success reply, the final announcement edit) are part of what it costs.
    await waitUntil(
      'the outbox to record the success reply',
      async () => (await stage.store.postedTs(done.id, 'reply:success')) !== undefined,
      30_000,
    );
    return await measureDeploymentMemory(ctx, stage.prefix, done.id);
  } finally {
    await stage.close();
  }
}
