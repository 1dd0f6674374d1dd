import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment, DeploymentEvent } from '../../../src/domain/deployment.js';
import { DeploymentStore, type CommitResult } from '../../../src/store/deployment-store.js';
import { keys } from '../../../src/store/keys.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';
import { deployment } from '../../unit/fixtures.js';

const T0 = Date.UTC(2026, 2, 2, 15, 0, 0);
const MINUTE = 60_000;
const GRACE_MS = 15 * MINUTE;
const CONNECTIONS = 4;
/** Races are run this many times each (on a fresh service), so a lucky interleaving cannot hide a double win. */
const ROUNDS = 12;

/** One record shape for every test; the catalog is parsed once. */
const BASE: Deployment = deployment({
  phase: 'awaiting-approval',
  fence: 0,
  announcementTs: undefined,
  announcementLink: undefined,
  liveColor: undefined,
  newColor: undefined,
  previousVersion: undefined,
});

/**
 * The deploy queue's hand-over, against a real Redis: a request takes the free lock of its
 * service (in its environment) or queues; an approved (`ready`) queued deployment is handed the
 * lock, with a new fencing token and a `start` intent, by the ending commit of the holder
 * (`commit` with `release`) or by its own tick's `claim` (`commitQueued`), all in one Lua
 * script. The hand-over takes the first entry in queue order that is ready, due, within its
 * grace, not cancelled and not of a blocked version, and leaves every other entry where it was.
 */
