import { gateRunEvent } from './gate-events.js';
import type { Logger } from 'pino';
import { weightsFor } from '../domain/color.js';
import type { Decision, Deployment, DeploymentEvent, HoldIntent, Intents, Schedule } from '../domain/deployment.js';
import { isTerminal } from '../domain/deployment.js';
import {
  applyStepResult,
  nextAction,
  retryDelayMs,
  startStep,
  QUEUED_RECHECK_MS,
  type Action,
  type NextActionOptions,
  type QueueView,
  type StepResult,
} from '../domain/machine.js';
import { scheduleNoticeText } from '../domain/schedule-time.js';
import { describeStep, formatDuration, type Step } from '../domain/steps.js';
import { asSwitchyardError, describeError } from '../errors.js';
import { deploymentLog } from '../log-context.js';
import { recordOutcome, recordRollback, recordStep } from '../metrics.js';
import { providersIn, type Providers } from '../providers/providers.js';
import type { Catalog } from '../runbook/catalog.js';
import { serviceIn } from '../runbook/environments.js';
import { SUPERSEDED, type BlockedVersion, type CommitResult, type DeploymentStore } from '../store/deployment-store.js';
import type { DeploymentQueue } from './deployment-queue.js';
import { statusLine } from '../../views/status-line.js';
import { escapeText } from '../../views/text.js';
import { deployRecordEffects } from './deploy-record-effects.js';
import { DeploymentReporter } from './deployment-reporter.js';
import { findDrift, reapply } from './reconcile.js';
import { RefusedVersionError } from './image.js';
import { restorePrevious } from './rollback.js';
import type { EffectOutbox } from './effect-outbox.js';
import { Pager } from './paging-effects.js';
import type { SlackOutbox } from './slack-outbox.js';
import { holdAt, runStep, type StepEnv } from './step-runners.js';

export interface TickerDeps {
  catalog: Catalog;
  store: DeploymentStore;
  providers: Providers;
  log: Logger;
  clock: () => number;
  random?: () => number;
  outbox: SlackOutbox;
  /** Calls to PagerDuty, Datadog and GitHub, made after the write like the outbox's messages. */
  effects: EffectOutbox;
  /** Wakes the next deployment in line when this one hands it the lock. */
  queue: Pick<DeploymentQueue, 'wake'>;
}

/** Retriable provider errors tolerated in a row on one step before it counts as failed. */
export const MAX_STEP_RETRIES = 5;

/** What one tick came to, and so what the job does next. */
export type TickResult =
  /** The record moved on: tick again at once. */
  | { kind: 'again' }
  /** Nothing to do before `until` (on the injected clock), unless woken by an intent. */
  | { kind: 'wait'; until: number }
  /** Terminal, or no record: the job is done. */
  | { kind: 'finished' }
  /** Another holder has the service's lock (its fencing token moved on): this tick wrote nothing. */
  | { kind: 'fenced' };

const AGAIN: TickResult = { kind: 'again' };
const FINISHED: TickResult = { kind: 'finished' };
const waitUntil = (until: number): TickResult => ({ kind: 'wait', until });

/** What acting on one decision came to: the record to write, its events, and what to say once written. */
interface Outcome {
  next: Deployment;
  events: DeploymentEvent[];
  result: TickResult;
  /** The time the status line is rendered at (after a step ran, its end). */
  at?: number;
  blockVersion?: BlockedVersion;
  /** Messages for the outbox, sent only once the write succeeded. */
  report?: (written: Deployment) => Promise<void>;
  /**
   * A queued deployment's write: `ready` once approved (the hand-over may pick it), `claim` to
   * hand a free lock to the first in line (written even when the record is unchanged).
   */
  queueMove?: 'ready' | 'claim';
}

/**
 * One tick of the reconcile loop: load the record and its intents once, ask `nextAction`, act,
 * then write the record and its events once, atomically and under the fencing token, and only
 * then enqueue what to tell people. A step is saved as started in a tick of its own before it
 * is acted on, so a worker killed mid-step resumes it.
 */
export class DeploymentTicker {
  private readonly reporter: DeploymentReporter;

