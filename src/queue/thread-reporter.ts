import type { Logger } from 'pino';
import type { Deployment } from '../domain/deployment.js';
import type { ChatProvider } from '../providers/chat/chat.js';
import type { DeploymentStore } from '../store/deployment-store.js';

/**
 * Posts a deployment's messages. Each message has a key and is posted once per key, so a
 * step that runs again after a crash does not repeat itself in the thread. A failed post is
 * logged and never fails the deployment step that asked for it.
 */
export class ThreadReporter {
  constructor(
    private readonly chat: ChatProvider,
    private readonly store: DeploymentStore,
    private readonly log: Logger,
  ) {}

  /** A reply in the announcement's thread. */
  async reply(d: Deployment, key: string, text: string, blocks?: Record<string, unknown>[]): Promise<void> {
    if (!d.announcementTs) return;
    const threadTs = d.announcementTs;
    await this.once(d, `reply:${key}`, () => this.chat.reply(d.channel, threadTs, text, blocks));
  }

  /** A message of its own in `channel` (#deployments, #incidents). */
  async post(d: Deployment, channel: string, key: string, text: string): Promise<void> {
    await this.once(d, `post:${channel}:${key}`, () => this.chat.post(channel, text));
  }

  /** Re-renders the announcement (status line, decision); callers skip it when nothing changed. */
  async updateAnnouncement(d: Deployment, message: { text: string; blocks: Record<string, unknown>[] }): Promise<void> {
    if (!d.announcementTs) return;
    try {
      await this.chat.update(d.channel, d.announcementTs, message.text, message.blocks);
    } catch (error) {
      this.log.warn({ err: error, deploymentId: d.id }, 'could not update the announcement');
    }
  }

  private async once(d: Deployment, key: string, send: () => Promise<{ ts: string }>): Promise<void> {
    if (await this.store.postedTs(d.id, key)) return;
    try {
      const posted = await send();
      await this.store.markPosted(d.id, key, posted.ts);
    } catch (error) {
      this.log.warn({ err: error, deploymentId: d.id, key }, 'could not post to Slack');
    }
  }
}
