import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApprovalRule } from '../../../src/domain/approval.js';
import { ApprovalCounter } from '../../../src/store/approvals.js';
import { DeploymentStore } from '../../../src/store/deployment-store.js';
import { deletePrefix, REDIS_URL } from '../../support/harness.js';

const T0 = Date.UTC(2026, 2, 2, 15, 0, 0);
const CONNECTIONS = 8;

/**
 * The count is one Lua script per press: presses sent at once on several connections (as
 * several bot replicas would) are counted one after the other, never twice and never lost.
 */
describe('ApprovalCounter: atomic approvals in Redis', () => {
  let connections: Redis[];
  let prefix: string;
  let counters: ApprovalCounter[];
  let store: DeploymentStore;
  let n = 0;
  const nextId = () => `acme-api-${(n += 1)}`;

  beforeAll(() => {
    prefix = `sy-approvals-${randomUUID().slice(0, 8)}`;
    connections = Array.from({ length: CONNECTIONS }, () => new Redis(REDIS_URL));
    counters = connections.map((redis) => new ApprovalCounter(redis, prefix));
    store = new DeploymentStore(connections[0] as Redis, prefix);
  });
  afterAll(async () => {
    await deletePrefix(connections[0] as Redis, prefix);
    await Promise.all(connections.map((redis) => redis.quit()));
  });

  const counterFor = (i: number) => counters[i % CONNECTIONS] as ApprovalCounter;

  it('twenty people for twenty rules of one, all at once: twenty approvals, one decision', async () => {
    const id = nextId();
    const people = Array.from({ length: 20 }, (_, i) => `U0P${i}`);
    const rules: ApprovalRule[] = people.map((user, i) => ({ name: `rule ${i}`, from: [user], count: 1 }));
    const outcomes = await Promise.all(
      people.map((user, i) =>
        counterFor(i).approve(
          id,
          user,
          rules,
          rules.map((rule) => rule.from.includes(user)),
          T0 + i,
        ),
      ),
    );
    expect(outcomes.every((o) => o.kind === 'counted')).toBe(true);
    expect(outcomes.filter((o) => o.kind === 'counted' && o.complete)).toHaveLength(1);
    const intents = await store.intents(id);
    expect(intents.approvals?.map((a) => a.by).sort()).toEqual([...people].sort());
    expect(intents.approvals?.every((a) => a.rule === `rule ${people.indexOf(a.by)}`)).toBe(true);
    const events = await store.events(id);
    expect(events.map((e) => e.type)).toEqual(people.map(() => 'approve-recorded'));
    // The decision names the approval that met the last rule, with its time as written.
    const last = intents.approvals?.at(-1);
    expect(intents.decision).toEqual({ kind: 'approve', by: last?.by, at: last?.at });
  });

  it('one person pressing twenty times at once counts once', async () => {
    const id = nextId();
    const rules: ApprovalRule[] = [
      { name: 'release manager', from: ['U0RM1', 'U0RM2'], count: 2 },
      { name: 'tech lead', from: ['U0RM1', 'U0LEAD'], count: 1 },
    ];
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => counterFor(i).approve(id, 'U0RM1', rules, [true, true], T0)),
    );
    expect(outcomes.filter((o) => o.kind === 'counted')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'already-counted')).toHaveLength(19);
    expect((await store.intents(id)).approvals).toEqual([{ by: 'U0RM1', rule: 'release manager', at: T0 }]);
    expect(await store.events(id)).toHaveLength(1);
    expect((await store.intents(id)).decision).toBeUndefined();
  });

  it('many people racing for a rule of two: exactly two count, the rest are turned away', async () => {
    const id = nextId();
    const people = Array.from({ length: 12 }, (_, i) => `U0RM${i}`);
    const rules: ApprovalRule[] = [
      { name: 'release manager', from: people, count: 2 },
      { name: 'DevOps engineer', from: ['U0OPS'], count: 1 },
    ];
    const outcomes = await Promise.all(
      people.map((user, i) => counterFor(i).approve(id, user, rules, [true, false], T0)),
    );
    expect(outcomes.filter((o) => o.kind === 'counted')).toHaveLength(2);
    expect(outcomes.filter((o) => o.kind === 'no-open-rule')).toHaveLength(10);
    expect((await store.intents(id)).approvals).toHaveLength(2);
    expect((await store.intents(id)).decision).toBeUndefined();
    const last = await counterFor(0).approve(id, 'U0OPS', rules, [false, true], T0 + 1);
    expect(last).toMatchObject({ kind: 'counted', rule: 'DevOps engineer', complete: true });
  });

  it('a person in two rules counts toward the first still open; after a decision nothing counts', async () => {
    const id = nextId();
    const rules: ApprovalRule[] = [
      { name: 'deployment manager', from: ['U0DM', 'U0BOTH'], count: 1 },
      { name: 'tech lead', from: ['U0BOTH', 'U0LEAD'], count: 1 },
    ];
    expect(await counterFor(0).approve(id, 'U0DM', rules, [true, false], T0)).toMatchObject({
      kind: 'counted',
      rule: 'deployment manager',
      complete: false,
    });
    expect(await counterFor(1).approve(id, 'U0BOTH', rules, [true, true], T0)).toMatchObject({
      kind: 'counted',
      rule: 'tech lead',
      complete: true,
    });
    const late = await counterFor(2).approve(id, 'U0LEAD', rules, [false, true], T0);
    expect(late).toEqual({ kind: 'decided', decision: { kind: 'approve', by: 'U0BOTH', at: T0 } });

    // A rejection recorded first ends the counting too.
    const rejected = nextId();
    await store.decide(rejected, { kind: 'reject', by: 'U0LEAD', at: T0, reason: 'no' });
    expect(await counterFor(3).approve(rejected, 'U0DM', rules, [true, false], T0)).toMatchObject({
      kind: 'decided',
      decision: { kind: 'reject', by: 'U0LEAD' },
    });
    expect((await store.intents(rejected)).approvals).toBeUndefined();
    expect(await store.events(rejected)).toEqual([]);
  });
});
