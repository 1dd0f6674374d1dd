import type { Deployment } from '../domain/deployment.js';
import type { Blocks } from '../providers/chat/chat.js';
import type { SlackOutbox } from './slack-outbox.js';

/**
 * What a deployment says in Slack, by key: each key is one message, however often a step
 * that runs again (after a crash, a retry) asks for it. Sending is the outbox's job, so a
 * slow or failing Slack never holds up a step.
 */
export class ThreadReporter {
  constructor(private readonly outbox: SlackOutbox) {}

  /** A reply in the announcement's thread. */
  async reply(d: Deployment, key: string, text: string, blocks?: Blocks): Promise<void> {
    if (!d.announcementTs) return;
    await this.outbox.send({
      deploymentId: d.id,
      key: `reply:${key}`,
      channel: d.channel,
      threadTs: d.announcementTs,
      text,
      blocks,
    });
  }

  /** A message of its own in `channel` (#deployments, #incidents). */
  async post(d: Deployment, channel: string, key: string, text: string): Promise<void> {
    await this.outbox.send({ deploymentId: d.id, key: `post:${channel}:${key}`, channel, text });
  }

  /** Re-renders the announcement (status line, decision); callers skip it when nothing changed. */
  async updateAnnouncement(d: Deployment, message: { text: string; blocks: Blocks }): Promise<void> {
    if (!d.announcementTs) return;
    await this.outbox.announce(d.id, d.channel, d.announcementTs, message.text, message.blocks);
  }
}
