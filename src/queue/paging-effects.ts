import type { Deployment } from '../domain/deployment.js';
import { pageFor, type PageCause } from '../domain/paging.js';
import type { Page, PagingProvider } from '../providers/paging/paging.js';
import type { EffectHandlers, EffectOutbox } from './effect-outbox.js';

export const PAGE_TRIGGER = 'page-trigger';
export const PAGE_RESOLVE = 'page-resolve';

/** The effect outbox's calls to PagerDuty: a failure throws, and the outbox retries it. */
export const pagingEffects = (paging: PagingProvider): EffectHandlers => ({
  [PAGE_TRIGGER]: (page: Page) => paging.trigger(page),
  [PAGE_RESOLVE]: (page: { service: string; dedupKey: string }) => paging.resolve(page),
});

/**
 * Pages on-call through the effect outbox. Keys name the cause and its occurrence (a pause's
 * time), so a tick that runs again asks for the same effect and PagerDuty gets it once, and a
 * second pause of one deployment opens a page of its own; one lane per cause keeps a resolve
 * behind its trigger.
 */
export class Pager {
  constructor(private readonly effects: EffectOutbox) {}

  async trigger(
    d: Deployment,
    cause: PageCause,
    occurrence: string | number,
    summary: string,
    details: Record<string, unknown> = {},
  ): Promise<void> {
    const { dedupKey, severity } = pageFor(d.id, cause);
    const page: Page = {
      service: d.service,
      dedupKey,
      severity,
      summary,
      source: `switchyard/${d.service}`,
      details: { deployment: d.id, service: d.service, version: d.version, ...details },
      ...(d.announcementLink ? { links: [{ href: d.announcementLink, text: 'Deployment thread in Slack' }] } : {}),
    };
    await this.effects.send({
      deploymentId: d.id,
      key: `page:${cause}:trigger:${occurrence}`,
      lane: `page:${cause}`,
      kind: PAGE_TRIGGER,
      payload: page,
    });
  }

  async resolve(d: Deployment, cause: PageCause, occurrence: string | number): Promise<void> {
    await this.effects.send({
      deploymentId: d.id,
      key: `page:${cause}:resolve:${occurrence}`,
      lane: `page:${cause}`,
      kind: PAGE_RESOLVE,
      payload: { service: d.service, dedupKey: pageFor(d.id, cause).dedupKey },
    });
  }
}
