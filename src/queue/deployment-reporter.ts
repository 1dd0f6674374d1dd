import type { Deployment, Intents } from '../domain/deployment.js';
import { describeRun, formatNumber } from '../domain/gates.js';
import type { StepResult } from '../domain/machine.js';
import { describeStep, type Step } from '../domain/steps.js';
import type { Blocks } from '../providers/chat/chat.js';
import type { Catalog } from '../runbook/catalog.js';
import { ANNOUNCEMENT_MESSAGE } from '../store/deployment-store.js';
import { pausedAlert } from '../../views/alerts.js';
import { currentAnnouncement } from '../../views/announcement.js';
import { failureMessage, rollbackMessage, successMessage } from '../../views/thread-messages.js';
import { escapeText } from '../../views/text.js';
import type { SlackOutbox } from './slack-outbox.js';

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

/**
 * What the worker tells people about a deployment: thread replies, channel posts and the
 * announcement's edits. It only enqueues them on the outbox, by key: each key is one message,
 * however often a step that runs again (after a crash, a retry) asks for it. It never writes
 * the deployment record: the tick does, once, before anything is reported.
 */
export class DeploymentReporter {
  constructor(
    private readonly outbox: SlackOutbox,
    private readonly catalog: Catalog,
  ) {}

  /** A reply in the announcement's thread (it goes out after the announcement, whenever that is). */
  async reply(d: Deployment, key: string, text: string, blocks?: Blocks): Promise<void> {
    await this.outbox.send({
      deploymentId: d.id,
      key: `reply:${key}`,
      channel: d.channel,
      threadTs: d.announcementTs,
      inThreadOf: ANNOUNCEMENT_MESSAGE,
      text,
      blocks,
    });
  }

  /** A message of its own in `channel` (#deployments, #incidents). */
  private async post(d: Deployment, channel: string, key: string, text: string): Promise<void> {
    await this.outbox.send({ deploymentId: d.id, key: `post:${channel}:${key}`, channel, text });
  }

  /** After a step ran: its line in the thread, and the success, pause or failure message it led to. */
  async stepFinished(d: Deployment, step: Step, index: number, result: StepResult, now: number): Promise<void> {
    if (result.kind === 'done' && step.kind !== 'bake' && step.kind !== 'complete') {
      const icon = STEP_ICONS[step.kind] ?? '✓';
      // Details quote what providers said (Job logs, /healthz bodies): never let them mention or link.
      await this.reply(
        d,
        `step:${index}:done`,
        `${icon} *${describeStep(step)}* done${result.detail ? `: ${escapeText(result.detail)}` : ''}`,
      );
    }
    if (d.phase === 'succeeded') await this.reply(d, 'success', successMessage(d, now, lastReadings(d)));
    if (result.kind === 'pause') await this.paused(d);
    if (d.phase === 'failed') await this.reply(d, 'failed', failureMessage(d, this.catalog.slack.onCall));
  }

  /** Pages on-call in the thread with Resume and Roll back now. */
  async paused(d: Deployment, cause: 'gates' | 'drift' = 'gates'): Promise<void> {
    const evidence = cause === 'gates' && d.lastGateRun ? describeRun(d.lastGateRun, { evidence: true }) : [];
    const alert = pausedAlert(d, this.catalog.slack.onCall, evidence, cause);
    await this.reply(d, `paused:${d.pausedAt}`, alert.text, alert.blocks);
  }

  /** The rollback template in the thread, in #deployments and in the incidents channel. */
  async rolledBack(d: Deployment, evidence: string[]): Promise<void> {
    const message = rollbackMessage(d, this.catalog.slack.onCall, evidence);
    await this.reply(d, 'rollback', message);
    await this.post(d, d.channel, 'rollback', message);
    const incidents = this.catalog.slack.incidentsChannel;
    if (incidents) await this.post(d, incidents, 'rollback', message);
  }

  /**
   * Re-renders the announcement as `d` reads at `now`; the tick calls it when the status line
   * it saved differs from the one before. The outbox spaces the edits and sends the newest.
   */
  async announcement(d: Deployment, intents: Intents, now: number): Promise<void> {
    const message = currentAnnouncement(d, this.catalog.slack.onCall, now, intents);
    await this.outbox.announce({
      deploymentId: d.id,
      channel: d.channel,
      ts: d.announcementTs,
      text: message.text,
      blocks: message.blocks,
    });
  }
}
