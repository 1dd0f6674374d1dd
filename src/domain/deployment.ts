import type { ChangeList } from './changes.js';
import type { ApprovalRecord, ApprovalRule } from './approval.js';
import type { Color, Weights } from './color.js';
import type { GateRun, GateTally } from './gates.js';
import type { Step } from './steps.js';

/** How the new version takes over: a colour switch, a weighted canary, or Kubernetes' own rolling update. */
export type Strategy = 'blue-green' | 'canary' | 'rolling';

/** Where a deployment is in its life. */
export type Phase =
  /**
   * Waiting its turn without the service's lock: behind the active deployment of its service and
   * environment, or for its scheduled start. It may be approved meanwhile; it starts when the
   * lock is handed to it.
   */
  | 'queued'
  /** Announced with Approve / Reject buttons; nothing runs until every approval rule is met or someone rejects. */
  | 'awaiting-approval'
  /** Approved: the worker walks the steps. */
  | 'running'
  /** Gates could not be read too many times in a row: holding where it is until someone resumes or rolls back. */
  | 'paused'
  /** Traffic is being restored to the previous version. */
  | 'rolling-back'
  /** Every step done: the new version serves all traffic. Terminal. */
  | 'succeeded'
  /** Traffic is back on the previous version. Terminal. */
  | 'rolled-back'
  /** Stopped before any traffic moved to the new version. Terminal. */
  | 'failed'
  /** A release manager said no. Terminal. */
  | 'rejected'
  /** Nobody decided within the approval timeout, or a scheduled start came too late. Terminal. */
  | 'expired'
  /** Withdrawn before it started (`/deploy cancel`, or its version was rolled back while it was queued). Terminal. */
  | 'cancelled';

const TERMINAL: ReadonlySet<Phase> = new Set([
  'succeeded',
  'rolled-back',
  'failed',
  'rejected',
  'expired',
  'cancelled',
]);
export const isTerminal = (phase: Phase): boolean => TERMINAL.has(phase);

/** Who confirmed a checklist item, and when (ms since epoch). */
export interface Attestation {
  item: string;
  confirmedBy: string;
  confirmedAt: number;
}

/**
 * What a person (or the worker, for expiry) decided about an announced deployment. Only the
 * first decision counts: Redis keeps it with HSETNX, so a double click or two managers at
 * once have one effect. `approve` is recorded with the approval that meets the last open
 * rule (`by` is that approver), or at once for `approval: none` (`by` is switchyard).
 */
export interface Decision {
  kind: 'approve' | 'reject' | 'expire';
  by: string;
  at: number;
  reason?: string;
}

/** A request to roll back; the first one's timestamp is kept. */
export interface RollbackIntent {
  by: string;
  at: number;
  reason: string;
}

/** Someone asked a paused deployment to go on, or acknowledged an alert. */
export interface PersonIntent {
  by: string;
  at: number;
}

/** `/shift <service> <percent>`: hold the new colour at this weight until `/shift <service> resume`. */
export interface HoldIntent extends PersonIntent {
  weight: number;
}

/** `/deploy cancel`: withdraw a deployment that has not started. */
export interface CancelIntent {
  by: string;
  at: number;
  reason: string;
}

/** The service's lock handed to a queued deployment: the fencing token it now writes under. */
export interface StartIntent {
  fence: number;
  at: number;
}

export interface Intents {
  decision?: Decision;
  cancel?: CancelIntent;
  /** Written by the store in the same step as it hands the lock over; only to a queued deployment that is approved and due. */
  start?: StartIntent;
  /** Approvals counted so far, in order; the store counts each atomically and decides once every rule is met. */
  approvals?: ApprovalRecord[];
  rollback?: RollbackIntent;
  resume?: PersonIntent;
  hold?: HoldIntent;
  /**
   * Not a request to act: the commit list the bot read after announcing the deployment. It is
   * kept beside the intents because, like them, it arrives while the worker owns the record,
   * and every re-render of the announcement (bot and worker) must show it.
   */
  changes?: ChangeList;
}

export type StepOutcome = 'ok' | 'failed';

