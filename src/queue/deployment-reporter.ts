import type { Deployment } from '../domain/deployment.js';
import { isTerminal } from '../domain/deployment.js';
import { formatNumber } from '../domain/gates.js';
import type { StepResult } from '../domain/machine.js';
import { describeStep, type Step } from '../domain/steps.js';
import type { Blocks } from '../providers/chat/chat.js';
import type { Catalog } from '../runbook/catalog.js';
import { expectedSeconds } from '../runbook/plan.js';
import type { DeploymentStore } from '../store/deployment-store.js';
import { pausedAlert } from '../../views/alerts.js';
import { announcement } from '../../views/announcement.js';
import { statusLine } from '../../views/status-line.js';
import { failureMessage, rollbackMessage, successMessage } from '../../views/thread-messages.js';
import { escapeText } from '../../views/text.js';
import { evidenceOf } from './step-runners.js';
import type { ThreadReporter } from './thread-reporter.js';

const STEP_ICONS: Partial<Record<Step['kind'], string>> = {
  preflight: '🔎',
  deployIdle: '📦',
  health: '💚',
  smoke: '🧪',
  setWeight: '🔀',
};

/** `p99 latency 0.35 · error rate 0.001`: the last gate run, for the success message. */
const lastReadings = (d: Deployment): string[] =>
  (d.lastGateRun?.readings ?? [])
    .filter((r) => r.value !== undefined)
    .map((r) => `${r.name} ${formatNumber(r.value as number)}`);

/** What the worker tells people about a deployment: thread replies, notices, the announcement. */
export class DeploymentReporter {
  constructor(
    private readonly thread: ThreadReporter,
    private readonly store: DeploymentStore,
    private readonly catalog: Catalog,
  ) {}

  reply(d: Deployment, key: string, text: string, blocks?: Blocks): Promise<void> {
    return this.thread.reply(d, key, text, blocks);
  }

  /** After a step ran: its line in the thread, and the success, pause or failure message it led to. */
  async stepFinished(d: Deployment, step: Step, index: number, result: StepResult, now: number): Promise<void> {
    if (result.kind === 'done' && step.kind !== 'bake' && step.kind !== 'complete') {
      const icon = STEP_ICONS[step.kind] ?? '✓';
      // Details quote what providers said (Job logs, /healthz bodies): never let them mention or link.
      await this.thread.reply(
        d,
        `step:${index}:done`,
        `${icon} *${describeStep(step)}* done${result.detail ? `: ${escapeText(result.detail)}` : ''}`,
      );
    }
    if (d.phase === 'succeeded') await this.thread.reply(d, 'success', successMessage(d, now, lastReadings(d)));
    if (result.kind === 'pause') await this.paused(d);
    if (d.phase === 'failed') await this.thread.reply(d, 'failed', failureMessage(d, this.catalog.slack.onCall));
    await this.refreshAnnouncement(d, now);
  }

  /** Pages on-call in the thread with Resume and Roll back now. */
  async paused(d: Deployment, cause: 'gates' | 'drift' = 'gates'): Promise<void> {
    const evidence = cause === 'gates' && d.lastGateRun ? evidenceOf(d.lastGateRun) : [];
    const alert = pausedAlert(d, this.catalog.slack.onCall, evidence, cause);
    await this.thread.reply(d, `paused:${d.pausedAt}`, alert.text, alert.blocks);
  }

  /** The rollback template in the thread, in #deployments and in the incidents channel. */
  async rolledBack(d: Deployment, evidence: string[], now: number): Promise<void> {
    const message = rollbackMessage(d, this.catalog.slack.onCall, evidence);
    await this.thread.reply(d, 'rollback', message);
    await this.thread.post(d, d.channel, 'rollback', message);
    const incidents = this.catalog.slack.incidentsChannel;
    if (incidents) await this.thread.post(d, incidents, 'rollback', message);
    await this.refreshAnnouncement(d, now);
  }

  /** Re-renders the announcement when its status line changed; the outbox spaces the edits. */
  async refreshAnnouncement(d: Deployment, now: number): Promise<void> {
    const line = statusLine(d, now);
    if (line === d.statusLine) return;
    const intents = await this.store.intents(d.id);
    await this.thread.updateAnnouncement(
      d,
      announcement(d, {
        onCall: this.catalog.slack.onCall,
        expectedSeconds: expectedSeconds(d.steps),
        statusLine: line,
        decision: intents.decision,
      }),
    );
    if (!isTerminal(d.phase)) await this.store.save({ ...d, statusLine: line });
  }
}