  constructor(private readonly deps: TickerDeps) {
    this.reporter = new DeploymentReporter(
      deps.outbox,
      deps.catalog,
      deps.providers.paging ? new Pager(deps.effects) : undefined,
    );
  }

  /**
   * Ticks until the deployment must wait (the result says until when), is finished or was fenced
   * off. Once `stopping` says so, it starts no further tick: the deployment waits until now, for
   * whichever worker takes it up next.
   */
  async run(id: string, stopping: () => boolean = () => false): Promise<Exclude<TickResult, { kind: 'again' }>> {
    // A run BullMQ starts again while this one still ticks (it took this worker for stalled)
    // takes the ticks over; this one stops at its next load or write.
    const run = await this.deps.store.beginRun(id);
    // The first tick of a job run looks at the infrastructure before acting (a crash, a hand change).
    for (let first = true; ; first = false) {
      const result = await this.tick(id, { reconcile: first, run });
      if (result.kind !== 'again') return result;
      if (stopping()) return { kind: 'wait', until: this.deps.clock() };
    }
  }

  /** One tick: one load, one decision, the action, at most one write. */
  async tick(id: string, options: { reconcile?: boolean; run?: string } = {}): Promise<TickResult> {
    const { store, clock, catalog } = this.deps;
    const loaded = options.run === undefined ? await store.load(id) : await store.load(id, options.run);
    if (!loaded) return FINISHED;
    if (loaded === SUPERSEDED) {
      this.deps.log.warn({ deploymentId: id }, 'a newer run of this deployment took its ticks over; this run stops');
      return { kind: 'fenced' };
    }
    const { deployment: d, intents, queue } = loaded;
    const now = clock();
    // A worker killed after saving a pause and before enqueueing its page: the job's next run
    // asks again, under the same key, so PagerDuty still hears of it, once.
    if (options.reconcile && d.phase === 'paused') await this.reporter.pagePause(d);
    const action = nextAction(d, intents, now, catalog.approvalTimeoutSeconds * 1000, this.queueOptions(queue));
    // A job run again after its worker died between a terminal write and waking the next in line.
    if (action.kind === 'none' && options.reconcile) await this.wakeLine(d);
    const outcome =
      (options.reconcile ? await this.reconcile(d, intents, now) : undefined) ??
      (await this.act(action, d, intents, now));
    if (outcome.next === d && outcome.events.length === 0 && !outcome.queueMove) return outcome.result;

    const at = outcome.at ?? now;
    const line = statusLine(outcome.next, at);
    const next = line === d.statusLine ? outcome.next : { ...outcome.next, statusLine: line };
    const written = await this.write(d, next, outcome, at, options.run);
    if (!written.written) {
      if (d.phase === 'queued') return AGAIN;
      this.deps.log.warn(
        { deploymentId: d.id, service: d.service, fence: d.fence },
        'the service lock is held by another fencing token, or a newer run owns this deployment; nothing written',
      );
      return { kind: 'fenced' };
    }
    // The next in line first: it starts while the others only learn their new place.
    if (written.handedTo && written.handedTo !== d.id) await this.deps.queue.wake(written.handedTo);
    for (const id of written.waiting) await this.deps.queue.wake(id);
    if (isTerminal(next.phase)) recordOutcome(next);
    await outcome.report?.(next);
    if (isTerminal(next.phase) && !isTerminal(d.phase)) await this.reporter.alertsEnded(next);
    await this.recordDeployment(d, next, at);
    if (line !== d.statusLine) await this.reporter.announcement(next, written.intents, at);
    // An intent recorded while this tick was acting would otherwise wait for the next wake-up.
    if (outcome.result.kind === 'wait') {
      const pending = nextAction(next, written.intents, clock(), catalog.approvalTimeoutSeconds * 1000, {
        ...this.queueOptions(queue),
        queue: { ...queue, position: next.queuePosition, holder: written.handedTo ?? queue?.holder },
      });
      if (['applyDecision', 'startRollback', 'start', 'cancel'].includes(pending.kind)) return AGAIN;
    }
    return outcome.result;
  }

  private queueOptions(queue: QueueView | undefined): NextActionOptions {
    return { queue, scheduleGraceMs: this.deps.catalog.scheduleGraceSeconds * 1000 };
  }