export interface StepRecord {
  startedAt?: number;
  endedAt?: number;
  outcome?: StepOutcome;
  detail?: string;
  /** Times a retriable provider error interrupted this step. */
  retries?: number;
}

export interface Deployment {
  id: string;
  service: string;
  /** The catalog environment it goes to (`production` in a catalog without environments). */
  environment: string;
  version: string;
  image: string;
  strategy: Strategy;
  hotfix: boolean;
  requester: string;
  requestedAt: number;
  checklist: Attestation[];
  ticket: string;
  changeSummary: string;
  justification?: string;
  /**
   * A hotfix deployed without the promotion its environment asks for: why it was not eligible
   * (said in the announcement beside the justification).
   */
  promotionSkipped?: string;
  /** Channel of the announcement and its thread (#deployments). */
  channel: string;
  announcementTs?: string;
  /** Slack's permalink to the announcement (`chat.getPermalink`), once the outbox has fetched it. */
  announcementLink?: string;
  phase: Phase;
  steps: Step[];
  stepIndex: number;
  stepRecords: StepRecord[];
  /** The approval rules this deployment needs, fixed when it was requested (empty: none needed). */
  approvalRules?: ApprovalRule[];
  /** The approval that met the last open rule (see `approvals` for everyone's). */
  approver?: string;
  /** Every approval that counted: who, toward which rule, when. */
  approvals?: ApprovalRecord[];
  approvedAt?: number;
  decidedAt?: number;
  rejectReason?: string;
  liveColor?: Color;
  newColor?: Color;
  previousVersion?: string;
  previousImage?: string;
  /** The weights the worker last set and verified. */
  weights?: Weights;
  /** When the new version first took all the traffic (DORA lead time). */
  fullTrafficAt?: number;
  /** Gate breaches and inconclusive runs counted so far (Argo Rollouts' failureLimit / inconclusiveLimit). */
  gateTally?: GateTally;
  lastGateRun?: GateRun;
  /** The `/shift` hold the worker has applied, while it lasts. */
  held?: HoldIntent;
  pausedAt?: number;
  pauseReason?: string;
  rollbackReason?: string;
  /** The gate readings that led to the rollback, for the rollback message. */
  rollbackEvidence?: string[];
  rollbackBy?: string;
  failureReason?: string;
  finishedAt?: number;
  /** The fencing token of the service's lock in its environment, held by this deployment. */
  fence: number;
  /** `at <time>`: the start asked for and the zone it is shown in; when its notice went out. */
  schedule?: Schedule;
  /** Place in its service's queue (1: next), while queued; kept so the announcement can say it. */
  queuePosition?: number;
  /** Who withdrew it and why (phase `cancelled`). */
  cancelledBy?: string;
  cancelReason?: string;
  /** The status line last rendered on the announcement, so unchanged lines are not re-sent. */
  statusLine?: string;
}

/** A scheduled start (`/deploy … at 14:00`). */
export interface Schedule {
  startAt: number;
  /** The deploy window's time zone (else UTC): the start is shown in it. */
  timezone: string;
  /** When the "Starting deployment … in n minutes" notice was posted. */
  noticeSentAt?: number;
}

/** One entry of the append-only event log: who did what, when. */
export interface DeploymentEvent {
  at: number;
  actor: string;
  type: string;
  detail?: string;
  data?: Record<string, unknown>;
}

export const currentStep = (d: Deployment): Step | undefined => d.steps[d.stepIndex];

/**
 * The new version has received traffic: stopping now means rolling back, not just failing.
 * A rolling deployment serves users from the moment its pods start being replaced.
 */
export const hasShiftedTraffic = (d: Deployment): boolean =>
  d.steps.some(
    (step, i) =>
      (step.kind === 'setWeight' || (d.strategy === 'rolling' && step.kind === 'deployIdle')) &&
      d.stepRecords[i]?.startedAt !== undefined,
  );

/** Index of the first traffic step; `/shift` is refused before the deployment gets there. */
export const firstShiftIndex = (d: Deployment): number => d.steps.findIndex((step) => step.kind === 'setWeight');

export const durationMs = (d: Deployment, now: number): number =>
  (d.finishedAt ?? now) - (d.approvedAt ?? d.requestedAt);
