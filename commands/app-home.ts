import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { AppContext } from '../src/app/context.js';
import { recordSlackError } from '../src/metrics.js';
import { homeData } from '../src/app/operator-data.js';
import { appHome, HOME_REFRESH_ACTION } from '../views/app-home.js';

// Block Kit builders stay free of SDK types (views/ are pure data), so the cast lives here.
type PublishedView = Parameters<WebClient['views']['publish']>[0]['view'];

/** Renders the Home tab from Redis and publishes it for one user. A failure is logged, never thrown. */
async function publishHome(ctx: AppContext, client: WebClient, user: string): Promise<void> {
  try {
    await client.views.publish({ user_id: user, view: appHome(await homeData(ctx)) as unknown as PublishedView });
  } catch (error) {
    recordSlackError('views.publish', error);
    ctx.log.warn({ err: error, user }, 'could not publish the Home tab');
  }
}

/** The App Home tab: published when a user opens it, and again on its Refresh button. */
export function registerAppHome(app: App, ctx: AppContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await publishHome(ctx, client, event.user);
  });
  app.action(HOME_REFRESH_ACTION, async ({ ack, body, client }) => {
    await ack();
    await publishHome(ctx, client, body.user.id);
  });
}
