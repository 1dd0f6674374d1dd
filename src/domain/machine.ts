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
import type { Step } from './steps.js';

/** What the worker should do next for one deployment; decided without I/O. */
export type Action =
  /** Terminal: nothing left to do. */
  | { kind: 'none' }
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

export function nextAction(d: Deployment, intents: Intents, now: number, approvalTimeoutMs: number): Action {
  if (isTerminal(d.phase)) return { kind: 'none' };
  if (d.phase === 'awaiting-approval') {
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
