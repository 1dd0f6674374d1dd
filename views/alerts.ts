import { weightOn } from '../src/domain/color.js';
import type { Deployment } from '../src/domain/deployment.js';
import { context, mention, quote, section } from './text.js';

export const ROLLBACK_NOW_ACTION = 'rollback_now';
export const ACKNOWLEDGE_ACTION = 'acknowledge_alert';
export const RESUME_ACTION = 'resume_deployment';

/** The outbox keys of the alert messages in a deployment's thread. */
export const POST_WINDOW_ALERT_KEY = 'reply:post-window-alert';
export const pausedAlertKey = (pausedAt: number | undefined): string => `reply:paused:${pausedAt}`;
/** The alert a pressed button belongs to, by the id of its actions block. */
export const ALERT_BLOCK_IDS = { postWindow: 'alert', paused: 'paused' } as const;

const button = (actionId: string, text: string, value: string, style?: 'primary' | 'danger') => ({
  type: 'button',
  action_id: actionId,
  text: { type: 'plain_text', text },
  value,
  ...(style ? { style } : {}),
});

/** A gate breach after the rollback window: on-call decides. */
export function postWindowAlert(d: Deployment, onCall: string, evidence: string[]) {
  const text = `🚨 ${mention(onCall)} ${d.service} \`${d.version}\` breaches its gates after the automatic rollback window`;
  return {
    text,
    blocks: [
      section(`${text}:\n${evidence.map((line) => quote(line, 500)).join('\n')}`),
      context(
        `Rolling back puts all traffic on ${d.liveColor ?? 'the previous colour'} (\`${d.previousVersion ?? 'previous version'}\`) in one load balancer call.`,
      ),
      {
        type: 'actions',
        block_id: ALERT_BLOCK_IDS.postWindow,
        elements: [
          button(ROLLBACK_NOW_ACTION, 'Roll back now', d.id, 'danger'),
          button(ACKNOWLEDGE_ACTION, 'Acknowledge', d.id),
        ],
      },
    ],
  };
}

/** Gates unreadable too many times in a row: the deployment holds and pages on-call. */
/** What pressing Resume will do, after a pause for unreadable gates or for a hand change. */
export const RESUME_HINTS = {
  gates: 'It will not shift further on missing data.',
  drift: 'Resume puts back what Switchyard last set and goes on; Roll back now returns to the previous version.',
} as const;

export function pausedAlert(
  d: Deployment,
  onCall: string,
  evidence: string[],
  hint: keyof typeof RESUME_HINTS = 'gates',
) {
  const weight = d.weights && d.newColor ? weightOn(d.weights[d.newColor], d.newColor) : 'its current weight';
  const text = `⏸ ${mention(onCall)} ${d.service} \`${d.version}\` is paused at ${weight}: ${quote(d.pauseReason ?? 'gates inconclusive', 500)}`;
  return {
    text,
    blocks: [
      section(`${text}. ${RESUME_HINTS[hint]}\n${evidence.map((line) => quote(line, 500)).join('\n')}`),
      {
        type: 'actions',
        block_id: ALERT_BLOCK_IDS.paused,
        elements: [
          button(RESUME_ACTION, 'Resume', d.id, 'primary'),
          button(ROLLBACK_NOW_ACTION, 'Roll back now', d.id, 'danger'),
        ],
      },
    ],
  };
}

/** The line that replaces an alert's buttons once its deployment is over: how it ended. */
export function alertEndedLine(d: Deployment): string {
  const version = `\`${d.version}\``;
  switch (d.phase) {
    case 'succeeded':
      return `✅ ${d.service} ${version} succeeded: this alert no longer needs an answer.`;
    case 'rolled-back':
      return `↩️ ${d.service} ${version} was rolled back to \`${d.previousVersion ?? 'the previous version'}\`: ${quote(d.rollbackReason ?? 'no reason given', 300)}`;
    case 'failed':
      return `❌ ${d.service} ${version} failed: ${quote(d.failureReason ?? 'unknown', 300)}`;
    default:
      return `${d.service} ${version} ended: ${d.phase}.`;
  }
}

/**
 * An alert whose deployment is over, as its message should then read: what it was about, and
 * how the deployment ended instead of the buttons (which would only be refused now).
 */
export function endedAlert(d: Deployment, alert: 'post-window' | 'paused') {
  const text =
    alert === 'post-window'
      ? `🚨 ${d.service} \`${d.version}\` breached its gates after the automatic rollback window`
      : `⏸ ${d.service} \`${d.version}\` was paused: ${quote(d.pauseReason ?? 'gates inconclusive', 500)}`;
  return { text, blocks: [section(text), context(alertEndedLine(d))] };
}
