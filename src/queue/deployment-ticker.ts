import { gateRunEvent } from './gate-events.js';
import type { Logger } from 'pino';
import { weightsFor } from '../domain/color.js';
import type { Decision, Deployment, DeploymentEvent, HoldIntent, Intents } from '../domain/deployment.js';
import { isTerminal } from '../domain/deployment.js';
import {
  applyStepResult,
  nextAction,
  retryDelayMs,
  startStep,
  type Action,
  type StepResult,
} from '../domain/machine.js';
import { describeStep, type Step } from '../domain/steps.js';
import { asSwitchyardError, describeError } from '../errors.js';
import { deploymentLog } from '../log-context.js';
import { recordOutcome, recordRollback, recordStep } from '../metrics.js';
import type { Providers } from '../providers/providers.js';
import type { Catalog } from '../runbook/catalog.js';
import type { BlockedVersion, DeploymentStore } from '../store/deployment-store.js';
import { postWindowAlert } from '../../views/alerts.js';
import { statusLine } from '../../views/status-line.js';
import { DeploymentReporter } from './deployment-reporter.js';
import { findDrift, reapply } from './reconcile.js';
import { restorePrevious } from './rollback.js';
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
    this.reporter = new DeploymentReporter(deps.outbox, deps.catalog);
  }

  /** Ticks until the deployment must wait (the result says until when), is finished or was fenced off. */
  async run(id: string): Promise<Exclude<TickResult, { kind: 'again' }>> {
    // The first tick of a job run looks at the infrastructure before acting (a crash, a hand change).
    for (let first = true; ; first = false) {
      const result = await this.tick(id, { reconcile: first });
      if (result.kind !== 'again') return result;
    }
  }

  /** One tick: one load, one decision, the action, at most one write. */
  async tick(id: string, options: { reconcile?: boolean } = {}): Promise<TickResult> {
    const { store, clock, catalog } = this.deps;
    const loaded = await store.load(id);
    if (!loaded) return FINISHED;
    const { deployment: d, intents } = loaded;
    const now = clock();
    const outcome =
      (options.reconcile ? await this.reconcile(d, intents, now) : undefined) ??
      (await this.act(nextAction(d, intents, now, catalog.approvalTimeoutSeconds * 1000), d, intents, now));
    if (outcome.next === d && outcome.events.length === 0) return outcome.result;

    const at = outcome.at ?? now;
    const line = statusLine(outcome.next, at);
    const next = line === d.statusLine ? outcome.next : { ...outcome.next, statusLine: line };
    const written = await store.commit(next, outcome.events, {
      release: isTerminal(next.phase),
      blockVersion: outcome.blockVersion,
      // Retention is measured on the injected clock, like everything else the tick decides.
      now: at,
    });
    if (!written.written) {
      this.deps.log.warn(
        { deploymentId: d.id, service: d.service, fence: d.fence },
        'the service lock is held by another fencing token; nothing written',
      );
      return { kind: 'fenced' };
    }
    if (isTerminal(next.phase)) recordOutcome(next);
    await outcome.report?.(next);
    if (line !== d.statusLine) await this.reporter.announcement(next, written.intents, at);
    // An intent recorded while this tick was acting would otherwise wait for the next wake-up.
    if (outcome.result.kind === 'wait') {
      const pending = nextAction(next, written.intents, clock(), catalog.approvalTimeoutSeconds * 1000);
      if (pending.kind === 'applyDecision' || pending.kind === 'startRollback') return AGAIN;
    }
    return outcome.result;
  }

  private log(d: Deployment): Logger {
    return deploymentLog(this.deps.log, d);
  }

  private env(d: Deployment, now: number): StepEnv {
    const service = this.deps.catalog.services[d.service];
    if (!service) throw new Error(`service ${d.service} is no longer in the catalog`);
    return { service, providers: this.deps.providers, now };
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
        return unchanged(waitUntil(action.until));
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
        await reapply(d, this.env(d, now));
        const tally = d.gateTally ? { ...d.gateTally, consecutiveInconclusive: 0 } : undefined;
        return {
          next: { ...d, phase: 'running', pausedAt: undefined, pauseReason: undefined, gateTally: tally },
          events: [{ at: now, actor: action.by, type: 'resumed' }],
          result: AGAIN,
          report: (next) => this.reporter.reply(next, `resumed:${d.pausedAt}`, `▶️ Resumed by <@${action.by}>`),
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
            phase: 'running',
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
    return { next, events: [{ at: now, actor: decision.by, type, detail: decision.reason }], result: AGAIN };
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
        if (alert) {
          const message = postWindowAlert(written, this.deps.catalog.slack.onCall, alert);
          await this.reporter.reply(written, 'post-window-alert', message.text, message.blocks);
        }
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

  private async rollback(d: Deployment, intents: Intents, now: number): Promise<Outcome> {
    let run;
    try {
      run = await restorePrevious(d, this.env(d, now));
    } catch (error) {
      this.log(d).error({ err: asSwitchyardError(error) }, 'rollback interrupted; trying again');
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
