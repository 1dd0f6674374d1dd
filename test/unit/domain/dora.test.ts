import { describe, expect, it } from 'vitest';
import type { Deployment, StepRecord } from '../../../src/domain/deployment.js';
import {
  doraByService,
  doraFor,
  isProductionChange,
  median,
  rollbackRequestedAt,
  timeToRestoreMs,
} from '../../../src/domain/dora.js';
import { deployment, T0 } from '../fixtures.js';

const MIN = 60_000;
const DAY = 86_400_000;
const NOW = T0 + 40 * DAY;

/** Every step up to `index` done, the step at `index` with `last`. */
const records = (d: Deployment, index: number, last: StepRecord): StepRecord[] =>
  d.steps.map((_, i) => (i < index ? { startedAt: 1, endedAt: 2, outcome: 'ok' } : i === index ? last : {}));

const firstWeightIndex = (d: Deployment): number => d.steps.findIndex((s) => s.kind === 'setWeight');

/** A deployment approved at `approvedAt` that reached 100 % `leadMin` minutes later and succeeded. */
function succeeded(id: string, approvedAt: number, leadMin: number, service = 'acme-api'): Deployment {
  const base = deployment({ id, service });
  return {
    ...base,
    phase: 'succeeded',
    approvedAt,
    fullTrafficAt: approvedAt + leadMin * MIN,
    finishedAt: approvedAt + (leadMin + 5) * MIN,
    stepIndex: base.steps.length,
    stepRecords: base.steps.map(() => ({ startedAt: approvedAt, endedAt: approvedAt + MIN, outcome: 'ok' as const })),
  };
}

/** Rolled back by a failed gate during the first bake: the failing step ended at `failedAt`. */
function rolledBackByGate(id: string, approvedAt: number, failedAt: number, restoredAt: number): Deployment {
  const base = deployment({ id, approvedAt });
  const bake = firstWeightIndex(base) + 1;
  return {
    ...base,
    phase: 'rolled-back',
    stepIndex: bake,
    stepRecords: records(base, bake, {
      startedAt: approvedAt + MIN,
      endedAt: failedAt,
      outcome: 'failed',
      detail: 'p99 latency 1.2 > 0.8',
    }),
    rollbackReason: 'p99 latency: 1.2 (≤ 0.8) — breach',
    rollbackBy: 'switchyard',
    finishedAt: restoredAt,
  };
}

describe('DORA figures from hand-made records', () => {
  const start = NOW - 20 * DAY;
  const list: Deployment[] = [
    succeeded('s1', start, 20),
    succeeded('s2', start + DAY, 40),
    succeeded('s3', start + 2 * DAY, 30),
    rolledBackByGate('g1', start + 3 * DAY, start + 3 * DAY + 12 * MIN, start + 3 * DAY + 12 * MIN + 4000),
    // Asked for by a person: restore time runs from the request, not from the bake.
    {
      ...succeeded('r1', start + 4 * DAY, 25),
      phase: 'rolled-back',
      rollbackReason: 'customers report errors',
      rollbackBy: 'U0DEV1',
      finishedAt: start + 4 * DAY + 60 * MIN + 10_000,
    },
    // None of these changed production.
    deployment({
      id: 'f1',
      phase: 'failed',
      approvedAt: start,
      finishedAt: start + MIN,
      failureReason: 'rollout timed out',
    }),
    deployment({ id: 'x1', phase: 'rejected', finishedAt: start + MIN, rejectReason: 'no' }),
    deployment({ id: 'e1', phase: 'expired', finishedAt: start + MIN }),
    deployment({ id: 'a1', phase: 'running', approvedAt: NOW - MIN }),
    // Outside the 30-day window.
    succeeded('old', NOW - 45 * DAY, 10),
    // Another service.
    succeeded('w1', start, 5, 'acme-worker'),
  ];
  const intents = new Map([
    ['r1', { by: 'U0DEV1', at: start + 4 * DAY + 60 * MIN, reason: 'customers report errors' }],
  ]);

  it('counts production changes, rates and medians over the last 30 days', () => {
    const figures = doraFor('acme-api', list, { now: NOW, rollbackIntents: intents });
    expect(figures).toEqual({
      service: 'acme-api',
      deployments: 5,
      perDay: 5 / 30,
      // s1 20, s2 40, s3 30, r1 25 (it reached 100 % before its rollback): median of 20, 25, 30, 40.
      leadTimeMs: 27.5 * MIN,
      changeFailureRate: 2 / 5,
      rolledBack: 2,
      // g1: 4 s from the failed gate; r1: 10 s from the request.
      timeToRestoreMs: 7000,
    });
  });

  it('gives one set per service, in the order asked', () => {
    const [api, worker, idle] = doraByService(['acme-api', 'acme-worker', 'idle'], list, {
      now: NOW,
      rollbackIntents: intents,
    });
    expect(api?.deployments).toBe(5);
    expect(worker).toMatchObject({
      service: 'acme-worker',
      deployments: 1,
      leadTimeMs: 5 * MIN,
      changeFailureRate: 0,
      rolledBack: 0,
    });
    expect(worker?.timeToRestoreMs).toBeUndefined();
    expect(idle).toEqual({
      service: 'idle',
      deployments: 0,
      perDay: 0,
      leadTimeMs: undefined,
      changeFailureRate: undefined,
      rolledBack: 0,
      timeToRestoreMs: undefined,
    });
  });

  it('a shorter window leaves older changes out', () => {
    const figures = doraFor('acme-api', list, { now: NOW, windowDays: 17, rollbackIntents: intents });
    // Only g1 (day 3 → 17 days ago) and r1 (day 4) finished in the last 17 days.
    expect(figures).toMatchObject({ deployments: 2, rolledBack: 2, changeFailureRate: 1, leadTimeMs: 25 * MIN });
  });
});

describe('what counts', () => {
  it('a rollback before any traffic moved is not a production change', () => {
    const early = deployment({
      phase: 'rolled-back',
      stepIndex: 1,
      stepRecords: [{ startedAt: T0, endedAt: T0 + 1, outcome: 'ok' }, { startedAt: T0 + 2 }],
      finishedAt: T0 + MIN,
    });
    expect(isProductionChange(early)).toBe(false);
    expect(doraFor('acme-api', [early], { now: T0 + DAY }).deployments).toBe(0);
  });

  it('a rollback requested before the deployment finished counts from the request; a stale one does not', () => {
    const d = rolledBackByGate('g', T0, T0 + 10 * MIN, T0 + 10 * MIN + 3000);
    expect(rollbackRequestedAt(d)).toBe(T0 + 10 * MIN);
    expect(timeToRestoreMs(d)).toBe(3000);
    expect(timeToRestoreMs(d, { by: 'U0DEV1', at: T0 + 10 * MIN + 1000, reason: 'x' })).toBe(2000);
    // An intent from after the record finished cannot be what restored it.
    expect(rollbackRequestedAt(d, { by: 'U0DEV1', at: T0 + DAY, reason: 'x' })).toBe(T0 + 10 * MIN);
    expect(timeToRestoreMs({ ...d, phase: 'succeeded' })).toBeUndefined();
  });

  it('median of odd, even and empty lists', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeUndefined();
  });
});
