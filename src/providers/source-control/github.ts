import { Octokit } from '@octokit/rest';
import { ProviderFailed } from '../../errors.js';
import type {
  Commit,
  Comparison,
  DeploymentRequest,
  DeploymentState,
  SourceControlProvider,
} from './source-control.js';

export const DEFAULT_GITHUB_API_URL = 'https://api.github.com';
export const DEFAULT_GITHUB_TIMEOUT_MS = 10_000;

export interface GitHubOptions {
  token: string;
  /** REST API root: https://api.github.com, or `https://<host>/api/v3` for GitHub Enterprise Server. */
  apiUrl?: string;
  /** Deadline of each call. */
  timeoutMs?: number;
}

/** `Fix checkout (#123)`, GitHub's squash-merge subject, and `Merge pull request #123 from …`. */
const PULL_REQUEST = /\(#(\d+)\)\s*$|^Merge pull request #(\d+)\b/;

/** `https://github.com/acme/acme-api` from a compare page's address; undefined when it is not one. */
const repositoryPage = (compareUrl: string): string | undefined => {
  const match = /^(https?:\/\/[^\s<>|]+?)\/compare\/[^\s<>|]+$/.exec(compareUrl);
  return match?.[1];
};

const splitRepo = (repo: string): { owner: string; repo: string } => {
  const [owner = '', name = ''] = repo.split('/');
  return { owner, repo: name };
};

const statusOf = (error: unknown): number | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { status?: unknown }).status === 'number'
    ? (error as { status: number }).status
    : undefined;

/**
 * GitHub through its official REST client (`@octokit/rest`): the compare API for what changed,
 * the deployments API for what runs where. Failures become `ProviderFailed`, retriable unless
 * GitHub refused the request itself (a 4xx other than 408 and 429).
 */
export class GitHubSourceControl implements SourceControlProvider {
  private readonly octokit: Octokit;
  private readonly timeoutMs: number;

  constructor(options: GitHubOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_GITHUB_TIMEOUT_MS;
    this.octokit = new Octokit({
      auth: options.token,
      baseUrl: (options.apiUrl ?? DEFAULT_GITHUB_API_URL).replace(/\/+$/, ''),
      userAgent: 'switchyard',
      // Octokit writes its warnings (deprecations) to the console; Switchyard logs JSON lines only.
      log: { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined },
    });
  }

  /** One call with its deadline (and the caller's signal, when given), its failure made a ProviderFailed. */
  private async call<T>(what: string, run: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const deadline = AbortSignal.timeout(this.timeoutMs);
    try {
      return await run(signal ? AbortSignal.any([signal, deadline]) : deadline);
    } catch (error) {
      const status = statusOf(error);
      const aborted = error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
      const detail = aborted
        ? `no answer within ${this.timeoutMs} ms`
        : error instanceof Error
          ? error.message.split('\n')[0]
          : String(error);
      throw new ProviderFailed(`GitHub ${what} failed${status && !aborted ? ` (${status})` : ''}: ${detail}`, {
        cause: error,
        retriable: aborted || status === undefined || status === 408 || status === 429 || status >= 500,
      });
    }
  }

  async compare(repo: string, base: string, head: string, options: { signal?: AbortSignal } = {}): Promise<Comparison> {
    const { data } = await this.call(
      `compare ${repo} ${base}...${head}`,
      (signal) => this.octokit.repos.compareCommits({ ...splitRepo(repo), base, head, request: { signal } }),
      options.signal,
    );
    const page = repositoryPage(data.html_url);
    const commits = data.commits.map((c): Commit => {
      const subject = c.commit.message.split('\n')[0] ?? '';
      const match = PULL_REQUEST.exec(subject);
      const number = match ? Number(match[1] ?? match[2]) : undefined;
      const author = c.author?.login ?? c.commit.author?.name ?? undefined;
      return {
        sha: c.sha,
        subject,
        ...(author ? { author } : {}),
        ...(number !== undefined && page ? { pullRequest: { number, url: `${page}/pull/${number}` } } : {}),
      };
    });
    return { commits, total: data.total_commits, compareUrl: data.html_url };
  }

  async createDeployment(repo: string, request: DeploymentRequest): Promise<number> {
    const { data } = await this.call(`create deployment of ${request.ref} in ${repo}`, (signal) =>
      this.octokit.repos.createDeployment({
        ...splitRepo(repo),
        ref: request.ref,
        environment: request.environment,
        description: request.description,
        payload: request.payload,
        // Switchyard deploys what it was asked to: no merge of the default branch, no wait on checks.
        auto_merge: false,
        required_contexts: [],
        request: { signal },
      }),
    );
    // 202 is GitHub merging the default branch first; with auto_merge off it does not happen.
    if (!('id' in data)) throw new ProviderFailed(`GitHub did not create the deployment: ${data.message ?? ''}`);
    return data.id;
  }

  async setDeploymentStatus(repo: string, id: number, state: DeploymentState, description: string): Promise<void> {
    await this.call(`set deployment ${id} of ${repo} to ${state}`, (signal) =>
      this.octokit.repos.createDeploymentStatus({
        ...splitRepo(repo),
        deployment_id: id,
        state,
        // GitHub keeps at most 140 characters.
        description: description.slice(0, 140),
        // Switchyard marks the deployment it replaced inactive itself, in every environment.
        auto_inactive: false,
        request: { signal },
      }),
    );
  }

  async deploymentsOf(repo: string, ref: string, environment: string): Promise<number[]> {
    const { data } = await this.call(`list deployments of ${ref} in ${repo}`, (signal) =>
      this.octokit.repos.listDeployments({ ...splitRepo(repo), ref, environment, per_page: 100, request: { signal } }),
    );
    return data.map((deployment) => deployment.id);
  }
}
