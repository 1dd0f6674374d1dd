import { weightsFor } from './color.js';
import {
  currentStep,
  firstShiftIndex,
  hasShiftedTraffic,
  isTerminal,
  type Deployment,
  type HoldIntent,
  type Intents,
  type StepRecord,
} from './deployment.js';
import { scheduleExpired, scheduleNoticeAt } from './schedule-time.js';
import type { Step } from './steps.js';

/** What the worker should do next for one deployment; decided without I/O. */
export type Action =
  /** Terminal: nothing left to do. */
  | { kind: 'none' }
  /** Queued, and the service's lock was handed to it: start running under its fencing token. */
  | { kind: 'start'; fence: number }
  /** Withdrawn before it started: by a person (`/deploy cancel`) or because its version was rolled back. */
  | { kind: 'cancel'; by: string; reason: string }
  /** Approved, but its scheduled start passed more than the grace ago without the lock coming free. */
  | {
      kind: 'expireSchedule';
      /** What held the service at the deadline: its version (else its id). */ busyWith?: string;
    }
  /** A scheduled start is near (or it was approved late): say when it starts, in the thread and the channel. */
  | { kind: 'scheduleNotice' }
  /** Its place in the queue changed: keep it on the record, so the announcement says it. */
  | { kind: 'reposition'; position: number }
  /** Approved and due while the service's lock is free: ask the store to hand the lock to the first in line. */
  | { kind: 'claim' }
  /** Queued: nothing to do before `until`, unless the lock is handed over or an intent arrives. */
  | { kind: 'awaitTurn'; until: number }
  /** Announced and undecided: come back at `until` (the approval deadline) or when woken. */
  | { kind: 'awaitDecision'; until: number }
  /** The approval deadline passed with no decision. */
  | { kind: 'expire' }
  /** A release manager decided; apply it. */
  | { kind: 'applyDecision' }
  /** Someone asked for a rollback while the deployment runs: preempt the current step. */
  | { kind: 'startRollback'; reason: string; by: string }
  /** Restore the previous version (idempotent; runs again after a crash). */
  | { kind: 'rollback' }
  /** Paused and nobody has said to go on: look again at `until` or when woken. */
  | { kind: 'awaitResume'; until: number }
  /** Someone resumed a paused deployment. */
  | { kind: 'resume'; by: string }
  /** `/shift` holds the new colour at a weight: keep it there and keep the gates running. */
  | { kind: 'hold'; hold: HoldIntent }
  /** Run (or re-run, after a wait or a crash) the current step. */
  | { kind: 'runStep'; step: Step; index: number };

/** What a queued deployment's tick sees of its service's queue (read with the record). */
export interface QueueView {
  /** 1 for the first in line; undefined when it is not in the queue (any more). */
  position?: number;
  /** Why its version may not be deployed (rolled back), if it may not. */
  blocked?: string;
  /** The deployment holding the service's lock, if one does. */
  holder?: string;
  /** The version that deployment deploys. */
  holderVersion?: string;
}

export interface NextActionOptions {
  queue?: QueueView;
  /** How late a scheduled start may still happen (`scheduleGraceSeconds`). */
  scheduleGraceMs?: number;
}

