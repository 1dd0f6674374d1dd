import type { PageSeverity } from '../../domain/paging.js';

export interface PageLink {
  href: string;
  text?: string;
}

/** One problem on-call is paged about, named by its dedup key (see `pageFor` in domain/paging). */
export interface Page {
  /** The catalog service it concerns: its own routing key, where it has one, takes the page. */
  service: string;
  dedupKey: string;
  severity: PageSeverity;
  /** One line on-call reads first; cut to what the paging service keeps. */
  summary: string;
  /** Where the problem is, e.g. `acme-api/prod`. */
  source: string;
  /** The deployment's thread, dashboards… */
  links?: PageLink[];
  /** Free-form facts shown with the alert (version, step, evidence). */
  details?: Record<string, unknown>;
}

/** An incident open on a paging service that should stop a deployment from starting. */
export interface Incident {
  id: string;
  title: string;
  status: 'triggered' | 'acknowledged';
  urgency: 'high' | 'low';
  /** The incident's page, for a link in Slack. */
  url: string;
}

/**
 * Pages on-call and reads their open incidents. Every call is bounded by a deadline; failures
 * are `ProviderFailed` saying whether another try may succeed.
 */
export interface PagingProvider {
  /** Whether incidents can be read (a REST API token is configured). */
  readonly readsIncidents: boolean;
  /** Opens the page, or updates the open one with the same dedup key. */
  trigger(page: Page): Promise<void>;
  /** Closes the page with this dedup key; closing one that is not open is not an error. */
  resolve(page: { service: string; dedupKey: string }): Promise<void>;
  /** Triggered or acknowledged high-urgency incidents of the paging service `serviceId`. */
  openHighUrgencyIncidents(serviceId: string): Promise<Incident[]>;
}
