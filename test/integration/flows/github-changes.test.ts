import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../../sandbox/slack-workspace.js';
import { CHANNELS } from '../../../sandbox/sandbox.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * The announcement lists the commits between the live version and the new one, read from
 * GitHub (the sandbox's stand-in of its REST API) after the checklist was acknowledged; a
 * GitHub that fails or hangs only makes the announcement say the list is unavailable.
 */

const REPO = 'acme/acme-api';
let h: Harness;

const HISTORY = [
  { message: 'Release 1.5.0', login: 'release-bot' },
  { message: 'Fix checkout rounding (#123)\n\nLong body that is not shown.', login: 'alice' },
  { message: 'Say hello <!channel> and <@U0RM1> <https://evil.example|docs> (#124)', login: 'mallory' },
  { message: 'Refactor the payment client', name: 'Bob Without Account' },
  { message: 'Release 1.7.0', login: 'release-bot' },
  { message: 'Release 1.8.0', login: 'release-bot' },
];
const TAGS = { 'v1.5.0': 0, 'v1.6.0': 3, 'v1.7.0': 4, 'v1.8.0': 5 };

const text = (message: SlackMessage): string => JSON.stringify(message.blocks ?? []);

/** The announcement of `version`, once it reads as `probe` wants. */
const announcementOf = (version: string, probe: (blocks: string) => boolean, timeoutMs = 10_000) =>
  until(
    () =>
      h.sandbox.slack
        .messages(CHANNELS.deployments)
        .find(
          (m) =>
            !m.thread_ts && m.text.includes(`Production Deployment Scheduled: acme-api ${version}`) && probe(text(m)),
        ),
    timeoutMs,
    `the announcement of ${version}`,
  );

/** Requests `version` through Slack and returns its announcement as first posted. */
async function request(version: string): Promise<void> {
  const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
  const submitted = await h.requester.submitChecklist(view);
  expect(submitted.status).toBe(200);
  expect(submitted.body).toBe('');
}

async function approveAndFinish(version: string): Promise<void> {
  const announcement = await announcementOf(version, (blocks) => blocks.includes('approve_deployment'));
  await h.releaseManager.press(announcement, 'approve_deployment');
  const d = await h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
  expect(d).toMatchObject({ version, phase: 'succeeded' });
}

beforeAll(async () => {
  h = await startHarness({ bakeSeconds: 1, service: { github: { repo: REPO } } });
  h.sandbox.github.setHistory(REPO, HISTORY, TAGS);
  // The first deployment has no live version to compare with: no list, and no call.
  await request('v1.5.0');
  await approveAndFinish('v1.5.0');
  expect(h.sandbox.github.requests.filter((r) => r.path.includes('/compare/'))).toEqual([]);
}, 60_000);
afterAll(async () => h?.close());

describe('the commit list in the announcement', () => {
  it('lists the three commits since the live version, newest first, with PR links and the compare link; mentions stay inert', async () => {
    await request('v1.6.0');
    const announcement = await announcementOf('v1.6.0', (blocks) => blocks.includes('*Commits*'));
    const blocks = text(announcement);
    expect(blocks).toContain('<https://github.com/acme/acme-api/compare/v1.5.0...v1.6.0|3 commits, compare>');
    expect(blocks).toContain('Fix checkout rounding (<https://github.com/acme/acme-api/pull/123|#123>) — alice');
    expect(blocks).toContain('<https://github.com/acme/acme-api/pull/124|#124>');
    expect(blocks).toContain('Refactor the payment client — Bob Without Account');
    // Newest first.
    expect(blocks.indexOf('Refactor the payment client')).toBeLessThan(blocks.indexOf('Fix checkout rounding'));
    // The requester's summary is still there, beside the list.
    expect(blocks).toContain('Feature: new user dashboard');
    // A subject's mentions and links arrive as text: no <!channel>, <@U…> or foreign link is sent.
    expect(blocks).toContain('Say hello &lt;!channel&gt; and &lt;@U0RM1&gt; &lt;https://evil.example|docs&gt;');
    expect(blocks).not.toContain('<!channel>');
    expect(blocks).not.toContain('<@U0RM1>');
    expect(blocks).not.toContain('<https://evil.example');
    expect(blocks).not.toContain('Long body');
    const compare = h.sandbox.github.requests.find((r) => r.path.includes('/compare/'));
    expect(compare?.path).toBe('/repos/acme/acme-api/compare/v1.5.0...v1.6.0');
    expect(compare?.headers.authorization).toBe(`token ${h.sandbox.github.token}`);
    await approveAndFinish('v1.6.0');
  }, 60_000);

  it('GitHub answering 500: the announcement says the list is unavailable, and the deployment runs as usual', async () => {
    h.sandbox.github.faults.inject({ status: 500, match: '/compare/', body: '{"message":"Server Error"}' });
    await request('v1.7.0');
    const announcement = await announcementOf('v1.7.0', (blocks) => blocks.includes('*Commits*'));
    expect(text(announcement)).toContain('the list is unavailable');
    expect(text(announcement)).toContain('(500)');
    await approveAndFinish('v1.7.0');
  }, 60_000);

  it('GitHub hanging: the announcement goes out and the deployment is queued without waiting; then the list is unavailable', async () => {
    h.sandbox.github.faults.inject({ hang: true, match: '/compare/' });
    const comparesBefore = h.sandbox.github.requests.filter((r) => r.path.includes('/compare/')).length;
    await request('v1.8.0');
    const d = await h.only();
    expect(d.version).toBe('v1.8.0');
    // Queued for the worker, and announced, while GitHub still holds the compare request.
    await until(() => h.app.queue.queue.getJob(d.id), 5_000, 'the deployment job');
    const first = await announcementOf('v1.8.0', () => true);
    expect(text(first)).not.toContain('*Commits*');
    expect(h.sandbox.github.requests.filter((r) => r.path.includes('/compare/'))).toHaveLength(comparesBefore + 1);
    const later = await announcementOf('v1.8.0', (blocks) => blocks.includes('*Commits*'));
    expect(text(later)).toContain('the list is unavailable (GitHub did not answer within 2 s)');
    // The record's times are the ones the handler set; nothing was moved by the wait.
    expect((await h.app.store.get(d.id))?.requestedAt).toBe(d.requestedAt);
    await approveAndFinish('v1.8.0');
  }, 60_000);
});