export function nextAction(
  d: Deployment,
  intents: Intents,
  now: number,
  approvalTimeoutMs: number,
  options: NextActionOptions = {},
): Action {
  if (isTerminal(d.phase)) return { kind: 'none' };
  if (d.phase === 'queued')
    return nextQueuedAction(d, intents, now, approvalTimeoutMs, options.queue ?? {}, options.scheduleGraceMs ?? 0);
  if (d.phase === 'awaiting-approval') {
    if (intents.cancel) return { kind: 'cancel', by: intents.cancel.by, reason: intents.cancel.reason };
    if (intents.decision) return { kind: 'applyDecision' };
    const until = d.requestedAt + approvalTimeoutMs;
    return now >= until ? { kind: 'expire' } : { kind: 'awaitDecision', until };
  }
  if (d.phase === 'rolling-back') return { kind: 'rollback' };
  if (intents.rollback) return { kind: 'startRollback', reason: intents.rollback.reason, by: intents.rollback.by };
  if (d.phase === 'paused') {
    if (intents.resume && intents.resume.at >= (d.pausedAt ?? 0)) return { kind: 'resume', by: intents.resume.by };
    return { kind: 'awaitResume', until: now + PAUSED_RECHECK_MS };
  }
  const shiftStarted = firstShiftIndex(d) >= 0 && d.stepIndex >= firstShiftIndex(d);
  if (intents.hold && shiftStarted && d.steps[d.stepIndex]?.kind !== 'complete') {
    return { kind: 'hold', hold: intents.hold };
  }
  const step = currentStep(d);
  // A running deployment always has a step: `complete` is the last one and ends the phase.
  if (!step) return { kind: 'rollback' };
  return { kind: 'runStep', step, index: d.stepIndex };
}

/** A paused deployment is woken by its intents; this is only a safety net. */
export const PAUSED_RECHECK_MS = 60_000;

/** A queued deployment is woken when the queue moves; this is only a safety net. */
export const QUEUED_RECHECK_MS = 60_000;

/** Approved and due: a scheduled one once its time has come, any other at once. */
const isDue = (d: Deployment, now: number): boolean => d.approvedAt !== undefined && (d.schedule?.startAt ?? 0) <= now;

function nextQueuedAction(
  d: Deployment,
  intents: Intents,
  now: number,
  approvalTimeoutMs: number,
  queue: QueueView,
  graceMs: number,
): Action {
  if (intents.start) return { kind: 'start', fence: intents.start.fence };
  if (intents.cancel) return { kind: 'cancel', by: intents.cancel.by, reason: intents.cancel.reason };
  if (queue.blocked !== undefined)
    return { kind: 'cancel', by: 'switchyard', reason: `${d.version} was rolled back: ${queue.blocked}` };
  if (intents.decision && (intents.decision.kind !== 'approve' || d.approvedAt === undefined))
    return { kind: 'applyDecision' };
  const schedule = d.schedule;
  // A scheduled deployment may be approved until it could no longer start in time.
  const approvalDeadline = Math.max(
    d.requestedAt + approvalTimeoutMs,
    schedule ? schedule.startAt + graceMs : Number.NEGATIVE_INFINITY,
  );
  if (d.approvedAt === undefined && now >= approvalDeadline) return { kind: 'expire' };
  const noticeAt =
    schedule && d.approvedAt !== undefined ? scheduleNoticeAt(schedule.startAt, d.approvedAt) : undefined;
  if (schedule && d.approvedAt !== undefined && scheduleExpired(schedule.startAt, graceMs / 1000, now))
    return { kind: 'expireSchedule', busyWith: queue.holderVersion ?? queue.holder };
  if (noticeAt !== undefined && schedule?.noticeSentAt === undefined && now >= noticeAt)
    return { kind: 'scheduleNotice' };
  if (queue.position !== undefined && queue.position !== d.queuePosition)
    return { kind: 'reposition', position: queue.position };
  if (isDue(d, now) && queue.holder === undefined) return { kind: 'claim' };
  const deadlines = [now + QUEUED_RECHECK_MS];
  if (d.approvedAt === undefined) deadlines.push(approvalDeadline);
  if (schedule && d.approvedAt !== undefined) {
    if (noticeAt !== undefined && schedule.noticeSentAt === undefined) deadlines.push(noticeAt);
    if (schedule.startAt > now) deadlines.push(schedule.startAt);
    // Just past the grace: it expires then unless it started.
    deadlines.push(schedule.startAt + graceMs + 1);
  }
  return { kind: 'awaitTurn', until: Math.min(...deadlines.filter((t) => t > now)) };
}

