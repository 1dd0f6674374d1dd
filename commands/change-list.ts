import type { AppContext } from '../src/app/context.js';
import { MAX_LISTED_COMMITS, type ChangeList } from '../src/domain/changes.js';
import type { Deployment } from '../src/domain/deployment.js';
import { environmentOf } from '../src/domain/environment-of.js';
import { describeError } from '../src/errors.js';
import type { SourceControlProvider } from '../src/providers/source-control/source-control.js';
import { currentAnnouncement } from '../views/announcement.js';

/** How long the commit list may take to read; after that the announcement says it is unavailable. */
export const CHANGES_WAIT_MS = 2_000;
/** Deployments looked through for the live version. */
const HISTORY_SCAN = 50;

/** The version that serves users now: that of the service's newest succeeded deployment in the same environment. */
async function liveVersion(ctx: AppContext, d: Deployment): Promise<string | undefined> {
  const history = await ctx.store.history(d.service, HISTORY_SCAN);
  return history.find((r) => r.id !== d.id && r.phase === 'succeeded' && environmentOf(r) === environmentOf(d))
    ?.version;
}

/**
 * The commits between `from` and `to`, or why they cannot be listed: GitHub failed, refused
 * (a version it does not know), or did not answer within `waitMs` (the call is then abandoned).
 */
export async function readChanges(
  source: SourceControlProvider,
  repo: string,
  from: string,
  to: string,
  waitMs: number,
): Promise<ChangeList> {
  const abandon = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`GitHub did not answer within ${waitMs / 1000} s`)), waitMs);
  });
  try {
    const comparison = await Promise.race([source.compare(repo, from, to, { signal: abandon.signal }), late]);
    return {
      kind: 'listed',
      from,
      to,
      // Newest first, as people read a changelog.
      commits: comparison.commits.slice(-MAX_LISTED_COMMITS).reverse(),
      total: comparison.total,
      compareUrl: comparison.compareUrl,
    };
  } catch (error) {
    return { kind: 'unavailable', from, to, reason: describeError(error) };
  } finally {
    clearTimeout(timer);
    abandon.abort();
  }
}

/**
 * After the announcement was asked for: reads the commits since the live version (bounded),
 * keeps them beside the deployment's intents, and has the outbox re-render the announcement
 * with them. Nothing waits on it: the handler does not await it, and the deployment goes on
 * whatever GitHub does. A service without `github`, a first deployment, or no GITHUB_TOKEN
 * lists nothing.
 */
export async function announceChanges(ctx: AppContext, d: Deployment, waitMs = CHANGES_WAIT_MS): Promise<void> {
  const repo = ctx.catalog.services[d.service]?.github?.repo;
  if (!repo || !ctx.sourceControl) return;
  const from = await liveVersion(ctx, d);
  if (!from || from === d.version) return;
  const changes = await readChanges(ctx.sourceControl, repo, from, d.version, waitMs);
  if (changes.kind === 'unavailable')
    ctx.log.warn({ deploymentId: d.id, repo, reason: changes.reason }, 'the commit list is unavailable');
  if (!(await ctx.store.recordChanges(d.id, changes))) return;
  const loaded = await ctx.store.load(d.id);
  if (!loaded) return;
  const { deployment, intents } = loaded;
  const message = currentAnnouncement(deployment, ctx.catalog.slack.onCall, ctx.clock(), intents);
  await ctx.outbox.announce({
    deploymentId: d.id,
    channel: deployment.channel,
    ts: deployment.announcementTs,
    text: message.text,
    blocks: message.blocks,
  });
}
