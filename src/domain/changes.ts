/** A commit as the announcement lists it. */
export interface ListedCommit {
  sha: string;
  /** The first line of its message. */
  subject: string;
  author?: string;
  /** The pull request its message names (`… (#123)`), with its page. */
  pullRequest?: { number: number; url: string };
}

/**
 * What changed between the live version and the new one, as the source control host told it
 * after the deployment was announced: the newest commits (at most `MAX_LISTED_COMMITS`) with
 * the count of all and the compare page, or why the list could not be read.
 */
export type ChangeList =
  | { kind: 'listed'; from: string; to: string; commits: ListedCommit[]; total: number; compareUrl: string }
  | { kind: 'unavailable'; from: string; to: string; reason: string };

/** Commits shown in the announcement; the rest are counted. */
export const MAX_LISTED_COMMITS = 20;
