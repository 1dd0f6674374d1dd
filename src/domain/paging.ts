/**
 * Why Switchyard pages on-call about a deployment. Each cause is one open problem at a time,
 * named by its dedup key, so a repeated page updates the open one and a resolve closes it.
 */
export type PageCause =
  /** A rollback did not restore the previous version's traffic: users may still be hurt. */
  | 'rollback-failed'
  /** A gate breached after the rollback window, when Switchyard no longer rolls back on its own. */
  | 'breach'
  /** The deployment paused (metrics unavailable, a hold it cannot leave alone) and waits for a person. */
  | 'pause';

export const PAGE_CAUSES: readonly PageCause[] = ['rollback-failed', 'breach', 'pause'];

/** How bad it is, in the words the paging service uses for an alert's severity. */
export type PageSeverity = 'critical' | 'error' | 'warning';

const SEVERITY: Record<PageCause, PageSeverity> = {
  'rollback-failed': 'critical',
  breach: 'error',
  pause: 'warning',
};

export const severityOf = (cause: PageCause): PageSeverity => SEVERITY[cause];

const PREFIX = 'switchyard-';

/** The longest dedup key the paging service keeps. */
export const MAX_DEDUP_KEY_LENGTH = 255;

/** `switchyard-<deployment id>-<cause>`: the same deployment and cause always give the same key. */
export function pageKey(deploymentId: string, cause: PageCause): string {
  if (deploymentId.length === 0) throw new Error('a page needs a deployment id');
  const key = `${PREFIX}${deploymentId}-${cause}`;
  if (key.length > MAX_DEDUP_KEY_LENGTH) {
    throw new Error(`page key for deployment ${deploymentId.slice(0, 40)}… is longer than ${MAX_DEDUP_KEY_LENGTH}`);
  }
  return key;
}

/** The key and severity of the page for `cause` on a deployment. */
export const pageFor = (deploymentId: string, cause: PageCause): { dedupKey: string; severity: PageSeverity } => ({
  dedupKey: pageKey(deploymentId, cause),
  severity: severityOf(cause),
});

/**
 * The deployment and cause a key was made from, or undefined for a key Switchyard did not make.
 * The cause is matched at the end, so a deployment id may itself contain dashes.
 */
export function parsePageKey(key: string): { deploymentId: string; cause: PageCause } | undefined {
  if (!key.startsWith(PREFIX)) return undefined;
  const rest = key.slice(PREFIX.length);
  for (const cause of PAGE_CAUSES) {
    const suffix = `-${cause}`;
    if (rest.endsWith(suffix) && rest.length > suffix.length) {
      return { deploymentId: rest.slice(0, -suffix.length), cause };
    }
  }
  return undefined;
}
