import { describe, expect, it } from 'vitest';
import type { Deployment, Intents, Phase } from '../../../src/domain/deployment.js';
import {
  applyStepResult,
  bakeProgress,
  nextAction,
  PAUSED_RECHECK_MS,
  retryDelayMs,
  startStep,
  waitEndsAt,
} from '../../../src/domain/machine.js';
import type { Step } from '../../../src/domain/steps.js';
import { deployment, T0 } from '../fixtures.js';

const HOUR = 3_600_000;
const TIMEOUT = 4 * HOUR;

/** preflight, deployIdle, health, setWeight 10, bake, setWeight 50, bake, setWeight 100, monitor, complete */
const STEPS: Step[] = [
  { kind: 'preflight' },
  { kind: 'deployIdle' },
  { kind: 'health' },
  { kind: 'setWeight', weight: 10 },
  { kind: 'bake', seconds: 300, weight: 10 },
  { kind: 'setWeight', weight: 50 },
  { kind: 'bake', seconds: 300, weight: 50 },
  { kind: 'setWeight', weight: 100 },
  { kind: 'monitor', seconds: 1800 },
  { kind: 'complete' },
];
const SET_10 = 3;
const BAKE_10 = 4;
const SET_100 = 7;
const COMPLETE = 9;

const running = (overrides: Partial<Deployment> = {}): Deployment =>
  deployment({ phase: 'running', steps: STEPS, stepIndex: 0, stepRecords: [], approvedAt: T0 + 60_000, ...overrides });

/** A deployment whose steps before `index` are done and whose step `index` has started at `startedAt`. */
const at = (index: number, startedAt: number, overrides: Partial<Deployment> = {}): Deployment =>
  running({
    stepIndex: index,
    stepRecords: STEPS.map((_, i) =>
      i < index ? { startedAt: T0 + i, endedAt: T0 + i + 1, outcome: 'ok' as const } : i === index ? { startedAt } : {},
    ),
    ...overrides,
  });

const noIntents: Intents = {};

