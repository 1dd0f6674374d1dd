import { weightOn } from '../src/domain/color.js';
import type { Deployment } from '../src/domain/deployment.js';
import { context, mention, quote, section } from './text.js';

export const ROLLBACK_NOW_ACTION = 'rollback_now';
export const ACKNOWLEDGE_ACTION = 'acknowledge_alert';
export const RESUME_ACTION = 'resume_deployment';

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
        block_id: 'alert',
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
        block_id: 'paused',
        elements: [
          button(RESUME_ACTION, 'Resume', d.id, 'primary'),
          button(ROLLBACK_NOW_ACTION, 'Roll back now', d.id, 'danger'),
        ],
      },
    ],
  };
}
