import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { FaultControls, sendJson, startHttpStandIn, type RecordedRequest, type StandIn } from './http-server.js';

/** A commit as a test writes it into a repository's history. */
export interface StandInCommit {
  message: string;
  /** The author's GitHub login; a commit by someone without an account has none. */
  login?: string;
  name?: string;
  /** Derived from the message and position when not given. */
  sha?: string;
}

export interface StandInDeployment {
  id: number;
  repo: string;
  ref: string;
  environment: string;
  description: string | null;
  payload: unknown;
  autoMerge: unknown;
  requiredContexts: unknown;
  createdAt: string;
  /** Each status set on it, in order. */
  statuses: { state: string; description: string; autoInactive: unknown }[];
}

export interface GitHubStandIn extends StandIn {
  /** The token it accepts (`Authorization: token …` or `Bearer …`). */
  token: string;
  /**
   * A repository's default branch as a list of commits, oldest first, and the tags pointing
   * into it (tag → index of its commit). A commit's SHA (or a prefix of 7 or more) is a ref too.
   */
  setHistory(repo: string, commits: StandInCommit[], tags: Record<string, number>): void;
  /** The SHA of the commit at `index` in a repository's history. */
  shaAt(repo: string, index: number): string;
  deployments: StandInDeployment[];
  /** The states set on the deployments of `ref`, in order, e.g. ['in_progress', 'success']. */
  statesOf(repo: string, ref: string): string[];
  reset(): void;
  faults: FaultControls;
  requests: RecordedRequest[];
}

const STATES = ['error', 'failure', 'inactive', 'in_progress', 'queued', 'pending', 'success'];
const DOCS = 'https://docs.github.com/rest';

const shaOf = (repo: string, index: number, message: string): string =>
  createHash('sha1').update(`${repo}\0${index}\0${message}`).digest('hex');

const notFound = (res: ServerResponse): void => sendJson(res, 404, { message: 'Not Found', documentation_url: DOCS });
const invalid = (res: ServerResponse, message: string): void =>
  sendJson(res, 422, {
    message: 'Validation Failed',
    errors: [{ resource: 'Deployment', code: 'custom', message }],
    documentation_url: DOCS,
  });

const user = (login: string, base: string) => ({
  login,
  id: login.length,
  node_id: `U_${login}`,
  avatar_url: `https://avatars.githubusercontent.com/${login}`,
  gravatar_id: '',
  url: `${base}/users/${login}`,
  html_url: `https://github.com/${login}`,
  type: 'User',
  site_admin: false,
});

/**
 * GitHub's REST API, the endpoints Switchyard uses, in the shapes of GitHub's published OpenAPI
 * description: compare two commits (`commit-comparison`), create and list deployments
 * (`deployment`), and create deployment statuses (`deployment-status`). Unknown refs and
 * repositories answer 404 as GitHub does; a request without the token answers 401.
 */
