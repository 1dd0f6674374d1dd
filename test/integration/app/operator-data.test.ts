import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppContext } from '../../../src/app/context.js';
import { activeDeployments, doraFromRedis, homeData, recordsSince } from '../../../src/app/operator-data.js';
import type { Deployment, RollbackIntent, StepRecord } from '../../../src/domain/deployment.js';
import { DeploymentQueue } from '../../../src/queue/deployment-queue.js';
import type { SlackOutbox } from '../../../src/queue/slack-outbox.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { viewProblems } from '../../../sandbox/block-kit-limits.js';
import { appHome } from '../../../views/app-home.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment, specCatalog } from '../../unit/fixtures.js';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 30, 12, 0, 0);

const doneSteps = (d: Deployment, upTo: number, last?: StepRecord): StepRecord[] =>
  d.steps.map((_, i) =>
    i < upTo ? { startedAt: 1, endedAt: 2, outcome: 'ok' as const } : i === upTo && last ? last : {},
  );

/** Approved at `approvedAt`, all traffic `leadMin` minutes later, succeeded. */
function succeeded(id: string, approvedAt: number, leadMin: number): Deployment {
  const d = deployment({ id, requestedAt: approvedAt - MIN });
  return {
    ...d,
    phase: 'succeeded',
    approver: 'U0RM1',
    approvedAt,
    fullTrafficAt: approvedAt + leadMin * MIN,
    finishedAt: approvedAt + (leadMin + 5) * MIN,
    stepIndex: d.steps.length,
    stepRecords: doneSteps(d, d.steps.length),
  };
}

/** Rolled back by its gates during the first bake: the bake failed at `failedAt`. */
function rolledBackByGate(id: string, approvedAt: number, failedAt: number, restoredAt: number): Deployment {
  const d = deployment({ id, requestedAt: approvedAt - MIN });
  const bake = d.steps.findIndex((s) => s.kind === 'setWeight') + 1;
  const stepRecords = doneSteps(d, bake, {
    startedAt: approvedAt + MIN,
    endedAt: failedAt,
    outcome: 'failed',
    detail: 'gate breach at 10%: p99 latency',
  });
  return {
    ...d,
    phase: 'rolled-back',
    approver: 'U0RM1',
    approvedAt,
    stepIndex: bake,
    stepRecords,
    rollbackReason: 'gate breach at 10%: p99 latency',
    rollbackBy: 'switchyard',
    finishedAt: restoredAt,
  };
}

describe('operator data read from Redis', () => {
  const prefix = `sy-test-${randomUUID().slice(0, 8)}`;
  let redis: Redis;
  let ctx: AppContext;
  const requested = NOW - 7 * DAY + 2 * 60 * MIN;
  const intent: RollbackIntent = { by: 'U0DEV1', at: requested, reason: 'customers report 500s' };

  /** Writes a record the way the app does: created under the service lock, then saved terminal (releasing it). */
  async function seed(d: Deployment, rollback?: RollbackIntent): Promise<void> {
    const created = await ctx.store.create(
      { ...d, phase: 'awaiting-approval' },
      { at: d.requestedAt, actor: d.requester, type: 'requested' },
    );
    if (!created.created) throw new Error(`could not create ${d.id}`);
    if (rollback) expect((await ctx.store.requestRollback(created.deployment, rollback)).won).toBe(true);
    expect(
      await ctx.store.save({ ...d, fence: created.deployment.fence }, { release: d.phase !== 'running', now: NOW }),
    ).toBe(true);
  }

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new DeploymentQueue(redis, prefix);
    ctx = {
      catalog: specCatalog(),
      store: new DeploymentStore(redis, prefix),
      queue,
      outbox: {} as SlackOutbox,
      redis,
      log: pino({ level: 'silent' }),
      clock: () => NOW,
      version: 'test',
    };
    await seed(succeeded('s1', NOW - 10 * DAY, 20));
    await seed(succeeded('s2', NOW - 9 * DAY, 40));
    await seed(rolledBackByGate('g1', NOW - 8 * DAY, NOW - 8 * DAY + 12 * MIN, NOW - 8 * DAY + 12 * MIN + 4000));
    // Succeeded, then rolled back by a person two hours later: restore time runs from the request.
    await seed(
      {
        ...succeeded('r1', NOW - 7 * DAY, 30),
        phase: 'rolled-back',
        rollbackReason: intent.reason,
        rollbackBy: intent.by,
        finishedAt: requested + 46_000,
      },
      intent,
    );
    await seed(
      deployment({
        id: 'f1',
        requestedAt: NOW - 6 * DAY,
        phase: 'failed',
        approvedAt: NOW - 6 * DAY,
        finishedAt: NOW - 6 * DAY + MIN,
        failureReason: 'rollout timed out',
      }),
    );
    await seed(
      deployment({
        id: 'x1',
        requestedAt: NOW - 5 * DAY,
        phase: 'rejected',
        finishedAt: NOW - 5 * DAY + MIN,
        rejectReason: 'not this week',
      }),
    );
    await seed(succeeded('old', NOW - 45 * DAY, 10));
    await seed(succeeded('s3', NOW - 3 * DAY, 5));
    await seed({ ...deployment({ id: 'a1', requestedAt: NOW - 2 * MIN }), phase: 'running', approvedAt: NOW - MIN });
  });

  afterAll(async () => {
    await ctx.queue.close();
    await deletePrefix(redis, prefix);
    await redis.quit();
  });

  it('reads a service’s records by time, newest first, without the ones before', async () => {
    const ids = (await recordsSince(ctx, 'acme-api', NOW - 30 * DAY)).map((d) => d.id);
    expect(ids).toEqual(['a1', 's3', 'x1', 'f1', 'r1', 'g1', 's2', 's1']);
    expect((await recordsSince(ctx, 'acme-api', NOW - 30 * DAY, 2)).map((d) => d.id)).toEqual(['a1', 's3']);
    expect(await recordsSince(ctx, 'acme-worker', 0)).toEqual([]);
  });

  it('computes the DORA four of every catalog service from the records and the rollback intents', async () => {
    const [api, worker] = await doraFromRedis(ctx, NOW);
    expect(api).toEqual({
      service: 'acme-api',
      // s1, s2, s3 succeeded; g1 and r1 were rolled back after traffic moved; old is outside the window.
      deployments: 5,
      perDay: 5 / 30,
      // 20, 40, 30 (r1 reached 100 % before its rollback), 5 minutes.
      leadTimeMs: 25 * MIN,
      changeFailureRate: 2 / 5,
      rolledBack: 2,
      // g1: 4 s from its failed gate; r1: 46 s from the person's request.
      timeToRestoreMs: 25_000,
    });
    expect(worker).toMatchObject({ service: 'acme-worker', deployments: 0, changeFailureRate: undefined });
  });

  it('the Home tab shows those figures, the active deployment and the recent ones, within Block Kit’s limits', async () => {
    const data = await homeData(ctx);
    expect((await activeDeployments(ctx)).map((d) => d.id)).toEqual(['a1']);
    expect(data.active.map((d) => d.id)).toEqual(['a1']);
    expect(data.recent[0]?.id).toBe('a1');
    const view = appHome(data);
    expect(viewProblems(view)).toEqual([]);
    const fields = JSON.stringify(view.blocks);
    expect(fields).toContain('5 in 30 days (1.2/week)');
    expect(fields).toContain('(approval → 100%)\\n25m');
    expect(fields).toContain('40% (2 rolled back)');
    expect(fields).toContain('*Time to restore*\\n25s');
  });
});
