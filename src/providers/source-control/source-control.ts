/** A commit between two refs, as the source control host lists it. */
export interface Commit {
  sha: string;
  /** The first line of the commit message. */
  subject: string;
  /** The author's login on the host, or the name in the commit when the host knows no account. */
  author?: string;
  /** The pull request the message names (`Fix checkout (#123)`), with its page. */
  pullRequest?: { number: number; url: string };
}

/** The commits `head` has that `base` has not. */
export interface Comparison {
  /** Oldest first, as the host lists them; it may list fewer than `total`. */
  commits: Commit[];
  total: number;
  /** The host's page comparing the two refs. */
  compareUrl: string;
}

/** GitHub's deployment status states that Switchyard sets. */
export type DeploymentState = 'in_progress' | 'success' | 'failure' | 'inactive';

export interface DeploymentRequest {
  /** The version being deployed: a tag, branch or SHA the host knows. */
  ref: string;
  environment: string;
  description: string;
  /** What ties the host's deployment back to Switchyard's (its id, service). */
  payload: Record<string, string>;
}

/**
 * Where a service's code lives: what changed between two versions, and the host's own record
 * of what runs where (GitHub deployments). `repo` is `owner/name`.
 */
export interface SourceControlProvider {
  compare(repo: string, base: string, head: string, options?: { signal?: AbortSignal }): Promise<Comparison>;
  /** Creates the host's deployment of `ref` to `environment`; returns its id. */
  createDeployment(repo: string, request: DeploymentRequest): Promise<number>;
  setDeploymentStatus(repo: string, id: number, state: DeploymentState, description: string): Promise<void>;
  /** Ids of the host's deployments of `ref` to `environment`, newest first. */
  deploymentsOf(repo: string, ref: string, environment: string): Promise<number[]>;
}

/**
 * A provider loaded on first use: the bot reads commit lists through it without loading the
 * host's client at start (a bot process that never announces a GitHub service never loads it).
 */
export function lazySourceControl(load: () => Promise<SourceControlProvider>): SourceControlProvider {
  let loaded: Promise<SourceControlProvider> | undefined;
  const provider = () => {
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined;
      throw error;
    });
    return loaded;
  };
  return {
    compare: async (repo, base, head, options) => (await provider()).compare(repo, base, head, options),
    createDeployment: async (repo, request) => (await provider()).createDeployment(repo, request),
    setDeploymentStatus: async (repo, id, state, description) =>
      (await provider()).setDeploymentStatus(repo, id, state, description),
    deploymentsOf: async (repo, ref, environment) => (await provider()).deploymentsOf(repo, ref, environment),
  };
}
