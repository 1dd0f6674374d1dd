import type { Deployment, Intents } from '../domain/deployment.js';
import { describeRun, formatNumber } from '../domain/gates.js';
import type { StepResult } from '../domain/machine.js';
import { describeStep, type Step } from '../domain/steps.js';
import type { Blocks } from '../providers/chat/chat.js';
import type { Catalog } from '../runbook/catalog.js';
import { ANNOUNCEMENT_MESSAGE } from '../store/deployment-store.js';
import { endedAlert, pausedAlert, pausedAlertKey, POST_WINDOW_ALERT_KEY, postWindowAlert } from '../../views/alerts.js';
import { currentAnnouncement } from '../../views/announcement.js';
import { failureMessage, rollbackMessage, successMessage } from '../../views/thread-messages.js';
import { escapeText } from '../../views/text.js';
import type { Pager } from './paging-effects.js';
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
    /** Pages on-call through PagerDuty too, when it is configured. */
    private readonly pager?: Pager,
  ) {}

  /** A reply in the announcement's thread (it goes out after the announcement, whenever that is). */
  async reply(d: Deployment, key: string, text: string, blocks?: Blocks): Promise<void> {
    await this.threadMessage(d, `reply:${key}`, text, blocks);
  }

  private async threadMessage(d: Deployment, messageKey: string, text: string, blocks?: Blocks): Promise<void> {
    await this.outbox.send({
      deploymentId: d.id,
      key: messageKey,
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
    await this.threadMessage(d, pausedAlertKey(d.pausedAt), alert.text, alert.blocks);
    await this.pagePause(d);
  }

  /** A gate breach after the rollback window: on-call decides, with Roll back now and Acknowledge. */
  async postWindowAlert(d: Deployment, evidence: string[]): Promise<void> {
    const alert = postWindowAlert(d, this.catalog.slack.onCall, evidence);
    await this.threadMessage(d, POST_WINDOW_ALERT_KEY, alert.text, alert.blocks);
    await this.pager?.trigger(
      d,
      'breach',
      'post-window',
      `${d.service} ${d.version} breaches its gates after the rollback window`,
      {
        evidence,
      },
    );
  }

  /**
   * Once the deployment is over, its on-call alerts that went out (the post-window alert, the
   * latest pause's) and still carry their buttons lose them for a line saying how it ended. An
   * alert someone answered already reads who pressed what (commands/alerts.ts), and stays so.
   */
  async alertsEnded(d: Deployment): Promise<void> {
    const alerts: ['post-window' | 'paused', string][] = [['post-window', POST_WINDOW_ALERT_KEY]];
    if (d.pausedAt !== undefined) alerts.push(['paused', pausedAlertKey(d.pausedAt)]);
    for (const [alert, key] of alerts) {
      if (!(await this.outbox.posted(d.id, key)) || (await this.outbox.edited(d.id, key))) continue;
      await this.outbox.edit({ deploymentId: d.id, key, channel: d.channel, ...endedAlert(d, alert) });
    }
  }

  /** The pause's PagerDuty event, keyed by the pause's time: asking twice sends it once. */
  async pagePause(d: Deployment): Promise<void> {
    const evidence =
      d.lastGateRun && d.pauseReason?.startsWith('gates') ? describeRun(d.lastGateRun, { evidence: true }) : [];
    await this.pager?.trigger(
      d,
      'pause',
      d.pausedAt ?? 0,
      `${d.service} ${d.version} paused: ${d.pauseReason ?? 'paused'}`,
      {
        reason: d.pauseReason,
        evidence,
      },
    );
  }

  /** Resume ends the pause `pausedAt` and its page. */
  async resumed(d: Deployment, by: string, pausedAt: number | undefined): Promise<void> {
    await this.reply(d, `resumed:${pausedAt}`, `▶️ Resumed by <@${by}>`);
    await this.pager?.resolve(d, 'pause', pausedAt ?? 0);
  }

  /** A rollback that could not restore the previous traffic yet: it keeps trying, and on-call is paged. */
  async rollbackStuck(d: Deployment, error: string): Promise<void> {
    await this.pager?.trigger(
      d,
      'rollback-failed',
      1,
      `${d.service} ${d.version}: rollback has not restored traffic: ${error}`,
      {
        error,
      },
    );
  }

  /** The rollback template in the thread, in #deployments and in the incidents channel. */
  async rolledBack(d: Deployment, evidence: string[]): Promise<void> {
    const message = rollbackMessage(d, this.catalog.slack.onCall, evidence);
    await this.reply(d, 'rollback', message);
    await this.post(d, d.channel, 'rollback', message);
    const incidents = this.catalog.slack.incidentsChannel;
    if (incidents) await this.post(d, incidents, 'rollback', message);
    // Rolled back ends every page the deployment may have opened (resolving a closed one is a no-op).
    await this.pager?.resolve(d, 'rollback-failed', 1);
    if (d.pausedAt !== undefined) await this.pager?.resolve(d, 'pause', d.pausedAt);
    if (d.fullTrafficAt !== undefined) await this.pager?.resolve(d, 'breach', 'post-window');
  }

  /** Seed 001's "Starting deployment … in n minutes", in the thread and in the channel, once. */
  async scheduleNotice(d: Deployment, text: string): Promise<void> {
    await this.reply(d, 'schedule-notice', `🗓️ ${text}`);
    await this.post(d, d.channel, 'schedule-notice', `🗓️ ${escapeText(d.service)}: ${text}`);
  }

  /** A deployment that ended without starting: cancelled, or its scheduled start came too late. */
  async endedUnstarted(d: Deployment, text: string): Promise<void> {
    await this.reply(d, `ended:${d.phase}`, text);
  }

  /** A queued deployment was handed the service's lock. */
  async startedFromQueue(d: Deployment): Promise<void> {
    await this.reply(
      d,
      'started-from-queue',
      `▶️ ${escapeText(d.service)} is free: starting ${escapeText(d.version)} now`,
    );
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