export async function startGitHubStandIn(token = 'ghp_sandboxSandboxSandbox0000000000000'): Promise<GitHubStandIn> {
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  const histories = new Map<string, { commits: (StandInCommit & { sha: string })[]; tags: Record<string, number> }>();
  const deployments: StandInDeployment[] = [];
  let nextId = 1000;

  const resolve = (repo: string, ref: string): number | undefined => {
    const history = histories.get(repo);
    if (!history) return undefined;
    if (Object.hasOwn(history.tags, ref)) return history.tags[ref];
    if (ref.length < 7) return undefined;
    const index = history.commits.findIndex((c) => c.sha.startsWith(ref));
    return index < 0 ? undefined : index;
  };

  const wireCommit = (repo: string, c: StandInCommit & { sha: string }, parent: string | undefined, base: string) => ({
    url: `${base}/repos/${repo}/commits/${c.sha}`,
    sha: c.sha,
    node_id: `C_${c.sha.slice(0, 12)}`,
    html_url: `https://github.com/${repo}/commit/${c.sha}`,
    comments_url: `${base}/repos/${repo}/commits/${c.sha}/comments`,
    commit: {
      url: `${base}/repos/${repo}/git/commits/${c.sha}`,
      author: { name: c.name ?? c.login ?? 'someone', email: 'dev@example.com', date: '2026-12-01T12:00:00Z' },
      committer: { name: 'GitHub', email: 'noreply@github.com', date: '2026-12-01T12:00:00Z' },
      message: c.message,
      comment_count: 0,
      tree: { sha: c.sha, url: `${base}/repos/${repo}/git/trees/${c.sha}` },
    },
    author: c.login ? user(c.login, base) : null,
    committer: user('web-flow', base),
    parents: parent
      ? [
          {
            sha: parent,
            url: `${base}/repos/${repo}/commits/${parent}`,
            html_url: `https://github.com/${repo}/commit/${parent}`,
          },
        ]
      : [],
  });

  const wireDeployment = (d: StandInDeployment, base: string) => {
    const url = `${base}/repos/${d.repo}/deployments/${d.id}`;
    return {
      url,
      id: d.id,
      node_id: `DE_${d.id}`,
      sha: d.ref,
      ref: d.ref,
      task: 'deploy',
      payload: d.payload,
      original_environment: d.environment,
      environment: d.environment,
      description: d.description,
      creator: user('switchyard[bot]', base),
      created_at: d.createdAt,
      updated_at: d.createdAt,
      statuses_url: `${url}/statuses`,
      repository_url: `${base}/repos/${d.repo}`,
      transient_environment: false,
      production_environment: d.environment === 'production',
    };
  };

  const compare = (repo: string, basehead: string, base: string, res: ServerResponse): void => {
    const [from = '', to = ''] = decodeURIComponent(basehead).split('...');
    const history = histories.get(repo);
    const start = resolve(repo, from);
    const end = resolve(repo, to);
    if (!history || start === undefined || end === undefined) return notFound(res);
    const ahead = Math.max(0, end - start);
    const behind = Math.max(0, start - end);
    const listed = history.commits.slice(start + 1, end + 1);
    const at = (index: number) =>
      wireCommit(
        repo,
        history.commits[index] as StandInCommit & { sha: string },
        history.commits[index - 1]?.sha,
        base,
      );
    sendJson(res, 200, {
      url: `${base}/repos/${repo}/compare/${from}...${to}`,
      html_url: `https://github.com/${repo}/compare/${from}...${to}`,
      permalink_url: `https://github.com/${repo}/compare/${history.commits[start]?.sha}...${history.commits[end]?.sha}`,
      diff_url: `https://github.com/${repo}/compare/${from}...${to}.diff`,
      patch_url: `https://github.com/${repo}/compare/${from}...${to}.patch`,
      base_commit: at(start),
      merge_base_commit: at(Math.min(start, end)),
      status: ahead > 0 ? 'ahead' : behind > 0 ? 'behind' : 'identical',
      ahead_by: ahead,
      behind_by: behind,
      total_commits: ahead,
      // GitHub lists at most 250 commits in a comparison, oldest first.
      commits: listed.slice(0, 250).map((_, i) => at(start + 1 + i)),
      files: [],
    });
  };

  const handler = (req: RecordedRequest, res: ServerResponse): void => {
    const auth = req.headers.authorization ?? '';
    if (auth !== `token ${token}` && auth !== `Bearer ${token}`)
      return sendJson(res, 401, { message: 'Bad credentials', documentation_url: DOCS });
    const base = `http://${req.headers.host ?? '127.0.0.1'}`;
    const match = /^\/repos\/([^/]+)\/([^/]+)\/(compare\/(.+)|deployments(?:\/(\d+)\/statuses)?)$/.exec(req.path);
    if (!match) return notFound(res);
    const repo = `${match[1]}/${match[2]}`;
    if (match[4] !== undefined && req.method === 'GET') return compare(repo, match[4], base, res);
    if (!histories.has(repo)) return notFound(res);
    if (match[5] !== undefined && req.method === 'POST') {
      const deployment = deployments.find((d) => d.repo === repo && d.id === Number(match[5]));
      if (!deployment) return notFound(res);
      const body = JSON.parse(req.body || '{}') as { state?: string; description?: string; auto_inactive?: unknown };
      if (!body.state || !STATES.includes(body.state)) return invalid(res, `state is not included in the list`);
      if ((body.description ?? '').length > 140)
        return invalid(res, 'description is too long (maximum is 140 characters)');
      const status = { state: body.state, description: body.description ?? '', autoInactive: body.auto_inactive };
      deployment.statuses.push(status);
      return sendJson(res, 201, {
        url: `${base}/repos/${repo}/deployments/${deployment.id}/statuses/${deployment.statuses.length}`,
        id: deployment.statuses.length,
        node_id: `DES_${deployment.id}_${deployment.statuses.length}`,
        state: status.state,
        creator: user('switchyard[bot]', base),
        description: status.description,
        environment: deployment.environment,
        target_url: '',
        created_at: new Date().toISOString(),
        updated_at: new Date().toISOString(),
        deployment_url: `${base}/repos/${repo}/deployments/${deployment.id}`,
        repository_url: `${base}/repos/${repo}`,
        environment_url: '',
        log_url: '',
      });
    }
    if (match[3] === 'deployments' && req.method === 'POST') {
      const body = JSON.parse(req.body || '{}') as Record<string, unknown>;
      if (typeof body.ref !== 'string' || resolve(repo, body.ref) === undefined)
        return sendJson(res, 422, { message: `No ref found for: ${String(body.ref)}`, documentation_url: DOCS });
      const deployment: StandInDeployment = {
        id: nextId++,
        repo,
        ref: body.ref,
        environment: typeof body.environment === 'string' ? body.environment : 'production',
        description: typeof body.description === 'string' ? body.description : null,
        payload: body.payload ?? {},
        autoMerge: body.auto_merge,
        requiredContexts: body.required_contexts,
        createdAt: new Date().toISOString(),
        statuses: [],
      };
      deployments.push(deployment);
      return sendJson(res, 201, wireDeployment(deployment, base));
    }
    if (match[3] === 'deployments' && req.method === 'GET') {
      const ref = req.query.get('ref');
      const environment = req.query.get('environment');
      const found = deployments
        .filter((d) => d.repo === repo && (!ref || d.ref === ref) && (!environment || d.environment === environment))
        .reverse();
      return sendJson(
        res,
        200,
        found.slice(0, Number(req.query.get('per_page') ?? 30)).map((d) => wireDeployment(d, base)),
      );
    }
    return notFound(res);
  };

  const server = await startHttpStandIn(handler, { faults, log: requests });
  return {
    ...server,
    token,
    deployments,
    faults,
    requests,
    setHistory(repo, commits, tags) {
      histories.set(repo, {
        commits: commits.map((c, i) => ({ ...c, sha: c.sha ?? shaOf(repo, i, c.message) })),
        tags,
      });
    },
    shaAt(repo, index) {
      const sha = histories.get(repo)?.commits[index]?.sha;
      if (!sha) throw new Error(`${repo} has no commit ${index}`);
      return sha;
    },
    statesOf(repo, ref) {
      return deployments.filter((d) => d.repo === repo && d.ref === ref).flatMap((d) => d.statuses.map((s) => s.state));
    },
    reset() {
      deployments.length = 0;
      requests.length = 0;
      faults.clear();
    },
  };
}