describe('nextAction', () => {
  describe('awaiting approval', () => {
    const waiting = deployment({ phase: 'awaiting-approval', requestedAt: T0, steps: STEPS });

    it('waits for a decision until the approval deadline', () => {
      expect(nextAction(waiting, noIntents, T0, TIMEOUT)).toEqual({ kind: 'awaitDecision', until: T0 + TIMEOUT });
      expect(nextAction(waiting, noIntents, T0 + TIMEOUT - 1, TIMEOUT)).toEqual({
        kind: 'awaitDecision',
        until: T0 + TIMEOUT,
      });
    });

    it('expires at and after the deadline', () => {
      expect(nextAction(waiting, noIntents, T0 + TIMEOUT, TIMEOUT)).toEqual({ kind: 'expire' });
      expect(nextAction(waiting, noIntents, T0 + 10 * TIMEOUT, TIMEOUT)).toEqual({ kind: 'expire' });
    });

    it('applies a decision when one is present, even after the deadline', () => {
      const approve: Intents = { decision: { kind: 'approve', by: 'U0RM1', at: T0 + 1000 } };
      expect(nextAction(waiting, approve, T0 + 1000, TIMEOUT)).toEqual({ kind: 'applyDecision' });
      expect(nextAction(waiting, approve, T0 + 2 * TIMEOUT, TIMEOUT)).toEqual({ kind: 'applyDecision' });
      const reject: Intents = { decision: { kind: 'reject', by: 'U0RM1', at: T0, reason: 'no' } };
      expect(nextAction(waiting, reject, T0, TIMEOUT)).toEqual({ kind: 'applyDecision' });
    });

    it('honours the configured timeout', () => {
      expect(nextAction(waiting, noIntents, T0 + 1000, 1000)).toEqual({ kind: 'expire' });
      expect(nextAction(waiting, noIntents, T0 + 999, 1000)).toEqual({ kind: 'awaitDecision', until: T0 + 1000 });
    });
  });

  describe('running', () => {
    it('runs the current step with its index', () => {
      expect(nextAction(running(), noIntents, T0, TIMEOUT)).toEqual({
        kind: 'runStep',
        step: { kind: 'preflight' },
        index: 0,
      });
      expect(nextAction(at(BAKE_10, T0), noIntents, T0, TIMEOUT)).toEqual({
        kind: 'runStep',
        step: STEPS[BAKE_10],
        index: BAKE_10,
      });
    });

    it('a rollback intent preempts the current step, with who asked and why', () => {
      const intents: Intents = { rollback: { by: 'U0DEV1', at: T0 + 5, reason: 'errors spiking' } };
      expect(nextAction(at(BAKE_10, T0), intents, T0 + 10, TIMEOUT)).toEqual({
        kind: 'startRollback',
        reason: 'errors spiking',
        by: 'U0DEV1',
      });
      expect(nextAction(running(), intents, T0 + 10, TIMEOUT)).toEqual({
        kind: 'startRollback',
        reason: 'errors spiking',
        by: 'U0DEV1',
      });
    });

    it('ignores a (late) decision once running', () => {
      const intents: Intents = { decision: { kind: 'approve', by: 'U0RM1', at: T0 } };
      expect(nextAction(running(), intents, T0, TIMEOUT).kind).toBe('runStep');
    });

    it('falls back to a rollback when a running deployment has run out of steps', () => {
      expect(nextAction(running({ stepIndex: STEPS.length }), noIntents, T0, TIMEOUT)).toEqual({ kind: 'rollback' });
    });
  });

  describe('paused', () => {
    const paused = (overrides: Partial<Deployment> = {}) =>
      at(BAKE_10, T0, {
        phase: 'paused',
        pausedAt: T0 + 90_000,
        pauseReason: 'gates inconclusive 3 times in a row',
        ...overrides,
      });

    it('holds, looking again after the safety-net interval', () => {
      expect(nextAction(paused(), noIntents, T0 + 100_000, TIMEOUT)).toEqual({
        kind: 'awaitResume',
        until: T0 + 100_000 + PAUSED_RECHECK_MS,
      });
    });

    it('a resume given at or after the pause resumes, naming who', () => {
      expect(nextAction(paused(), { resume: { by: 'U0ONCALL', at: T0 + 90_000 } }, T0 + 100_000, TIMEOUT)).toEqual({
        kind: 'resume',
        by: 'U0ONCALL',
      });
      expect(nextAction(paused(), { resume: { by: 'U0ONCALL', at: T0 + 95_000 } }, T0 + 100_000, TIMEOUT)).toEqual({
        kind: 'resume',
        by: 'U0ONCALL',
      });
    });

    it('a resume left over from an earlier pause does not resume this one', () => {
      expect(nextAction(paused(), { resume: { by: 'U0ONCALL', at: T0 + 1 } }, T0 + 100_000, TIMEOUT).kind).toBe(
        'awaitResume',
      );
    });

    it('a rollback intent wins over a resume', () => {
      const intents: Intents = {
        resume: { by: 'U0ONCALL', at: T0 + 95_000 },
        rollback: { by: 'U0RM1', at: T0 + 96_000, reason: 'no data, no risk' },
      };
      expect(nextAction(paused(), intents, T0 + 100_000, TIMEOUT)).toEqual({
        kind: 'startRollback',
        reason: 'no data, no risk',
        by: 'U0RM1',
      });
    });
  });

  describe('/shift hold', () => {
    const hold: Intents = { hold: { by: 'U0DEV1', at: T0, weight: 25 } };

    it('is ignored before the first traffic step', () => {
      expect(nextAction(at(1, T0), hold, T0, TIMEOUT)).toEqual({
        kind: 'runStep',
        step: { kind: 'deployIdle' },
        index: 1,
      });
    });

    it('holds from the first traffic step on, carrying the asked weight and who asked', () => {
      for (const index of [SET_10, BAKE_10, SET_100 + 1]) {
        const action = nextAction(at(index, T0), hold, T0, TIMEOUT);
        expect(action.kind).toBe('hold');
        // The action's exact shape is still settling; what matters is that it carries the hold.
        expect(JSON.stringify(action)).toMatch(/"weight":25/);
        expect(JSON.stringify(action)).toMatch(/"by":"U0DEV1"/);
      }
    });

    it('does not hold the final complete step', () => {
      expect(nextAction(at(COMPLETE, T0), hold, T0, TIMEOUT)).toEqual({
        kind: 'runStep',
        step: { kind: 'complete' },
        index: COMPLETE,
      });
    });

    it('a rollback wins over a hold', () => {
      const intents: Intents = { ...hold, rollback: { by: 'U0RM1', at: T0, reason: 'stop' } };
      expect(nextAction(at(BAKE_10, T0), intents, T0, TIMEOUT).kind).toBe('startRollback');
    });

    it('a deployment without traffic steps (rolling) is never held', () => {
      const steps: Step[] = [{ kind: 'preflight' }, { kind: 'deployIdle' }, { kind: 'complete' }];
      const d = deployment({ strategy: 'rolling', phase: 'running', steps, stepIndex: 1, stepRecords: [] });
      expect(nextAction(d, hold, T0, TIMEOUT).kind).toBe('runStep');
    });
  });

  it('rolling back: keeps restoring, whatever the intents say', () => {
    const d = at(BAKE_10, T0, { phase: 'rolling-back', rollbackReason: 'gate', rollbackBy: 'switchyard' });
    expect(nextAction(d, noIntents, T0, TIMEOUT)).toEqual({ kind: 'rollback' });
    expect(nextAction(d, { rollback: { by: 'U0DEV1', at: T0, reason: 'again' } }, T0, TIMEOUT)).toEqual({
      kind: 'rollback',
    });
  });

  it.each<Phase>(['succeeded', 'rolled-back', 'failed', 'rejected', 'expired'])(
    'terminal %s: nothing to do, even with intents',
    (phase) => {
      const d = running({ phase });
      const intents: Intents = {
        decision: { kind: 'approve', by: 'U0RM1', at: T0 },
        rollback: { by: 'U0DEV1', at: T0, reason: 'x' },
      };
      expect(nextAction(d, noIntents, T0, TIMEOUT)).toEqual({ kind: 'none' });
      expect(nextAction(d, intents, T0 + 100 * TIMEOUT, TIMEOUT)).toEqual({ kind: 'none' });
    },
  );
});