/** What running a step once came to. */
export type StepResult =
  | { kind: 'done'; detail?: string }
  /** Not finished: run the step again after `ms` (a bake, a rollout still progressing). */
  | { kind: 'wait'; ms: number; detail?: string }
  /** The step cannot succeed: fail the deployment, or roll back once traffic has moved. */
  | { kind: 'fail'; reason: string; evidence?: string[] }
  /** Hold where it is and page a person (gates unreadable too long). */
  | { kind: 'pause'; reason: string };

const withRecord = (d: Deployment, index: number, patch: Partial<StepRecord>): StepRecord[] =>
  d.steps.map((_, i) => (i === index ? { ...d.stepRecords[i], ...patch } : (d.stepRecords[i] ?? {})));

/** Marks the current step started, keeping the first start time across re-runs. */
export function startStep(d: Deployment, now: number): Deployment {
  const record = d.stepRecords[d.stepIndex];
  if (record?.startedAt !== undefined) return d;
  return { ...d, stepRecords: withRecord(d, d.stepIndex, { startedAt: now }) };
}

export function applyStepResult(d: Deployment, result: StepResult, now: number): Deployment {
  const step = currentStep(d);
  if (!step) return d;
  switch (result.kind) {
    case 'wait':
      return { ...d, stepRecords: withRecord(d, d.stepIndex, { detail: result.detail }) };
    case 'pause':
      return {
        ...d,
        phase: 'paused',
        pausedAt: now,
        pauseReason: result.reason,
        stepRecords: withRecord(d, d.stepIndex, { detail: result.reason }),
      };
    case 'done': {
      const next: Deployment = {
        ...d,
        stepRecords: withRecord(d, d.stepIndex, { endedAt: now, outcome: 'ok', detail: result.detail }),
        stepIndex: d.stepIndex + 1,
      };
      if (step.kind === 'setWeight' && d.newColor) {
        next.weights = weightsFor(d.newColor, step.weight);
        if (step.weight === 100) next.fullTrafficAt ??= now;
      }
      if (step.kind === 'deployIdle' && d.strategy === 'rolling') next.fullTrafficAt ??= now;
      if (step.kind === 'complete') {
        next.phase = 'succeeded';
        next.finishedAt = now;
      }
      return next;
    }
    case 'fail': {
      const failed: Deployment = {
        ...d,
        stepRecords: withRecord(d, d.stepIndex, { endedAt: now, outcome: 'failed', detail: result.reason }),
      };
      return hasShiftedTraffic(d)
        ? {
            ...failed,
            phase: 'rolling-back',
            rollbackReason: result.reason,
            rollbackBy: 'switchyard',
            rollbackEvidence: result.evidence,
          }
        : { ...failed, phase: 'failed', failureReason: result.reason, finishedAt: now };
    }
  }
}

/** The time a bake or monitor step ends, from when it started. */
export const waitEndsAt = (d: Deployment, seconds: number): number =>
  (d.stepRecords[d.stepIndex]?.startedAt ?? 0) + seconds * 1000;

/**
 * A bake's next move: done once its time is up and the last gate run (if any) passed;
 * otherwise come back at the next gate interval or the end of the bake, whichever is first.
 * Missing data never lets a deployment shift further: it waits, and the inconclusive limit
 * pauses it.
 */
export function bakeProgress(
  d: Deployment,
  seconds: number,
  now: number,
  intervalMs: number,
  lastOutcome: 'pass' | 'breach' | 'inconclusive' = 'pass',
): StepResult {
  const end = waitEndsAt(d, seconds);
  if (now >= end && lastOutcome === 'pass') return { kind: 'done' };
  return { kind: 'wait', ms: now >= end ? intervalMs : Math.min(end - now, intervalMs) };
}

/** Backoff for a retriable provider error: 1 s, 2 s, 4 s … capped at 30 s, with jitter. */
export const retryDelayMs = (attempt: number, random: number): number =>
  Math.round(Math.min(30_000, 1000 * 2 ** Math.max(0, attempt - 1) * (0.75 + random * 0.5)));
