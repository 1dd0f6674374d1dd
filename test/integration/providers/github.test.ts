import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readChanges } from '../../../commands/change-list.js';
import { loadConfig } from '../../../src/config.js';
import { ProviderFailed } from '../../../src/errors.js';
import { createLogger, secretsIn } from '../../../src/logger.js';
import { GitHubSourceControl } from '../../../src/providers/source-control/github.js';
import { startGitHubStandIn, type GitHubStandIn } from '../../../sandbox/github.js';

/** The GitHub adapter on @octokit/rest against the stand-in of GitHub's REST API. */

const REPO = 'acme/acme-api';
let github: GitHubStandIn;
let adapter: GitHubSourceControl;

beforeAll(async () => {
  github = await startGitHubStandIn();
  adapter = new GitHubSourceControl({ token: github.token, apiUrl: github.url, timeoutMs: 1000 });
});
afterAll(async () => github.close());
beforeEach(() => {
  github.reset();
  const commits = Array.from({ length: 26 }, (_, i) => ({ message: `Change ${i} (#${100 + i})`, login: `dev${i}` }));
  github.setHistory(REPO, commits, { 'v1.0.0': 0, 'v2.0.0': 25 });
});

describe('GitHubSourceControl', () => {
  it('compare: every commit GitHub lists, oldest first, its PR from the subject, the total and the compare page', async () => {
    const comparison = await adapter.compare(REPO, 'v1.0.0', 'v2.0.0');
    expect(comparison.total).toBe(25);
    expect(comparison.compareUrl).toBe('https://github.com/acme/acme-api/compare/v1.0.0...v2.0.0');
    expect(comparison.commits).toHaveLength(25);
    expect(comparison.commits[0]).toEqual({
      sha: github.shaAt(REPO, 1),
      subject: 'Change 1 (#101)',
      author: 'dev1',
      pullRequest: { number: 101, url: 'https://github.com/acme/acme-api/pull/101' },
    });
    const [request] = github.requests;
    expect(request?.headers.authorization).toBe(`token ${github.token}`);
    expect(request?.headers.accept).toBe('application/vnd.github.v3+json');
  });

  it('readChanges keeps the newest 20, newest first, and counts the rest', async () => {
    const changes = await readChanges(adapter, REPO, 'v1.0.0', 'v2.0.0', 2000);
    expect(changes).toMatchObject({ kind: 'listed', total: 25, from: 'v1.0.0', to: 'v2.0.0' });
    if (changes.kind !== 'listed') throw new Error('not listed');
    expect(changes.commits).toHaveLength(20);
    expect(changes.commits[0]?.subject).toBe('Change 25 (#125)');
    expect(changes.commits[19]?.subject).toBe('Change 6 (#106)');
  });

  it('a version GitHub does not know, a 500 and a hang are reported, never thrown past readChanges', async () => {
    expect(await readChanges(adapter, REPO, 'v1.0.0', 'v9.9.9', 2000)).toMatchObject({
      kind: 'unavailable',
      reason: expect.stringContaining('(404)'),
    });
    github.faults.inject({ status: 500, body: '{"message":"Server Error"}' });
    await expect(adapter.compare(REPO, 'v1.0.0', 'v2.0.0')).rejects.toMatchObject({
      retriable: true,
      message: expect.stringContaining('(500)'),
    });
    github.faults.inject({ hang: true });
    expect(await readChanges(adapter, REPO, 'v1.0.0', 'v2.0.0', 300)).toEqual({
      kind: 'unavailable',
      from: 'v1.0.0',
      to: 'v2.0.0',
      reason: 'GitHub did not answer within 0.3 s',
    });
    github.faults.inject({ hang: true });
    await expect(adapter.compare(REPO, 'v1.0.0', 'v2.0.0')).rejects.toThrow(ProviderFailed);
  });

  it('deployments: created with auto_merge off and no required contexts; statuses in order; listed by ref and environment', async () => {
    const id = await adapter.createDeployment(REPO, {
      ref: 'v2.0.0',
      environment: 'production',
      description: 'acme-api v2.0.0',
      payload: { deploymentId: 'acme-api-1' },
    });
    await adapter.setDeploymentStatus(REPO, id, 'in_progress', 'deploying');
    await adapter.setDeploymentStatus(REPO, id, 'success', 'x'.repeat(300));
    expect(github.deployments).toEqual([
      expect.objectContaining({
        id,
        ref: 'v2.0.0',
        environment: 'production',
        autoMerge: false,
        requiredContexts: [],
        payload: { deploymentId: 'acme-api-1' },
      }),
    ]);
    expect(github.statesOf(REPO, 'v2.0.0')).toEqual(['in_progress', 'success']);
    expect(github.deployments[0]?.statuses[1]?.description).toHaveLength(140);
    expect(await adapter.deploymentsOf(REPO, 'v2.0.0', 'production')).toEqual([id]);
    expect(await adapter.deploymentsOf(REPO, 'v2.0.0', 'staging')).toEqual([]);
    // GitHub refuses a ref it does not know: not worth retrying.
    await expect(
      adapter.createDeployment(REPO, { ref: 'nope', environment: 'production', description: '', payload: {} }),
    ).rejects.toMatchObject({ retriable: false });
  });

  it('a wrong token is refused by GitHub (401) and reported as such', async () => {
    const wrong = new GitHubSourceControl({ token: 'ghp_wrong', apiUrl: github.url });
    await expect(wrong.compare(REPO, 'v1.0.0', 'v2.0.0')).rejects.toMatchObject({
      retriable: false,
      message: expect.stringContaining('(401)'),
    });
  });
});

describe('GitHub configuration', () => {
  const REQUIRED = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret' };

  it('GITHUB_TOKEN turns the provider on; GITHUB_API_URL must be an http(s) URL', () => {
    expect(loadConfig(REQUIRED).GITHUB_TOKEN).toBeUndefined();
    expect(() => loadConfig({ ...REQUIRED, GITHUB_API_URL: 'api.github.com' })).toThrow(
      'GITHUB_API_URL must be an http(s) URL such as https://api.github.com',
    );
    expect(loadConfig({ ...REQUIRED, GITHUB_TOKEN: 'ghp_x', GITHUB_API_URL: github.url })).toMatchObject({
      GITHUB_TOKEN: 'ghp_x',
      GITHUB_API_URL: github.url,
    });
  });

  it('the token never reaches the logs', () => {
    const token = 'ghp_0123456789abcdefSECRET';
    expect(secretsIn({ GITHUB_TOKEN: token })).toEqual([token]);
    const lines: string[] = [];
    const log = createLogger(
      'info',
      { write: (line: string) => void lines.push(line) },
      secretsIn({ GITHUB_TOKEN: token }),
    );
    log.info({ config: { GITHUB_TOKEN: token } }, `calling GitHub with ${token}`);
    expect(lines.join('')).not.toContain(token);
  });
});
