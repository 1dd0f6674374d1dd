import { DelayedError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import type { Logger } from 'pino';
import type { Decision, Deployment, DeploymentEvent, HoldIntent } from '../domain/deployment.js';
import { isTerminal } from '../domain/deployment.js';
import { applyStepResult, nextAction, retryDelayMs, startStep, type StepResult } from '../domain/machine.js';
import { describeStep } from '../domain/steps.js';
import { asSwitchyardError, describeError } from '../errors.js';
import type { Providers } from '../providers/providers.js';
import type { Catalog } from '../runbook/catalog.js';
import type { DeploymentStore } from '../store/deployment-store.js';
import { DeploymentQueue, type DeploymentJobData } from './deployment-queue.js';
import { restorePrevious } from './rollback.js';
import { findDrift, reapply } from './reconcile.js';
import { holdAt, runStep, type StepEnv } from './step-runners.js';
import { weightsFor } from '../domain/color.js';
import { postWindowAlert } from '../../views/alerts.js';
import { ThreadReporter } from './thread-reporter.js';
import { DeploymentReporter } from './deployment-reporter.js';
import type { SlackOutbox } from './slack-outbox.js';
import { deploymentLog } from '../app/log-context.js';
import { recordOutcome, recordRollback, recordStep } from '../metrics.js';

export interface WorkerDeps {
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

/**
 * One tick of the reconcile loop (STYLE): load the record, ask `nextAction`, act, save, then
 * either loop, finish, or move the job to the delayed set until the next look.
 */
export class DeploymentTicker {
  private readonly reporter: DeploymentReporter;

  constructor(private readonly deps: WorkerDeps) {
    this.reporter = new DeploymentReporter(new ThreadReporter(deps.outbox), deps.store, deps.catalog);
  }

  /** Runs ticks until the deployment must wait (returns the time to come back) or is finished. */
  async run(id: string): Promise<number | undefined> {
    await this.reconcile(id);
    for (;;) {
      const wakeAt = await this.tick(id);
      if (wakeAt === 'again') continue;
      // An intent recorded while this tick was acting would otherwise wait for the next wake-up.
      if (wakeAt !== undefined && (await this.hasPendingIntent(id))) continue;
      return wakeAt;
    }
  }

  /** SPEC §5: before acting, hold the record against the infrastructure; on drift, pause and page. */
  private async reconcile(id: string): Promise<void> {
    const d = await this.deps.store.get(id);
    if (!d || d.phase !== 'running') return;
    const now = this.deps.clock();
    const intents = await this.deps.store.intents(id);
    // A rollback restores everything anyway, and every round trip before it is time on the bad version.
    if (intents.rollback) return;
    let drift: string | undefined;
    try {
      drift = await findDrift(d, intents, this.env(d, now));
    } catch (error) {
      this.deps.log.warn(
        { err: error, deploymentId: id },
        'could not read the real state before acting; the step will try',
      );
      return;
    }
    if (!drift) return;
    const paused: Deployment = { ...d, phase: 'paused', pausedAt: now, pauseReason: drift };
    await this.save(paused, { at: now, actor: 'switchyard', type: 'drift', detail: drift });
    this.deps.log.warn({ deploymentId: id, drift }, 'paused: the infrastructure was changed by hand');
    await this.reporter.paused(paused, 'drift');
    await this.reporter.refreshAnnouncement(paused, now);
  }

  private async hasPendingIntent(id: string): Promise<boolean> {
    const d = await this.deps.store.get(id);
    if (!d) return false;
    const action = nextAction(
      d,
      await this.deps.store.intents(id),
      this.deps.clock(),
      this.deps.catalog.approvalTimeoutSeconds * 1000,
    );
    return action.kind === 'applyDecision' || action.kind === 'startRollback';
  }

  private async tick(id: string): Promise<number | undefined | 'again'> {
    const { store, clock, catalog } = this.deps;
    const d = await store.get(id);
    if (!d) return undefined;
    const intents = await store.intents(id);
    const now = clock();
    const action = nextAction(d, intents, now, catalog.approvalTimeoutSeconds * 1000);
    const log = this.deps.log.child({ deploymentId: d.id, service: d.service, step: d.steps[d.stepIndex]?.kind });
    switch (action.kind) {
      case 'none':
        return undefined;
      case 'awaitDecision':
        return action.until;
      case 'expire':
        await store.decide(id, { kind: 'expire', by: 'switchyard', at: now });
        return 'again';
      case 'applyDecision':
        return this.applyDecision(d, intents.decision as Decision, now);
      case 'startRollback': {
        const next: Deployment = { ...d, phase: 'rolling-back', rollbackReason: action.reason, rollbackBy: action.by };
        await this.save(next, { at: now, actor: action.by, type: 'rollback-started', detail: action.reason });
        log.info({ reason: action.reason }, 'rollback requested');
        return 'again';
      }
      case 'rollback':
        return this.rollback(d, now);
      case 'awaitResume':
        return action.until;
      case 'resume': {
        // Resuming means going on with the plan: put back what a hand change (drift) moved.
        await reapply(d, this.env(d, now));
        const tally = d.gateTally ? { ...d.gateTally, consecutiveInconclusive: 0 } : undefined;
        const next: Deployment = {
          ...d,
          phase: 'running',
          pausedAt: undefined,
          pauseReason: undefined,
          gateTally: tally,
        };
        await this.save(next, { at: now, actor: action.by, type: 'resumed' });
        await this.reporter.reply(next, `resumed:${d.pausedAt}`, `▶️ Resumed by <@${action.by}>`);
        return 'again';
      }
      case 'hold':
        return this.hold(d, action.hold, now);
      case 'runStep':
        if (d.held) {
          const resumed: Deployment = { ...d, held: undefined };
          await this.save(resumed, undefined);
          await this.reporter.reply(
            resumed,
            `unhold:${d.held.at}`,
            `▶️ Automatic progression resumed from ${d.held.weight}%`,
          );
          return 'again';
        }
        return this.runStep(d, now);
    }
  }

  private async applyDecision(d: Deployment, decision: Decision, now: number): Promise<'again'> {
    const next: Deployment =
      decision.kind === 'approve'
        ? { ...d, phase: 'running', approver: decision.by, approvedAt: decision.at, decidedAt: decision.at }
        : {
            ...d,
            phase: decision.kind === 'reject' ? 'rejected' : 'expired',
            decidedAt: decision.at,
            rejectReason: decision.reason,
            finishedAt: now,
          };
    await this.save(next, {
      at: now,
      actor: decision.by,
      type: decision.kind === 'approve' ? 'approved' : decision.kind === 'reject' ? 'rejected' : 'expired',
      detail: decision.reason,
    });
    // Approve and reject are shown by the bot as they are pressed; nobody presses for an expiry.
    if (decision.kind === 'expire') await this.reporter.refreshAnnouncement(next, now);
    return 'again';
  }

  private env(d: Deployment, now: number): StepEnv {
    const service = this.deps.catalog.services[d.service];
    if (!service) throw new Error(`service ${d.service} is no longer in the catalog`);
    return { service, providers: this.deps.providers, now };
  }

  private async runStep(d: Deployment, now: number): Promise<number | undefined | 'again'> {
    const step = d.steps[d.stepIndex];
    if (!step) return 'again';
    // Save the step before acting, so a worker killed mid-step resumes here (STYLE rule 3).
    let current = startStep(d, now);
    if (current !== d) {
      await this.save(current, {
        at: now,
        actor: 'switchyard',
        type: 'step-started',
        detail: describeStep(step),
        data: { index: d.stepIndex, step },
      });
      if (step.kind === 'bake')
        await this.reporter.reply(
          current,
          `step:${d.stepIndex}:start`,
          `⏳ Baking at ${step.weight}% for ${describeStep(step).split(' for ')[1]}`,
        );
    }
    let result: StepResult;
    try {
      const env = this.env(current, now);
      const run = await runStep(current, step, env);
      result = run.result;
      if (run.learned) current = { ...current, ...run.learned };
      if (run.gateRun) {
        await this.deps.store.appendEvent(d.id, {
          at: now,
          actor: 'switchyard',
          type: 'gate-run',
          detail: run.gateRun.outcome,
          data: { readings: run.gateRun.readings, firingMonitors: run.gateRun.firingMonitors },
        });
      }
      if (run.alert) {
        const alert = postWindowAlert(current, this.deps.catalog.slack.onCall, run.alert);
        await this.reporter.reply(current, 'post-window-alert', alert.text, alert.blocks);
      }
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
    await this.save(next, this.stepEvent(next, step, result, after));
    await this.reporter.stepFinished(next, step, d.stepIndex, result, after);
    if (result.kind === 'wait') return after + result.ms;
    return 'again';
  }

  private async hold(d: Deployment, hold: HoldIntent, now: number): Promise<number | 'again'> {
    let run;
    try {
      run = await holdAt(d, hold.weight, this.env(d, now));
    } catch (error) {
      deploymentLog(this.deps.log, d).warn({ err: error }, 'could not hold the weight; trying again');
      return now + retryDelayMs(1, (this.deps.random ?? Math.random)());
    }
    const newColor = d.newColor;
    let next: Deployment = {
      ...d,
      ...run.learned,
      held: hold,
      weights: newColor ? weightsFor(newColor, hold.weight) : d.weights,
    };
    if (run.gateRun)
      await this.deps.store.appendEvent(d.id, {
        at: now,
        actor: 'switchyard',
        type: 'gate-run',
        detail: run.gateRun.outcome,
        data: { readings: run.gateRun.readings },
      });
    if (run.result.kind !== 'wait') next = applyStepResult(next, run.result, now);
    await this.save(
      next,
      d.held?.at === hold.at ? undefined : { at: now, actor: hold.by, type: 'held', detail: `${hold.weight}%` },
    );
    await this.reporter.reply(
      next,
      `hold:${hold.at}`,
      `🎚️ Holding at ${hold.weight}% on ${newColor} (\`/shift\` by <@${hold.by}>); gates keep running. \`/shift ${d.service} resume\` continues.`,
    );
    if (run.result.kind === 'pause') await this.reporter.paused(next);
    await this.reporter.refreshAnnouncement(next, now);
    return run.result.kind === 'wait' ? now + run.result.ms : 'again';
  }

  private retryOrFail(d: Deployment, error: unknown): StepResult {
    const failure = asSwitchyardError(error);
    const retries = d.stepRecords[d.stepIndex]?.retries ?? 0;
    deploymentLog(this.deps.log, d).warn({ err: failure, retries }, 'step interrupted by an error');
    if (failure.retriable && retries < MAX_STEP_RETRIES) {
      return {
        kind: 'wait',
        ms: retryDelayMs(retries + 1, (this.deps.random ?? Math.random)()),
        detail: `retrying after: ${describeError(failure)}`,
      };
    }
    return { kind: 'fail', reason: describeError(failure) };
  }

  private stepEvent(
    d: Deployment,
    step: Deployment['steps'][number],
    result: StepResult,
    at: number,
  ): DeploymentEvent | undefined {
    if (result.kind === 'wait') return undefined;
    return {
      at,
      actor: 'switchyard',
      type: result.kind === 'done' ? 'step-succeeded' : 'step-failed',
      detail: result.kind === 'done' ? (result.detail ?? describeStep(step)) : result.reason,
      data: { step, phase: d.phase },
    };
  }

  private async rollback(d: Deployment, now: number): Promise<number | undefined | 'again'> {
    let run;
    try {
      run = await restorePrevious(d, this.env(d, now));
    } catch (error) {
      const failure = asSwitchyardError(error);
      deploymentLog(this.deps.log, d).error({ err: failure }, 'rollback interrupted; trying again');
      return now + retryDelayMs(1, (this.deps.random ?? Math.random)());
    }
    if (run.result.kind === 'wait') return now + run.result.ms;
    const after = this.deps.clock();
    const next: Deployment = { ...d, phase: 'rolled-back', finishedAt: after };
    await this.deps.store.blockVersion(d.service, d.version, {
      deploymentId: d.id,
      reason: d.rollbackReason ?? 'rolled back',
      at: after,
    });
    await this.save(next, {
      at: after,
      actor: 'switchyard',
      type: 'rolled-back',
      detail: d.rollbackReason,
      data: { evidence: run.evidence },
    });
    recordRollback(d, (await this.deps.store.intents(d.id)).rollback, after);
    await this.reporter.rolledBack(next, [...(d.rollbackEvidence ?? []), ...run.evidence], after);
    return 'again';
  }

  /** Saves the record (releasing the service when the phase is terminal) and logs the event. */
  private async save(d: Deployment, event: DeploymentEvent | undefined): Promise<void> {
    const saved = await this.deps.store.save(d, { release: isTerminal(d.phase) });
    if (!saved) throw new Error(`deployment ${d.id} no longer holds the ${d.service} lock (fencing token ${d.fence})`);
    if (isTerminal(d.phase)) recordOutcome(d);
    if (event) await this.deps.store.appendEvent(d.id, event);
  }
}

export interface WorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** The BullMQ worker: each job run is one or more ticks of one deployment. */
export function createDeploymentWorker(deps: WorkerDeps, options: WorkerOptions): Worker<DeploymentJobData> {
  const ticker = new DeploymentTicker(deps);
  const worker = new Worker<DeploymentJobData>(
    DeploymentQueue.nameFor(options.prefix),
    async (job: Job<DeploymentJobData>, token?: string) => {
      const wakeAt = await ticker.run(job.data.id);
      if (wakeAt === undefined) return;
      // Wake-up times are on the injected clock; BullMQ's delayed set is on the wall clock.
      await job.moveToDelayed(Date.now() + Math.max(0, wakeAt - deps.clock()), token);
      throw new DelayedError();
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      lockDuration: options.lockDurationMs,
      stalledInterval: options.stalledIntervalMs,
      // A deployment job may be interrupted many times (worker restarts) and must not fail for it.
      maxStalledCount: 1000,
    },
  );
  worker.on('error', (error) => deps.log.error({ err: error }, 'worker error'));
  return worker;
}