describe('startStep', () => {
  it('records the start of the current step', () => {
    const d = startStep(running({ stepIndex: 2, stepRecords: [] }), T0 + 42);
    expect(d.stepRecords[2]).toEqual({ startedAt: T0 + 42 });
    expect(d.stepRecords).toHaveLength(STEPS.length);
  });

  it('keeps the first start across re-runs (and returns the same record)', () => {
    const first = startStep(running({ stepIndex: 1 }), T0 + 1);
    const again = startStep(first, T0 + 99_999);
    expect(again).toBe(first);
    expect(again.stepRecords[1]?.startedAt).toBe(T0 + 1);
  });

  it('does not touch other steps’ records', () => {
    const d = at(BAKE_10, T0 + 500);
    const next = startStep({ ...d, stepIndex: BAKE_10 + 1 }, T0 + 900);
    expect(next.stepRecords[BAKE_10]).toEqual({ startedAt: T0 + 500 });
    expect(next.stepRecords[0]).toEqual(d.stepRecords[0]);
    expect(next.stepRecords[BAKE_10 + 1]).toEqual({ startedAt: T0 + 900 });
  });

  it('does not mutate its input', () => {
    const d = running();
    startStep(d, T0);
    expect(d.stepRecords).toEqual([]);
  });
});

describe('applyStepResult', () => {
  it('done: ends the step ok, keeps its start and detail, and advances the index', () => {
    const d = applyStepResult(at(1, T0 + 10), { kind: 'done', detail: 'acme-api-green runs a1b2c3d' }, T0 + 20);
    expect(d.stepIndex).toBe(2);
    expect(d.stepRecords[1]).toEqual({
      startedAt: T0 + 10,
      endedAt: T0 + 20,
      outcome: 'ok',
      detail: 'acme-api-green runs a1b2c3d',
    });
    expect(d.phase).toBe('running');
    expect(d.weights).toBeUndefined();
  });

  it('done on setWeight: sets the weights for the new colour', () => {
    const d = applyStepResult(at(SET_10, T0), { kind: 'done' }, T0 + 1);
    expect(d.weights).toEqual({ blue: 90, green: 10 });
    expect(d.fullTrafficAt).toBeUndefined();
    const blueIsNew = applyStepResult(
      at(SET_10, T0, { liveColor: 'green', newColor: 'blue' }),
      { kind: 'done' },
      T0 + 1,
    );
    expect(blueIsNew.weights).toEqual({ blue: 10, green: 90 });
  });

  it('done on setWeight 100: records when the new version first took all traffic, once', () => {
    const d = applyStepResult(at(SET_100, T0), { kind: 'done' }, T0 + 7);
    expect(d.weights).toEqual({ blue: 0, green: 100 });
    expect(d.fullTrafficAt).toBe(T0 + 7);
    const again = applyStepResult({ ...d, stepIndex: SET_100 }, { kind: 'done' }, T0 + 99);
    expect(again.fullTrafficAt).toBe(T0 + 7);
  });

  it('done on setWeight without a new colour leaves weights alone', () => {
    const d = applyStepResult(at(SET_10, T0, { newColor: undefined, liveColor: undefined }), { kind: 'done' }, T0 + 1);
    expect(d.weights).toBeUndefined();
    expect(d.stepIndex).toBe(SET_10 + 1);
  });

  it('done on complete: the deployment succeeded', () => {
    const d = applyStepResult(at(COMPLETE, T0), { kind: 'done' }, T0 + 1234);
    expect(d.phase).toBe('succeeded');
    expect(d.finishedAt).toBe(T0 + 1234);
    expect(d.stepIndex).toBe(COMPLETE + 1);
    expect(d.stepRecords[COMPLETE]?.outcome).toBe('ok');
  });

  it('wait: keeps the index and the start, records the detail', () => {
    const before = at(BAKE_10, T0 + 5);
    const d = applyStepResult(before, { kind: 'wait', ms: 30_000, detail: 'p99 0.42 ≤ 0.8' }, T0 + 30_005);
    expect(d.stepIndex).toBe(BAKE_10);
    expect(d.phase).toBe('running');
    expect(d.stepRecords[BAKE_10]).toEqual({ startedAt: T0 + 5, detail: 'p99 0.42 ≤ 0.8' });
    expect(d.stepRecords[BAKE_10]?.endedAt).toBeUndefined();
  });

  it('fail before any traffic moved: the deployment failed, nothing to roll back', () => {
    const d = applyStepResult(at(2, T0), { kind: 'fail', reason: 'healthz answered 503' }, T0 + 50);
    expect(d.phase).toBe('failed');
    expect(d.failureReason).toBe('healthz answered 503');
    expect(d.finishedAt).toBe(T0 + 50);
    expect(d.rollbackReason).toBeUndefined();
    expect(d.stepIndex).toBe(2);
    expect(d.stepRecords[2]).toEqual({
      startedAt: T0,
      endedAt: T0 + 50,
      outcome: 'failed',
      detail: 'healthz answered 503',
    });
  });

  it('fail during the first setWeight (started, maybe partly applied): roll back', () => {
    const d = applyStepResult(at(SET_10, T0), { kind: 'fail', reason: 'ALB refused' }, T0 + 5);
    expect(d.phase).toBe('rolling-back');
    expect(d.rollbackReason).toBe('ALB refused');
    expect(d.rollbackBy).toBe('switchyard');
    expect(d.finishedAt).toBeUndefined();
  });

  it('fail after a setWeight started: roll back with the reason, not finished yet', () => {
    const evidence = ['p99 latency: `p99:trace.http.request.duration{…}` = 1.2 (≤ 0.8)'];
    const d = applyStepResult(at(BAKE_10, T0), { kind: 'fail', reason: 'p99 latency 1.2 > 0.8', evidence }, T0 + 5);
    expect(d.phase).toBe('rolling-back');
    expect(d.rollbackReason).toBe('p99 latency 1.2 > 0.8');
    expect(d.rollbackEvidence).toEqual(evidence);
    expect(d.rollbackBy).toBe('switchyard');
    expect(d.failureReason).toBeUndefined();
    expect(d.finishedAt).toBeUndefined();
    expect(d.stepRecords[BAKE_10]?.outcome).toBe('failed');
  });

  it('pause: holds at the current step with when and why', () => {
    const d = applyStepResult(
      at(BAKE_10, T0),
      { kind: 'pause', reason: 'gates inconclusive 3 times in a row' },
      T0 + 90_000,
    );
    expect(d.phase).toBe('paused');
    expect(d.pausedAt).toBe(T0 + 90_000);
    expect(d.pauseReason).toBe('gates inconclusive 3 times in a row');
    expect(d.stepIndex).toBe(BAKE_10);
    expect(d.stepRecords[BAKE_10]).toEqual({ startedAt: T0, detail: 'gates inconclusive 3 times in a row' });
  });

  // rolling "sets the image of the one Deployment, follows the rollout and gates, and
  // rolls back by restoring the previous image". It has no setWeight step, so hasShiftedTraffic
  // is never true and a failure after the image changed ends as `failed` with the bad image live.
  describe('rolling: the new image serves users as soon as deployIdle starts', () => {
    const ROLLING: Step[] = [
      { kind: 'preflight' },
      { kind: 'deployIdle' },
      { kind: 'monitor', seconds: 1800 },
      { kind: 'complete' },
    ];
    const rolling = (index: number): Deployment =>
      deployment({
        strategy: 'rolling',
        phase: 'running',
        steps: ROLLING,
        stepIndex: index,
        stepRecords: ROLLING.map((_, i) =>
          i < index ? { startedAt: T0, endedAt: T0, outcome: 'ok' as const } : i === index ? { startedAt: T0 } : {},
        ),
        liveColor: undefined,
        newColor: undefined,
        previousImage: 'registry/acme-worker:9f8e7d6',
      });

    it('a failure in preflight (nothing changed yet) just fails', () => {
      expect(applyStepResult(rolling(0), { kind: 'fail', reason: 'monitors firing' }, T0 + 1).phase).toBe('failed');
    });

    it('a gate breach while monitoring rolls back (rollout undo)', () => {
      const d = applyStepResult(rolling(2), { kind: 'fail', reason: 'gate breach: error rate' }, T0 + 1);
      expect(d.phase).toBe('rolling-back');
      expect(d.rollbackReason).toBe('gate breach: error rate');
    });

    it('a rollout that fails half-way (CrashLoopBackOff) rolls back', () => {
      const d = applyStepResult(rolling(1), { kind: 'fail', reason: 'pod acme-worker-7c9 CrashLoopBackOff' }, T0 + 1);
      expect(d.phase).toBe('rolling-back');
    });
  });

  it('past the last step: unchanged', () => {
    const d = running({ stepIndex: STEPS.length, phase: 'succeeded' });
    expect(applyStepResult(d, { kind: 'done' }, T0)).toBe(d);
  });

  it('does not mutate its input', () => {
    const before = at(SET_10, T0);
    const snapshot = structuredClone(before);
    applyStepResult(before, { kind: 'done' }, T0 + 1);
    applyStepResult(before, { kind: 'fail', reason: 'x' }, T0 + 1);
    expect(before).toEqual(snapshot);
  });
});

