import { Redis } from 'ioredis';
import { keys } from '../src/store/keys.js';
import type { BenchContext } from './context.js';

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
