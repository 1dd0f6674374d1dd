import { randomUUID } from 'node:crypto';
import { Redis, type Command } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { createLogger } from '../../../src/logger.js';
import { DeploymentTicker } from '../../../src/queue/deployment-ticker.js';
import { DeploymentQueue } from '../../../src/queue/deployment-queue.js';
import { EffectOutbox } from '../../../src/queue/effect-outbox.js';
import { SlackOutbox } from '../../../src/queue/slack-outbox.js';
import { planSteps } from '../../../src/runbook/plan.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { startSandbox, type Sandbox } from '../../../sandbox/sandbox.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

/** One command as the store's connection sent it: its name and, for a script, whether it reads or writes. */
interface Sent {
  name: string;
  script?: 'load' | 'commit' | 'other';
}

const scriptOf = (command: Command): Sent['script'] => {
  const source = String(command.args[0] ?? '');
  if (source.includes('local record')) return 'load';
  if (source.includes('RPUSH')) return 'commit';
  return 'other';
};

describe('one tick of the deployment worker, on real Redis', () => {
  let sandbox: Sandbox;
  let redis: Redis;
  let other: Redis;
  let prefix: string;
  let store: DeploymentStore;
  let outbox: SlackOutbox;
  let effects: EffectOutbox;
  let queue: DeploymentQueue;
  let ticker: DeploymentTicker;
  let sent: Sent[];
  let now: number;

  beforeEach(async () => {
    sandbox = await startSandbox();
    prefix = `sy-tick-${randomUUID().slice(0, 8)}`;
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    other = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
    // Every command the store sends goes through this connection; the outbox has its own.
    sent = [];
    const send = redis.sendCommand.bind(redis);
    redis.sendCommand = ((command: Command, stream?: never) => {
      const name = command.name.toLowerCase();
      sent.push({ name, script: name === 'eval' || name === 'evalsha' ? scriptOf(command) : undefined });
      return send(command, stream);
    }) as typeof redis.sendCommand;
    store = new DeploymentStore(redis, prefix);
    outbox = new SlackOutbox(other, other, prefix, { messagesPerSecond: 100, announcementEveryMs: 200 });
    effects = new EffectOutbox(other, other, prefix);
    queue = new DeploymentQueue(other, prefix);
    now = Date.now();
    ticker = new DeploymentTicker({
      catalog: sandbox.catalog,
      store,
      providers: sandbox.providers(),
      log: createLogger('silent'),
      clock: () => now,
      outbox,
      effects,
      queue,
    });
  });

  afterEach(async () => {
    await outbox.close();
    await effects.close();
    await queue.close();
    await deletePrefix(other, prefix);
    await redis.quit();
    await other.quit();
    await sandbox.close();
  });

  /** A running deployment of the sandbox's acme-api, created (so it holds the lock) at `stepIndex`. */
  const running = async (stepIndex: (steps: Deployment['steps']) => number, started: boolean) => {
    const service = sandbox.catalog.services['acme-api'];
    if (!service) throw new Error('the sandbox has no acme-api');
    const steps = planSteps(service, 'blue-green');
    const index = stepIndex(steps);
    const draft = deployment({
      id: `acme-api-${randomUUID().slice(0, 8)}`,
      steps,
      stepIndex: index,
      announcementTs: undefined,
      stepRecords: steps.map((_, i) =>
        i < index
          ? { startedAt: now - 1000, endedAt: now - 1000, outcome: 'ok' as const }
          : i === index && started
            ? { startedAt: now - 1000 }
            : {},
      ),
    });
    const created = await store.create(draft, { at: now, actor: 'U0DEV1', type: 'requested' });
    if (!created.created) throw new Error('not created');
    await redis.hset(keys(prefix).posted(draft.id), 'announcement', '1741100400.000100');
    sent = [];
    return created.deployment;
  };

  const outboxJobs = async () =>
    Object.values(await outbox.queue.getJobCounts('waiting', 'delayed', 'prioritized')).reduce((a, b) => a + b, 0);

  it('loads record and intents once and writes record and events once, atomically', async () => {
    const d = await running((steps) => steps.findIndex((s) => s.kind === 'complete'), true);
    const result = await ticker.tick(d.id);

    expect(result).toEqual({ kind: 'again' });
    expect(sent).toEqual([
      { name: 'eval', script: 'load' },
      { name: 'eval', script: 'commit' },
    ]);
    const saved = await store.get(d.id);
    expect(saved?.phase).toBe('succeeded');
    // The status line shown on the announcement is part of the one write, not a second save.
    expect(saved?.statusLine).toBe('▰▰▰ · ✅ complete');
    expect((await store.events(d.id)).map((e) => e.type)).toEqual(['requested', 'step-succeeded']);
    expect(await store.activeId('acme-api')).toBeUndefined();
    // What the tick says goes to the outbox, after the write: the success reply and the announcement edit.
    expect(await outboxJobs()).toBe(2);
  });

  it('saves a step as started in a tick of its own, before acting on it', async () => {
    const d = await running((steps) => steps.findIndex((s) => s.kind === 'complete'), false);
    expect(await ticker.tick(d.id)).toEqual({ kind: 'again' });
    expect(sent.map((c) => c.script)).toEqual(['load', 'commit']);
    const started = await store.get(d.id);
    expect(started?.phase).toBe('running');
    expect(started?.stepRecords[d.stepIndex]).toEqual({ startedAt: now });
    expect((await store.events(d.id)).map((e) => e.type)).toEqual(['requested', 'step-started']);

    sent = [];
    await ticker.tick(d.id);
    expect(sent.map((c) => c.script)).toEqual(['load', 'commit']);
    expect((await store.get(d.id))?.phase).toBe('succeeded');
  });

  it('writes nothing when its fencing token was lost, and says so', async () => {
    const d = await running((steps) => steps.findIndex((s) => s.kind === 'complete'), true);
    // Another holder took the service (a newer fencing token), as after a reopen for rollback.
    await other.set(keys(prefix).lock('acme-api'), `acme-api-other:${d.fence + 1}`);
    const record = await other.get(keys(prefix).deployment(d.id));
    const events = await other.lrange(keys(prefix).events(d.id), 0, -1);

    expect(await ticker.tick(d.id)).toEqual({ kind: 'fenced' });
    expect(await other.get(keys(prefix).deployment(d.id))).toBe(record);
    expect(await other.lrange(keys(prefix).events(d.id), 0, -1)).toEqual(events);
    expect(await other.get(keys(prefix).lock('acme-api'))).toBe(`acme-api-other:${d.fence + 1}`);
    // Nothing written means nothing told either.
    expect(await outboxJobs()).toBe(0);
  });

  it('a run superseded by a newer run of the same job stops at its next load, and its write in flight is refused', async () => {
    const d = await running((steps) => steps.findIndex((s) => s.kind === 'complete'), true);
    // BullMQ took the first run's worker for stalled and started the job again elsewhere.
    const firstRun = await store.beginRun(d.id);
    const secondRun = await store.beginRun(d.id);
    const record = await other.get(keys(prefix).deployment(d.id));

    expect(await ticker.tick(d.id, { run: firstRun })).toEqual({ kind: 'fenced' });
    expect(await other.get(keys(prefix).deployment(d.id))).toBe(record);
    expect(await outboxJobs()).toBe(0);
    // A write the first run had already decided on before the second began is refused too.
    const ended = { ...d, phase: 'succeeded' as const, finishedAt: now };
    expect(await store.commit(ended, [], { release: true, now, run: firstRun })).toEqual({ written: false });
    expect(await store.activeId('acme-api')).toBe(d.id);

    expect(await ticker.tick(d.id, { run: secondRun })).toEqual({ kind: 'again' });
    expect((await store.get(d.id))?.phase).toBe('succeeded');
    // The run token lives as long as the record once the deployment ended.
    expect(await other.pttl(keys(prefix).run(d.id))).toBeGreaterThan(0);
  });

  it('a rollback writes its phase, its event and the blocked version in the same one write', async () => {
    const d = await running((steps) => steps.findIndex((s) => s.kind === 'bake'), true);
    await store.save({ ...d, phase: 'rolling-back', rollbackReason: 'bad', rollbackBy: 'U0DEV1' });
    sent = [];
    expect(await ticker.tick(d.id)).toEqual({ kind: 'again' });
    expect(sent.map((c) => c.script)).toEqual(['load', 'commit']);
    expect((await store.get(d.id))?.phase).toBe('rolled-back');
    expect((await store.events(d.id)).at(-1)?.type).toBe('rolled-back');
    expect(await store.blockedVersion('acme-api', d.version)).toMatchObject({ deploymentId: d.id, reason: 'bad' });
  });

  it('a tick with nothing to do reads once and writes nothing', async () => {
    const d = await running(() => 0, false);
    await store.save({ ...d, phase: 'awaiting-approval', requestedAt: now });
    sent = [];
    const result = await ticker.tick(d.id);
    expect(result.kind).toBe('wait');
    expect(sent.map((c) => c.script)).toEqual(['load']);
  });
});