describe('bakeProgress and waitEndsAt', () => {
  const d = at(BAKE_10, T0);
  const interval = 30_000;

  it('ends the wait `seconds` after the step started', () => {
    expect(waitEndsAt(d, 300)).toBe(T0 + 300_000);
  });

  it('waits one gate interval while far from the end', () => {
    expect(bakeProgress(d, 300, T0, interval)).toEqual({ kind: 'wait', ms: interval });
    expect(bakeProgress(d, 300, T0 + 100_000, interval)).toEqual({ kind: 'wait', ms: interval });
  });

  it('waits only until the end when it is nearer than an interval', () => {
    expect(bakeProgress(d, 300, T0 + 290_000, interval)).toEqual({ kind: 'wait', ms: 10_000 });
    expect(bakeProgress(d, 300, T0 + 299_999, interval)).toEqual({ kind: 'wait', ms: 1 });
  });

  it('is done at and after the end', () => {
    expect(bakeProgress(d, 300, T0 + 300_000, interval)).toEqual({ kind: 'done' });
    expect(bakeProgress(d, 300, T0 + 900_000, interval)).toEqual({ kind: 'done' });
  });

  it('after the end, waits another interval unless the last gate run passed', () => {
    expect(bakeProgress(d, 300, T0 + 300_000, interval, 'pass')).toEqual({ kind: 'done' });
    expect(bakeProgress(d, 300, T0 + 300_000, interval, 'inconclusive')).toEqual({ kind: 'wait', ms: interval });
    expect(bakeProgress(d, 300, T0 + 400_000, interval, 'breach')).toEqual({ kind: 'wait', ms: interval });
    expect(bakeProgress(d, 300, T0 + 290_000, interval, 'inconclusive')).toEqual({ kind: 'wait', ms: 10_000 });
  });

  it('a zero-second bake is done at once', () => {
    expect(bakeProgress(d, 0, T0, interval)).toEqual({ kind: 'done' });
  });
});