  /**
   * The tick's one write: under the service's lock, or, for a deployment still queued (or
   * ending there), under its place in the queue.
   */
  private async write(
    d: Deployment,
    next: Deployment,
    outcome: Outcome,
    at: number,
    run: string | undefined,
  ): Promise<CommitResult> {
    if (d.phase === 'queued' && next.phase !== 'running') {
      const schedule = next.schedule;
      return this.deps.store.commitQueued(next, outcome.events, {
        move: isTerminal(next.phase) ? 'leave' : outcome.queueMove === 'ready' ? 'ready' : 'keep',
        claim: outcome.queueMove === 'claim',
        now: at,
        graceUntil: schedule ? schedule.startAt + this.deps.catalog.scheduleGraceSeconds * 1000 : undefined,
        run,
      });
    }
    return this.deps.store.commit(next, outcome.events, {
      release: isTerminal(next.phase),
      blockVersion: outcome.blockVersion,
      // Retention is measured on the injected clock, like everything else the tick decides.
      now: at,
      run,
    });
  }

  /** Wakes the holder of the service's lock and everyone queued behind it. */
  private async wakeLine(d: Deployment): Promise<void> {
    for (const id of await this.deps.store.line(d.service, d.environment)) await this.deps.queue.wake(id);
  }

  /**
   * The deploy records the write calls for (GitHub deployment statuses, Datadog markers, DORA),
   * enqueued on the effect outbox, which makes them later: this only writes to Redis.
   */
  private async recordDeployment(before: Deployment, after: Deployment, at: number): Promise<void> {
    const { catalog, providers, effects } = this.deps;
    const targets = {
      repo: providers.sourceControl ? catalog.services[after.service]?.github?.repo : undefined,
      datadog: providers.deployRecords !== undefined,
    };
    for (const effect of deployRecordEffects(before, after, targets, at)) await effects.send(effect);
  }

  private log(d: Deployment): Logger {
    return deploymentLog(this.deps.log, d);
  }

  private env(d: Deployment, now: number): StepEnv {
    // The service's keys with the deployment's environment's overrides, and that environment's clients.
    const service = serviceIn(this.deps.catalog, d.service, d.environment);
    if (!service) throw new Error(`service ${d.service} in environment ${d.environment} is no longer in the catalog`);
    return { service, providers: providersIn(this.deps.providers, d.environment), now };
  }

  /** Before acting, hold the record against the infrastructure; on drift, pause and page. */
  private async reconcile(d: Deployment, intents: Intents, now: number): Promise<Outcome | undefined> {
    // A rollback restores everything anyway, and every round trip before it is time on the bad version.
    if (d.phase !== 'running' || intents.rollback) return undefined;
    let drift: string | undefined;
    try {
      drift = await findDrift(d, intents, this.env(d, now));
    } catch (error) {
      this.log(d).warn({ err: error }, 'could not read the real state before acting; the step will try');
      return undefined;
    }
    if (!drift) return undefined;
    this.log(d).warn({ drift }, 'paused: the infrastructure was changed by hand');
    return {
      next: { ...d, phase: 'paused', pausedAt: now, pauseReason: drift },
      events: [{ at: now, actor: 'switchyard', type: 'drift', detail: drift }],
      result: AGAIN,
      report: (paused) => this.reporter.paused(paused, 'drift'),
    };
  }