describe('DeploymentStore: the deploy queue hand-over in Redis', () => {
  let connections: Redis[];
  let stores: DeploymentStore[];
  let store: DeploymentStore;
  let redis: Redis;
  let k: ReturnType<typeof keys>;
  let prefix: string;
  let n = 0;
  /** A fresh service per test (and per race round), so every queue, lock and fence starts empty. */
  const nextService = () => `queue-svc-${(n += 1)}`;

  beforeAll(() => {
    prefix = `sy-queue-${randomUUID().slice(0, 8)}`;
    connections = Array.from({ length: CONNECTIONS }, () => new Redis(REDIS_URL));
    stores = connections.map((connection) => new DeploymentStore(connection, prefix));
    store = stores[0] as DeploymentStore;
    redis = connections[0] as Redis;
    k = keys(prefix);
  });
  afterAll(async () => {
    await deletePrefix(redis, prefix);
    await Promise.all(connections.map((connection) => connection.quit()));
  });

  const draft = (service: string, version: string, overrides: Partial<Deployment> = {}): Deployment => ({
    ...BASE,
    id: `${service}-${version}`,
    service,
    version,
    image: `registry.local/${service}:${version}`,
    ...overrides,
  });
  const requestedEvent = (d: Deployment): DeploymentEvent => ({
    at: d.requestedAt,
    actor: d.requester,
    type: 'requested',
  });

  /** Requests a deployment on a free service: it must take the lock. */
  const activeOn = async (service: string, version: string, overrides: Partial<Deployment> = {}) => {
    const d = draft(service, version, { requestedAt: T0, ...overrides });
    const result = await store.request(d, requestedEvent(d));
    if (result.kind !== 'active') throw new Error(`${d.id} did not take the free lock: ${result.kind}`);
    return { ...result.deployment, phase: 'running' as const };
  };
  /** Requests a deployment that must queue (busy service, or a scheduled start). */
  const queuedOn = async (service: string, version: string, overrides: Partial<Deployment> = {}) => {
    const d = draft(service, version, overrides);
    const result = await store.request(d, requestedEvent(d));
    if (result.kind !== 'queued') throw new Error(`${d.id} did not queue: ${result.kind}`);
    return result.deployment;
  };
  /** The approved entry's own tick: it becomes ready for the hand-over. */
  const approve = (d: Deployment, now: number, on: DeploymentStore = store): Promise<CommitResult> =>
    on.commitQueued(d, [{ at: now, actor: 'U0RM1', type: 'approved' }], {
      move: 'ready',
      now,
      graceUntil: d.schedule ? d.schedule.startAt + GRACE_MS : undefined,
    });
  /** The queued entry's own tick asking for a free lock. */
  const claim = (d: Deployment, now: number, on: DeploymentStore = store): Promise<CommitResult> =>
    on.commitQueued(d, [], { move: 'keep', claim: true, now });
  /** The holder's ending write (succeeded), releasing the lock. */
  const finish = (
    d: Deployment,
    now: number,
    options: { blockVersion?: boolean; on?: DeploymentStore } = {},
  ): Promise<CommitResult> =>
    (options.on ?? store).commit(
      { ...d, phase: options.blockVersion ? 'rolled-back' : 'succeeded', finishedAt: now },
      [{ at: now, actor: 'switchyard', type: options.blockVersion ? 'rolled-back' : 'succeeded' }],
      {
        release: true,
        now,
        blockVersion: options.blockVersion
          ? { deploymentId: d.id, reason: 'p99 latency breached', at: now }
          : undefined,
      },
    );
  const scheduled = (startAt: number) => ({ schedule: { startAt, timezone: 'UTC' }, requestedAt: T0 });

  const lockOf = (service: string, environment?: string) => redis.get(k.lock(service, environment));
  const fenceOf = async (service: string, environment?: string) =>
    Number(await redis.get(k.fence(service, environment)));
  const startOf = async (id: string) => (await store.intents(id)).start;
  const readyIds = async (service: string, environment?: string) =>
    (await redis.hkeys(k.queueReady(service, environment))).sort();
  const queueIds = (service: string, environment?: string) => redis.zrange(k.queue(service, environment), '0', '-1');

  it('release hands the lock to the first ready entry in queue order, skipping an unapproved one ahead of it', async () => {
    const service = nextService();
    const environment = 'staging';
    const holder = await activeOn(service, 'v1', { environment });
    const unapproved = await queuedOn(service, 'v2', { environment, requestedAt: T0 + 1 * MINUTE });
    const first = await queuedOn(service, 'v3', { environment, requestedAt: T0 + 2 * MINUTE });
    const second = await queuedOn(service, 'v4', { environment, requestedAt: T0 + 3 * MINUTE });
    expect([unapproved.queuePosition, first.queuePosition, second.queuePosition]).toEqual([1, 2, 3]);

    // Approved while the holder runs: ready, but the lock is not free, so nobody is handed it.
    for (const d of [first, second]) {
      const approved = await approve(d, T0 + 4 * MINUTE);
      expect(approved).toMatchObject({ written: true, waiting: [] });
      expect(approved.written && approved.handedTo).toBeUndefined();
    }
    expect(await readyIds(service, environment)).toEqual([first.id, second.id].sort());
    expect(await lockOf(service, environment)).toBe(`${holder.id}:${holder.fence}`);

    const now = T0 + 10 * MINUTE;
    const fenceBefore = await fenceOf(service, environment);
    const released = await finish(holder, now);
    expect(released).toMatchObject({ written: true, handedTo: first.id, waiting: [unapproved.id, second.id] });

    const start = await startOf(first.id);
    expect(start).toEqual({ fence: expect.any(Number), at: now });
    expect(start?.fence).toBeGreaterThan(holder.fence);
    expect(start?.fence).toBe(fenceBefore + 1);
    expect(await fenceOf(service, environment)).toBe(fenceBefore + 1);
    expect(await lockOf(service, environment)).toBe(`${first.id}:${start?.fence}`);
    expect(await startOf(unapproved.id)).toBeUndefined();
    expect(await startOf(second.id)).toBeUndefined();
    // The winner left the queue and the ready hash; the others keep their places.
    expect(await queueIds(service, environment)).toEqual([unapproved.id, second.id]);
    expect(await readyIds(service, environment)).toEqual([second.id]);
    expect(await store.line(service, environment)).toEqual([first.id, unapproved.id, second.id]);
    expect((await store.queued(service, environment)).map((d) => d.id)).toEqual([unapproved.id, second.id]);
    expect((await store.active(service, environment))?.id).toBe(first.id);
    expect((await store.load(unapproved.id))?.queue).toMatchObject({ position: 1, holder: first.id });

    // The fence fences: the new holder writes under it, the old one (or a stale token) cannot.
    expect((await store.commit(holder, [])).written).toBe(false);
    expect((await store.commit({ ...first, phase: 'running', fence: holder.fence }, [])).written).toBe(false);
    const running = { ...first, phase: 'running' as const, fence: start?.fence ?? 0 };
    expect((await store.commit(running, [])).written).toBe(true);
    expect((await store.latestStarted(service, environment))?.id).toBe(first.id);
    // Nothing leaked into production's keys (the bare service name).
    expect(await lockOf(service)).toBeNull();
    expect(await queueIds(service)).toEqual([]);
  });

  it('skips a cancelled entry, a version blocked by this release or before, one not yet due and one past its grace', async () => {
    const service = nextService();
    const now = T0 + 60 * MINUTE;
    const holder = await activeOn(service, 'v-bad');
    await store.blockVersion(service, 'v-old', { deploymentId: `${service}-earlier`, reason: 'rolled back', at: T0 });

    // Queue order is by score: the request time, or the scheduled start.
    const pastGrace = await queuedOn(service, 'v-late', scheduled(T0)); // grace ended at T0 + 15 min
    const cancelled = await queuedOn(service, 'v-cancelled', { requestedAt: T0 + 1 * MINUTE });
    const sameAsRolledBack = await queuedOn(service, 'v-bad', {
      id: `${service}-v-bad-again`,
      requestedAt: T0 + 2 * MINUTE,
    });
    const blockedBefore = await queuedOn(service, 'v-old', { requestedAt: T0 + 3 * MINUTE });
    const notDue = await queuedOn(service, 'v-soon', scheduled(now + 30 * MINUTE));
    // Requested on a clock ahead of the releasing worker's, so it sits behind the entry not yet
    // due: a hand-over that ignored the start time would pick that one first.
    const good = await queuedOn(service, 'v-good', { requestedAt: now + 31 * MINUTE });
    const skipped = [pastGrace, cancelled, sameAsRolledBack, blockedBefore, notDue];
    expect(await queueIds(service)).toEqual([...skipped, good].map((d) => d.id));

    for (const d of [...skipped, good]) expect((await approve(d, T0 + 5 * MINUTE)).written).toBe(true);
    expect(await store.requestCancel(cancelled.id, { by: 'U0DEV1', at: T0 + 6 * MINUTE, reason: 'wrong build' })).toBe(
      'recorded',
    );
    expect(await lockOf(service)).toBe(`${holder.id}:${holder.fence}`);

    const released = await finish(holder, now, { blockVersion: true });
    expect(released).toMatchObject({ written: true, handedTo: good.id, waiting: skipped.map((d) => d.id) });
    expect(await store.blockedVersion(service, 'v-bad')).toMatchObject({ deploymentId: holder.id });
    const start = await startOf(good.id);
    expect(start).toEqual({ fence: await fenceOf(service), at: now });
    expect(start?.fence).toBeGreaterThan(holder.fence);
    expect(await lockOf(service)).toBe(`${good.id}:${start?.fence}`);
    for (const d of skipped) expect(await startOf(d.id), d.id).toBeUndefined();
    // The skipped stay queued and ready: their own ticks end them (or start them when due).
    expect(await queueIds(service)).toEqual(skipped.map((d) => d.id));
    expect(await readyIds(service)).toEqual(skipped.map((d) => d.id).sort());
  });

  it('when nothing qualifies the lock stays free, nobody is handed it and no fence is taken', async () => {
    const service = nextService();
    const now = T0 + 20 * MINUTE;
    const holder = await activeOn(service, 'v1');
    const unapproved = await queuedOn(service, 'v2', { requestedAt: T0 + 1 * MINUTE });
    const cancelled = await queuedOn(service, 'v3', { requestedAt: T0 + 2 * MINUTE });
    const notDue = await queuedOn(service, 'v4', scheduled(now + 1));
    for (const d of [cancelled, notDue]) expect((await approve(d, T0 + 3 * MINUTE)).written).toBe(true);
    expect(await store.requestCancel(cancelled.id, { by: 'U0DEV1', at: T0 + 4 * MINUTE, reason: 'no' })).toBe(
      'recorded',
    );
    const fenceBefore = await fenceOf(service);

    const released = await finish(holder, now);
    expect(released).toEqual({
      written: true,
      intents: {},
      handedTo: undefined,
      waiting: [unapproved.id, cancelled.id, notDue.id],
    });
    expect(await lockOf(service)).toBeNull();
    expect(await store.active(service)).toBeUndefined();
    expect(await fenceOf(service)).toBe(fenceBefore);
    for (const d of [unapproved, cancelled, notDue]) expect(await startOf(d.id), d.id).toBeUndefined();
    expect(await store.line(service)).toEqual([unapproved.id, cancelled.id, notDue.id]);
    // The holder's record is final and its lock gone: another release writes nothing.
    expect(await finish(holder, now + 1)).toEqual({ written: false });
    expect((await store.get(holder.id))?.finishedAt).toBe(now);
  });

  it('a claim on a free lock hands it to a ready entry once due; while another deployment holds the lock it takes nothing', async () => {
    const service = nextService();
    const startAt = T0 + 30 * MINUTE;
    const entry = await queuedOn(service, 'v1', scheduled(startAt));
    const request = await store.request(draft(service, 'v1-twin', scheduled(startAt + MINUTE)), {
      at: T0,
      actor: 'U0DEV1',
      type: 'requested',
    });
    // A scheduled request queues even on a free service.
    expect(request).toMatchObject({ kind: 'queued', position: 2, activeId: undefined });
    expect(await lockOf(service)).toBeNull();

    // Approved early: ready, but not due, so the ready step's own hand-over does nothing.
    const approved = await approve(entry, T0);
    expect(approved).toMatchObject({ written: true, waiting: [] });
    expect(approved.written && approved.handedTo).toBeUndefined();
    expect(await claim(entry, startAt - 1)).toMatchObject({ written: true, handedTo: undefined });
    expect(await lockOf(service)).toBeNull();

    const fenceBefore = await fenceOf(service);
    const claimed = await claim(entry, startAt);
    expect(claimed).toMatchObject({ written: true, handedTo: entry.id, waiting: [`${service}-v1-twin`] });
    expect(claimed.written && claimed.intents.start).toEqual({ fence: fenceBefore + 1, at: startAt });
    expect(await lockOf(service)).toBe(`${entry.id}:${fenceBefore + 1}`);

    // Busy service: a ready, due entry's claim writes its record but takes nothing.
    const busy = nextService();
    const holder = await activeOn(busy, 'v1');
    const waiting = await queuedOn(busy, 'v2', { requestedAt: T0 + MINUTE });
    expect((await approve(waiting, T0 + 2 * MINUTE)).written).toBe(true);
    const busyFence = await fenceOf(busy);
    const refused = await claim(waiting, T0 + 3 * MINUTE);
    expect(refused).toMatchObject({ written: true, handedTo: undefined, waiting: [] });
    expect(await lockOf(busy)).toBe(`${holder.id}:${holder.fence}`);
    expect(await startOf(waiting.id)).toBeUndefined();
    expect(await fenceOf(busy)).toBe(busyFence);
    expect(await queueIds(busy)).toEqual([waiting.id]);
  });

  it('the grace bound is inclusive, as in the worker (expired only after startAt + grace)', async () => {
    const startAt = T0 + 30 * MINUTE;
    const [onTime, late] = [nextService(), nextService()];
    const a = await queuedOn(onTime, 'v1', scheduled(startAt));
    const b = await queuedOn(late, 'v1', scheduled(startAt));
    for (const d of [a, b]) expect(await approve(d, T0)).toMatchObject({ written: true, handedTo: undefined });

    expect(await claim(a, startAt + GRACE_MS)).toMatchObject({ written: true, handedTo: a.id });
    expect(await claim(b, startAt + GRACE_MS + 1)).toMatchObject({ written: true, handedTo: undefined });
    expect(await store.activeId(onTime)).toBe(a.id);
    expect(await lockOf(late)).toBeNull();
    expect(await startOf(b.id)).toBeUndefined();
  });

  it('commitQueued writes nothing for an entry already handed the lock, or one that left the queue', async () => {
    const service = nextService();
    const holder = await activeOn(service, 'v1');
    const handed = await queuedOn(service, 'v2', { requestedAt: T0 + 1 * MINUTE });
    const leaving = await queuedOn(service, 'v3', { requestedAt: T0 + 2 * MINUTE });
    const behind = await queuedOn(service, 'v4', { requestedAt: T0 + 3 * MINUTE });
    for (const d of [handed, leaving]) expect((await approve(d, T0 + 4 * MINUTE)).written).toBe(true);
    expect(await finish(holder, T0 + 5 * MINUTE)).toMatchObject({ written: true, handedTo: handed.id });
    expect(await startOf(handed.id)).toBeDefined();

    // A tick of the handed entry that read it as queued before the hand-over: its write is refused.
    const eventsBefore = await store.events(handed.id);
    const recordBefore = await store.get(handed.id);
    const stale = await store.commitQueued(
      { ...handed, queuePosition: 7 },
      [{ at: T0 + 6 * MINUTE, actor: 'switchyard', type: 'repositioned' }],
      { move: 'ready', claim: true, now: T0 + 6 * MINUTE },
    );
    expect(stale).toEqual({ written: false });
    expect(await store.events(handed.id)).toEqual(eventsBefore);
    expect(await store.get(handed.id)).toEqual(recordBefore);
    expect(await readyIds(service)).toEqual([leaving.id]);

    // Leaving: out of the queue and the ready hash, its keys on the retention clock.
    const left = await store.commitQueued(
      { ...leaving, phase: 'cancelled', finishedAt: T0 + 7 * MINUTE },
      [{ at: T0 + 7 * MINUTE, actor: 'U0DEV1', type: 'cancelled' }],
      { move: 'leave', now: T0 + 7 * MINUTE },
    );
    expect(left).toMatchObject({ written: true, handedTo: undefined, waiting: [behind.id] });
    expect(await queueIds(service)).toEqual([behind.id]);
    expect(await redis.pttl(k.deployment(leaving.id))).toBeGreaterThan(0);
    const after = await store.commitQueued(
      { ...leaving, phase: 'queued' },
      [{ at: T0 + 8 * MINUTE, actor: 'U0RM1', type: 'approved' }],
      { move: 'ready', claim: true, now: T0 + 8 * MINUTE },
    );
    expect(after).toEqual({ written: false });
    expect((await store.get(leaving.id))?.phase).toBe('cancelled');
    expect((await store.events(leaving.id)).map((e) => e.type)).toEqual(['requested', 'approved', 'cancelled']);
    expect(await readyIds(service)).toEqual([]);
    expect(await queueIds(service)).toEqual([behind.id]);
  });

  it('a view submitted twice creates one deployment, whether it took the lock or queued', async () => {
    const service = nextService();
    const d = draft(service, 'v1', { requestedAt: T0 });
    expect(await store.request(d, requestedEvent(d), { viewId: `V-${service}-1` })).toMatchObject({ kind: 'active' });
    const again = draft(service, 'v1', { id: `${service}-v1-retry`, requestedAt: T0 + 1 });
    expect(await store.request(again, requestedEvent(again), { viewId: `V-${service}-1` })).toEqual({
      kind: 'duplicate',
      deploymentId: d.id,
    });

    const q = draft(service, 'v2', { requestedAt: T0 + 2 });
    expect(await store.request(q, requestedEvent(q), { viewId: `V-${service}-2` })).toMatchObject({
      kind: 'queued',
      position: 1,
      activeId: d.id,
    });
    const qAgain = draft(service, 'v2', { id: `${service}-v2-retry`, requestedAt: T0 + 3 });
    expect(await store.request(qAgain, requestedEvent(qAgain), { viewId: `V-${service}-2` })).toEqual({
      kind: 'duplicate',
      deploymentId: q.id,
    });

    expect((await store.history(service, 10)).map((r) => r.id).sort()).toEqual([d.id, q.id].sort());
    expect(await store.get(again.id)).toBeUndefined();
    expect(await store.get(qAgain.id)).toBeUndefined();
    expect(await store.events(again.id)).toEqual([]);
    expect(await store.line(service)).toEqual([d.id, q.id]);
  });

  it('two releases of one holder at once: one writes and hands over, the other writes nothing', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const service = nextService();
      const holder = await activeOn(service, 'v1');
      const next = await queuedOn(service, 'v2', { requestedAt: T0 + MINUTE });
      const behind = await queuedOn(service, 'v3', { requestedAt: T0 + 2 * MINUTE });
      for (const d of [next, behind]) expect((await approve(d, T0 + 3 * MINUTE)).written).toBe(true);

      const results = await Promise.all(
        [0, 1].map((i) => finish(holder, T0 + 10 * MINUTE + i, { on: stores[(round + i) % CONNECTIONS] })),
      );
      expect(
        results.filter((r) => r.written),
        `round ${round}`,
      ).toHaveLength(1);
      expect(results.filter((r) => r.written && r.handedTo === next.id)).toHaveLength(1);
      expect((await store.events(holder.id)).map((e) => e.type)).toEqual(['requested', 'succeeded']);
      const start = await startOf(next.id);
      expect(await lockOf(service)).toBe(`${next.id}:${start?.fence}`);
      expect(await startOf(behind.id)).toBeUndefined();
      expect(await queueIds(service)).toEqual([behind.id]);
    }
  });

  it('two claims at once on a free lock, from two connections: exactly one entry gets the lock', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const service = nextService();
      const startAt = T0 + 30 * MINUTE;
      const a = await queuedOn(service, 'v1', scheduled(startAt));
      const b = await queuedOn(service, 'v2', scheduled(startAt));
      // Approved before they are due: both ready, the lock free, nobody handed it yet.
      for (const d of [a, b]) expect(await approve(d, T0)).toMatchObject({ written: true, handedTo: undefined });
      const fenceBefore = await fenceOf(service);

      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      const results = await Promise.all([
        claim(first, startAt + MINUTE, stores[round % CONNECTIONS]),
        claim(second, startAt + MINUTE, stores[(round + 1) % CONNECTIONS]),
      ]);
      const handed = results.flatMap((r) => (r.written && r.handedTo ? [r.handedTo] : []));
      expect(handed, `round ${round}`).toHaveLength(1);
      const starts = await Promise.all([a, b].map((d) => startOf(d.id)));
      expect(starts.filter(Boolean)).toHaveLength(1);
      const winner = starts[0] ? a : b;
      expect(handed).toEqual([winner.id]);
      expect(await fenceOf(service)).toBe(fenceBefore + 1);
      expect(await lockOf(service)).toBe(`${winner.id}:${fenceBefore + 1}`);
      expect(await queueIds(service)).toEqual([winner === a ? b.id : a.id]);
    }
  });

  it('two approvals at once on a free lock, both due: exactly one entry gets the lock', async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const service = nextService();
      const a = await queuedOn(service, 'v1', scheduled(T0));
      const b = await queuedOn(service, 'v2', scheduled(T0));
      const fenceBefore = await fenceOf(service);

      const results = await Promise.all([
        approve(a, T0 + MINUTE, stores[round % CONNECTIONS]),
        approve(b, T0 + MINUTE, stores[(round + 1) % CONNECTIONS]),
      ]);
      const handed = results.flatMap((r) => (r.written && r.handedTo ? [r.handedTo] : []));
      expect(handed, `round ${round}`).toHaveLength(1);
      const starts = await Promise.all([a, b].map((d) => startOf(d.id)));
      expect(starts.filter(Boolean)).toHaveLength(1);
      const winner = handed[0] === a.id ? a : b;
      expect(await lockOf(service)).toBe(`${winner.id}:${fenceBefore + 1}`);
      expect(await fenceOf(service)).toBe(fenceBefore + 1);
    }
  });

  it('a request finds the lock free but someone due waiting: it queues behind them; a start still ahead holds nothing back', async () => {
    const service = nextService();
    const later = await queuedOn(service, 'v3.0.0', scheduled(T0 + 10 * MINUTE));
    // Only a start still ahead is queued: a request takes the free lock.
    const first = await activeOn(service, 'v1.0.0', { requestedAt: T0 + MINUTE });
    expect(await lockOf(service)).toBe(`${first.id}:${first.fence}`);
    await finish(first, T0 + 2 * MINUTE);
    await approve(later, T0 + 3 * MINUTE);

    // Now due and approved but not yet ticked: a newcomer must not jump it.
    const newcomer = draft(service, 'v4.0.0', { requestedAt: T0 + 11 * MINUTE });
    const result = await store.request(newcomer, requestedEvent(newcomer));
    expect(result).toMatchObject({ kind: 'queued', position: 2, activeId: undefined });
    // Stored with its place, so its first tick has nothing to reposition (and no edit to make).
    expect((await store.get(newcomer.id))?.queuePosition).toBe(2);
    expect(await lockOf(service)).toBeNull();
    expect(await claim(later, T0 + 11 * MINUTE)).toMatchObject({ written: true, handedTo: later.id });
    expect(await store.line(service)).toEqual([later.id, newcomer.id]);
  });

  it('the fencing token is taken with the lock: requests that queue take none, and tokens grow in the order the lock changes hands', async () => {
    const service = nextService();
    const holders: Deployment[] = [await activeOn(service, 'v1.0.0')];
    const waiting = await Promise.all(
      ['v2.0.0', 'v3.0.0', 'v4.0.0'].map((version, i) =>
        (stores[i + 1] as DeploymentStore).request(
          draft(service, version, { requestedAt: T0 + i + 1 }),
          requestedEvent(draft(service, version, { requestedAt: T0 + i + 1 })),
        ),
      ),
    );
    expect(waiting.map((r) => r.kind)).toEqual(['queued', 'queued', 'queued']);
    expect(await fenceOf(service)).toBe(holders[0]?.fence);
    expect((await store.get(holders[0]?.id ?? ''))?.fence).toBe(holders[0]?.fence);

    for (const [i, result] of waiting.entries()) {
      if (result.kind !== 'queued') throw new Error('queued above');
      await approve(result.deployment, T0 + MINUTE + i);
    }
    for (let turn = 0; turn < 3; turn += 1) {
      const holder = holders[holders.length - 1] as Deployment;
      const finished = await finish(holder, T0 + 2 * MINUTE + turn);
      const next = finished.written ? await store.get(finished.handedTo ?? '') : undefined;
      if (!next) throw new Error(`the lock was not handed on after ${holder.id}`);
      const start = await startOf(next.id);
      holders.push({ ...next, phase: 'running', fence: start?.fence ?? 0 });
    }
    const fences = holders.map((d) => d.fence);
    expect(fences).toEqual([...fences].sort((a, b) => a - b));
    expect(new Set(fences).size).toBe(4);
    expect(await fenceOf(service)).toBe(fences[3]);
  });

  it('discarding a deployment that holds the lock (its announcement failed) hands the lock on, and leaves nothing of it', async () => {
    const service = nextService();
    const discarded = await activeOn(service, 'v1.0.0');
    const next = await queuedOn(service, 'v2.0.0', { requestedAt: T0 + 1 });
    await approve(next, T0 + 2);

    expect(await store.discard(discarded, T0 + 3)).toBe(next.id);
    expect(await store.get(discarded.id)).toBeUndefined();
    expect(await lockOf(service)).toBe(`${next.id}:${(await startOf(next.id))?.fence}`);
    expect(await store.line(service)).toEqual([next.id]);
    // A queued one discarded leaves the line and hands nothing.
    const queuedAgain = await queuedOn(service, 'v3.0.0', { requestedAt: T0 + 4 });
    expect(await store.discard(queuedAgain, T0 + 5)).toBeUndefined();
    expect(await store.queued(service)).toEqual([]);
  });
});