describe('retryDelayMs', () => {
  it('doubles from 1 s: 1, 2, 4, 8, 16 s at the middle of the jitter', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, 0.5))).toEqual([1000, 2000, 4000, 8000, 16_000]);
  });

  it('caps the base at 30 s', () => {
    expect(retryDelayMs(6, 0.5)).toBe(30_000);
    expect(retryDelayMs(50, 0.5)).toBe(30_000);
    expect(retryDelayMs(10_000, 0.5)).toBe(30_000);
  });

  it('treats attempt 0 (or less) as the first attempt', () => {
    expect(retryDelayMs(0, 0.5)).toBe(1000);
    expect(retryDelayMs(-3, 0.5)).toBe(1000);
  });

  it('jitter is ±25 % of the base, and the cap of 30 s holds after jitter', () => {
    expect(retryDelayMs(1, 0)).toBe(750);
    expect(retryDelayMs(1, 1)).toBe(1250);
    expect(retryDelayMs(6, 0)).toBe(24_000);
    expect(retryDelayMs(100, 0)).toBe(30_000);
    expect(retryDelayMs(100, 1)).toBe(30_000);
  });

  it('always lies within [750 ms, 30 s] and never shrinks as attempts grow (same random)', () => {
    for (let attempt = 1; attempt <= 40; attempt++) {
      for (const random of [0, 0.1, 0.37, 0.5, 0.99, 1]) {
        const ms = retryDelayMs(attempt, random);
        expect(ms).toBeGreaterThanOrEqual(750);
        expect(ms).toBeLessThanOrEqual(30_000);
        expect(Number.isInteger(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(retryDelayMs(attempt - 1, random));
      }
    }
  });
});