  private async act(action: Action, d: Deployment, intents: Intents, now: number): Promise<Outcome> {
    const unchanged = (result: TickResult): Outcome => ({ next: d, events: [], result });
    switch (action.kind) {
      case 'none':
        return unchanged(FINISHED);
      case 'awaitDecision':
      case 'awaitResume':
      case 'awaitTurn':
        return unchanged(waitUntil(action.until));
      case 'start':
        return {
          next: { ...d, phase: 'running', fence: action.fence, queuePosition: undefined },
          events: [{ at: now, actor: 'switchyard', type: 'started-from-queue', data: { fence: action.fence } }],
          result: AGAIN,
          report: (next) => this.reporter.startedFromQueue(next),
        };
      case 'cancel':
        return {
          next: {
            ...d,
            phase: 'cancelled',
            cancelledBy: action.by,
            cancelReason: action.reason,
            queuePosition: undefined,
            finishedAt: now,
          },
          events: [{ at: now, actor: action.by, type: 'cancelled', detail: action.reason }],
          result: AGAIN,
          report: (next) =>
            this.reporter.endedUnstarted(
              next,
              `🚫 Cancelled${action.by === 'switchyard' ? '' : ` by <@${action.by}>`}: ${escapeText(action.reason)}`,
            ),
        };
      case 'expireSchedule': {
        const reason = `it could not start within ${formatDuration(this.deps.catalog.scheduleGraceSeconds * 1000)} of its scheduled time${action.busyWith ? ` (${d.service} was busy with ${action.busyWith})` : ''}`;
        return {
          next: { ...d, phase: 'expired', failureReason: reason, queuePosition: undefined, finishedAt: now },
          events: [{ at: now, actor: 'switchyard', type: 'schedule-expired', detail: reason }],
          result: AGAIN,
          report: (next) =>
            this.reporter.endedUnstarted(next, `⌛ Expired: ${escapeText(reason)}; nothing was deployed.`),
        };
      }
      case 'scheduleNotice': {
        const schedule = d.schedule as Schedule;
        const text = scheduleNoticeText(d.version, schedule.startAt, schedule.timezone, now);
        return {
          next: { ...d, schedule: { ...schedule, noticeSentAt: now } },
          events: [{ at: now, actor: 'switchyard', type: 'schedule-notice', detail: text }],
          result: AGAIN,
          report: (next) => this.reporter.scheduleNotice(next, escapeText(text)),
        };
      }
      case 'reposition':
        return { next: { ...d, queuePosition: action.position }, events: [], result: AGAIN };
      case 'claim':
        return { next: d, events: [], result: waitUntil(now + QUEUED_RECHECK_MS), queueMove: 'claim' };
      case 'expire':
        // The first decision wins (HSETNX): a release manager's click at this moment stands.
        await this.deps.store.decide(d.id, { kind: 'expire', by: 'switchyard', at: now });
        return unchanged(AGAIN);
      case 'applyDecision':
        return this.applyDecision(d, intents.decision as Decision, intents.approvals, now);
      case 'startRollback':
        this.log(d).info({ reason: action.reason }, 'rollback requested');
        return {
          next: { ...d, phase: 'rolling-back', rollbackReason: action.reason, rollbackBy: action.by },
          events: [{ at: now, actor: action.by, type: 'rollback-started', detail: action.reason }],
          result: AGAIN,
        };
      case 'rollback':
        return this.rollback(d, intents, now);
      case 'resume': {
        // Resuming means going on with the plan: put back what a hand change (drift) moved.
        try {
          await reapply(d, this.env(d, now));
        } catch (error) {
          if (!(error instanceof RefusedVersionError)) throw error;
          // Nothing can go on from a version no image is built from: back to the previous one.
          this.log(d).error({ err: error }, 'resume refused: rolling back');
          return {
            next: { ...d, phase: 'rolling-back', rollbackReason: error.message, rollbackBy: 'switchyard' },
            events: [
              { at: now, actor: action.by, type: 'rollback-started', detail: `resume refused: ${error.message}` },
            ],
            result: AGAIN,
            report: (next) =>
              this.reporter.reply(
                next,
                `resume-refused:${d.pausedAt}`,
                `⛔ Resume refused: ${escapeText(error.message)}; rolling back`,
              ),
          };
        }
        const tally = d.gateTally ? { ...d.gateTally, consecutiveInconclusive: 0 } : undefined;
        return {
          next: { ...d, phase: 'running', pausedAt: undefined, pauseReason: undefined, gateTally: tally },
          events: [{ at: now, actor: action.by, type: 'resumed' }],
          result: AGAIN,
          report: (next) => this.reporter.resumed(next, action.by, d.pausedAt),
        };
      }
      case 'hold':
        return this.hold(d, action.hold, now);
      case 'runStep':
        if (d.held) {
          const held = d.held;
          return {
            next: { ...d, held: undefined },
            events: [],
            result: AGAIN,
            report: (next) =>
              this.reporter.reply(next, `unhold:${held.at}`, `▶️ Automatic progression resumed from ${held.weight}%`),
          };
        }
        return this.runStep(d, action.step, now);
    }
  }

