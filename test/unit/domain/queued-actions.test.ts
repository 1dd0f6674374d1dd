import { describe, expect, it } from 'vitest';
import type { Deployment, Intents } from '../../../src/domain/deployment.js';
import { nextAction, QUEUED_RECHECK_MS, type QueueView } from '../../../src/domain/machine.js';
import { deployment, T0 } from '../fixtures.js';

const MINUTE = 60_000;
const TIMEOUT = 240 * MINUTE;
const GRACE = 60 * MINUTE;

const queued = (overrides: Partial<Deployment> = {}): Deployment =>
  deployment({ phase: 'queued', fence: 0, requestedAt: T0, ...overrides });
const approved = (overrides: Partial<Deployment> = {}): Deployment =>
  queued({ approvedAt: T0 + MINUTE, approver: 'U0RM1', queuePosition: 1, ...overrides });
const act = (d: Deployment, now: number, queue: QueueView = { position: d.queuePosition }, intents: Intents = {}) =>
  nextAction(d, intents, now, TIMEOUT, { queue, scheduleGraceMs: GRACE });

describe('a queued deployment', () => {
  it('starts under the fencing token the hand-over gave it, before anything else', () => {
    const intents: Intents = { start: { fence: 7, at: T0 }, cancel: { by: 'U0DEV1', at: T0, reason: 'x' } };
    expect(act(approved(), T0, {}, intents)).toEqual({ kind: 'start', fence: 7 });
  });

  it('is cancelled by a person, or when its version was rolled back', () => {
    const cancel = { cancel: { by: 'U0DEV1', at: T0, reason: 'not today' } };
    expect(act(queued(), T0, {}, cancel)).toEqual({ kind: 'cancel', by: 'U0DEV1', reason: 'not today' });
    expect(act(queued({ version: 'v1.5.0' }), T0, { blocked: 'error rate' })).toEqual({
      kind: 'cancel',
      by: 'switchyard',
      reason: 'v1.5.0 was rolled back: error rate',
    });
  });

  it('applies an approval once (it stays queued) and a rejection at once', () => {
    const approve: Intents = { decision: { kind: 'approve', by: 'U0RM1', at: T0 } };
    expect(act(queued(), T0, { position: undefined }, approve).kind).toBe('applyDecision');
    expect(act(approved(), T0 + MINUTE, { position: 1, holder: 'other' }, approve).kind).toBe('awaitTurn');
    const reject: Intents = { decision: { kind: 'reject', by: 'U0RM1', at: T0 } };
    expect(act(approved(), T0, {}, reject).kind).toBe('applyDecision');
  });

  it('expires without approval after the timeout; a scheduled one may be approved until its start and grace', () => {
    expect(act(queued(), T0 + TIMEOUT).kind).toBe('expire');
    const later = queued({ schedule: { startAt: T0 + 10 * TIMEOUT, timezone: 'UTC' } });
    expect(act(later, T0 + TIMEOUT).kind).toBe('awaitTurn');
    expect(act(later, T0 + 10 * TIMEOUT + GRACE).kind).toBe('expire');
  });

  it('keeps its place on the record as the queue moves, and claims a free lock once approved and due', () => {
    expect(act(approved({ queuePosition: 2 }), T0 + MINUTE, { position: 1, holder: 'a' })).toEqual({
      kind: 'reposition',
      position: 1,
    });
    expect(act(approved(), T0 + MINUTE, { position: 1 })).toEqual({ kind: 'claim' });
    expect(act(queued({ queuePosition: 1 }), T0 + MINUTE, { position: 1 }).kind).toBe('awaitTurn');
  });

  it('waits for its start, sends the notice 30 minutes before, and expires past the grace', () => {
    const startAt = T0 + 120 * MINUTE;
    const scheduled = approved({ schedule: { startAt, timezone: 'UTC' } });
    expect(act(scheduled, T0 + MINUTE, { position: 1 })).toEqual({
      kind: 'awaitTurn',
      until: T0 + MINUTE + QUEUED_RECHECK_MS,
    });
    expect(act(scheduled, startAt - 30 * MINUTE, { position: 1 }).kind).toBe('scheduleNotice');
    const noticed = approved({ schedule: { startAt, timezone: 'UTC', noticeSentAt: startAt - 30 * MINUTE } });
    expect(act(noticed, startAt - MINUTE, { position: 1 })).toEqual({ kind: 'awaitTurn', until: startAt });
    expect(act(noticed, startAt, { position: 1 })).toEqual({ kind: 'claim' });
    expect(act(noticed, startAt + GRACE, { position: 1, holder: 'long' }).kind).toBe('awaitTurn');
    expect(act(noticed, startAt + GRACE + 1, { position: 1, holder: 'long', holderVersion: 'v9.9.9' })).toEqual({
      kind: 'expireSchedule',
      busyWith: 'v9.9.9',
    });
  });

  it('approved late, the notice goes out at once', () => {
    const startAt = T0 + 10 * MINUTE;
    expect(act(approved({ schedule: { startAt, timezone: 'UTC' } }), T0 + 2 * MINUTE, { position: 1 }).kind).toBe(
      'scheduleNotice',
    );
  });

  it('looks again within the recheck interval when nothing is due', () => {
    expect(act(approved(), T0 + MINUTE, { position: 1, holder: 'a' })).toEqual({
      kind: 'awaitTurn',
      until: T0 + MINUTE + QUEUED_RECHECK_MS,
    });
  });
});

describe('a deployment holding the lock, awaiting approval', () => {
  it('is cancelled before any decision is applied', () => {
    const d = deployment({ phase: 'awaiting-approval', requestedAt: T0 });
    const intents: Intents = {
      cancel: { by: 'U0DEV1', at: T0, reason: 'withdrawn' },
      decision: { kind: 'approve', by: 'U0RM1', at: T0 },
    };
    expect(nextAction(d, intents, T0, TIMEOUT)).toEqual({ kind: 'cancel', by: 'U0DEV1', reason: 'withdrawn' });
  });
});