  private applyDecision(d: Deployment, decision: Decision, approvals: Intents['approvals'], now: number): Outcome {
    const next: Deployment =
      decision.kind === 'approve'
        ? {
            ...d,
            // Approved while queued: it waits for its turn (or its time), ready for the hand-over.
            phase: d.phase === 'queued' ? 'queued' : 'running',
            // With `approval: none` nobody approved: the deployment started on its submission.
            approver: d.approvalRules?.length === 0 ? undefined : decision.by,
            approvals,
            approvedAt: decision.at,
            decidedAt: decision.at,
          }
        : {
            ...d,
            phase: decision.kind === 'reject' ? 'rejected' : 'expired',
            decidedAt: decision.at,
            rejectReason: decision.reason,
            finishedAt: now,
          };
    const type = decision.kind === 'approve' ? 'approved' : decision.kind === 'reject' ? 'rejected' : 'expired';
    return {
      next: isTerminal(next.phase) ? { ...next, queuePosition: undefined } : next,
      events: [{ at: now, actor: decision.by, type, detail: decision.reason }],
      result: AGAIN,
      queueMove: next.phase === 'queued' ? 'ready' : undefined,
    };
  }

  private async runStep(d: Deployment, step: Step, now: number): Promise<Outcome> {
    // Save the step before acting, so a worker killed mid-step resumes here: a tick of its own.
    const started = startStep(d, now);
    if (started !== d) {
      return {
        next: started,
        events: [
          {
            at: now,
            actor: 'switchyard',
            type: 'step-started',
            detail: describeStep(step),
            data: { index: d.stepIndex, step },
          },
        ],
        result: AGAIN,
        report: async (next) => {
          if (step.kind === 'bake')
            await this.reporter.reply(
              next,
              `step:${d.stepIndex}:start`,
              `⏳ Baking at ${step.weight}% for ${describeStep(step).split(' for ')[1]}`,
            );
        },
      };
    }
    let current = d;
    const events: DeploymentEvent[] = [];
    let alert: string[] | undefined;
    let result: StepResult;
    try {
      const run = await runStep(current, step, this.env(current, now));
      result = run.result;
      if (run.learned) current = { ...current, ...run.learned };
      if (run.gateRun) {
        events.push(gateRunEvent(run.gateRun, now));
      }
      alert = run.alert;
    } catch (error) {
      result = this.retryOrFail(current, error);
      if (result.kind === 'wait') {
        const record = current.stepRecords[current.stepIndex] ?? {};
        current = {
          ...current,
          stepRecords: current.stepRecords.map((r, i) =>
            i === current.stepIndex ? { ...record, retries: (record.retries ?? 0) + 1 } : r,
          ),
        };
      }
    }
    const after = this.deps.clock();
    const next = applyStepResult(current, result, after);
    recordStep(step.kind, next.stepRecords[d.stepIndex]);
    const stepEvent = this.stepEvent(next, step, result, after);
    if (stepEvent) events.push(stepEvent);
    return {
      next,
      events,
      at: after,
      result: result.kind === 'wait' ? waitUntil(after + result.ms) : AGAIN,
      report: async (written) => {
        if (alert) await this.reporter.postWindowAlert(written, alert);
        await this.reporter.stepFinished(written, step, d.stepIndex, result, after);
      },
    };
  }

  private async hold(d: Deployment, hold: HoldIntent, now: number): Promise<Outcome> {
    let run;
    try {
      run = await holdAt(d, hold.weight, this.env(d, now));
    } catch (error) {
      this.log(d).warn({ err: error }, 'could not hold the weight; trying again');
      return { next: d, events: [], result: waitUntil(now + retryDelayMs(1, (this.deps.random ?? Math.random)())) };
    }
    const newColor = d.newColor;
    let next: Deployment = {
      ...d,
      ...run.learned,
      held: hold,
      weights: newColor ? weightsFor(newColor, hold.weight) : d.weights,
    };
    const events: DeploymentEvent[] = [];
    if (run.gateRun) events.push(gateRunEvent(run.gateRun, now));
    if (run.result.kind !== 'wait') next = applyStepResult(next, run.result, now);
    if (d.held?.at !== hold.at) events.push({ at: now, actor: hold.by, type: 'held', detail: `${hold.weight}%` });
    const result = run.result;
    return {
      next,
      events,
      result: result.kind === 'wait' ? waitUntil(now + result.ms) : AGAIN,
      report: async (written) => {
        await this.reporter.reply(
          written,
          `hold:${hold.at}`,
          `🎚️ Holding at ${hold.weight}% on ${newColor} (\`/shift\` by <@${hold.by}>); gates keep running. \`/shift ${d.service} resume\` continues.`,
        );
        if (result.kind === 'pause') await this.reporter.paused(written);
      },
    };
  }

  private retryOrFail(d: Deployment, error: unknown): StepResult {
    const failure = asSwitchyardError(error);
    const retries = d.stepRecords[d.stepIndex]?.retries ?? 0;
    this.log(d).warn({ err: failure, retries }, 'step interrupted by an error');
    if (failure.retriable && retries < MAX_STEP_RETRIES) {
      return {
        kind: 'wait',
        ms: retryDelayMs(retries + 1, (this.deps.random ?? Math.random)()),
        detail: `retrying after: ${describeError(failure)}`,
      };
    }
    return { kind: 'fail', reason: describeError(failure) };
  }

  private stepEvent(d: Deployment, step: Step, result: StepResult, at: number): DeploymentEvent | undefined {
    if (result.kind === 'wait') return undefined;
    return {
      at,
      actor: 'switchyard',
      type: result.kind === 'done' ? 'step-succeeded' : 'step-failed',
      detail: result.kind === 'done' ? (result.detail ?? describeStep(step)) : result.reason,
      data: { step, phase: d.phase },
    };
  }

  /**
   * A rollback whose target no image can be built from (the record's previous version is not a
   * git SHA or a v-tag) will never succeed: trying again would loop forever. It fails for good,
   * saying so, with the workload left as it is for a person to restore.
   */
  private rollbackRefused(d: Deployment, error: RefusedVersionError, now: number): Outcome {
    this.log(d).error({ err: error }, 'rollback refused: no valid previous version');
    const reason = `rollback refused: ${error.message}; the workload was left as it is, restore the previous version by hand`;
    return {
      next: { ...d, phase: 'failed', failureReason: reason, finishedAt: now },
      events: [{ at: now, actor: 'switchyard', type: 'rollback-refused', detail: reason }],
      result: AGAIN,
      report: (written) => this.reporter.reply(written, 'rollback-refused', `❌ ${escapeText(reason)}`),
    };
  }

  private async rollback(d: Deployment, intents: Intents, now: number): Promise<Outcome> {
    let run;
    try {
      run = await restorePrevious(d, this.env(d, now));
    } catch (error) {
      if (error instanceof RefusedVersionError) return this.rollbackRefused(d, error, now);
      this.log(d).error({ err: asSwitchyardError(error) }, 'rollback interrupted; trying again');
      // Nothing is written on this path: the page's key is the same on every try, so it is made once.
      await this.reporter.rollbackStuck(d, describeError(error));
      return { next: d, events: [], result: waitUntil(now + retryDelayMs(1, (this.deps.random ?? Math.random)())) };
    }
    if (run.result.kind === 'wait') return { next: d, events: [], result: waitUntil(now + run.result.ms) };
    const after = this.deps.clock();
    const evidence = [...(d.rollbackEvidence ?? []), ...run.evidence];
    return {
      next: { ...d, phase: 'rolled-back', finishedAt: after },
      events: [
        {
          at: after,
          actor: 'switchyard',
          type: 'rolled-back',
          detail: d.rollbackReason,
          data: { evidence: run.evidence },
        },
      ],
      at: after,
      blockVersion: { deploymentId: d.id, reason: d.rollbackReason ?? 'rolled back', at: after },
      result: AGAIN,
      report: async (written) => {
        recordRollback(d, intents.rollback, after);
        await this.reporter.rolledBack(written, evidence);
      },
    };
  }
}
