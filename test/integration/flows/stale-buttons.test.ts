import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { PEOPLE } from '../../../sandbox/sandbox.js';
import type { SlackMessage } from '../../../sandbox/slack.js';
import { pausedAlert, postWindowAlert } from '../../../views/alerts.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * A button acts on the deployment it belongs to. v1.5.0 and then v1.6.0 succeed; the buttons of
 * an alert about v1.5.0 must neither roll back v1.6.0 nor record anything on either deployment.
 */

let h: Harness;
let first: Deployment;
let second: Deployment;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const hasButton = (message: SlackMessage | undefined, actionId: string): boolean =>
  JSON.stringify(message?.blocks ?? []).includes(`"${actionId}"`);

/** Posts an alert in the deployment's thread, as the worker does. */
async function alerted(d: Deployment, alert: { text: string; blocks: unknown[] }): Promise<SlackMessage> {
  const client = new WebClient(h.sandbox.slack.token, { slackApiUrl: h.sandbox.slack.url });
  const posted = await client.chat.postMessage({
    channel: d.channel,
    thread_ts: d.announcementTs,
    text: alert.text,
    blocks: alert.blocks as never,
  });
  return h.sandbox.slack.messages().find((m) => m.ts === posted.ts) as SlackMessage;
}

async function deployToSuccess(version: string): Promise<Deployment> {
  const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
  expect((await h.requester.submitChecklist(view)).body).toBe('');
  const started = await until(
    async () => {
      const [latest] = await h.app.store.recent(1);
      return latest?.version === version && latest.announcementTs ? latest : undefined;
    },
    3000,
    `the announcement of ${version}`,
  );
  const announcement = h.sandbox.slack.messages().find((m) => m.ts === started.announcementTs) as SlackMessage;
  await h.releaseManager.press(announcement, 'approve_deployment');
  const done = await until(
    async () => {
      const d = await h.app.store.get(started.id);
      return d && ['succeeded', 'rolled-back', 'failed'].includes(d.phase) ? d : undefined;
    },
    30_000,
    `${version} to finish`,
  );
  expect(done.phase).toBe('succeeded');
  await h.waitForPhase(['succeeded']);
  return done;
}

/** The nth ephemeral to the release manager, once it is there. */
const ephemeral = (n: number) =>
  until(() => h.sandbox.slack.ephemerals(PEOPLE.releaseManager)[n], 3000, `ephemeral #${n + 1} to the release manager`);

beforeAll(async () => {
  h = await startHarness();
  first = await deployToSuccess('v1.5.0');
  second = await deployToSuccess('v1.6.0');
  expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
});

afterAll(async () => {
  await h?.close();
});

describe('buttons on a superseded deployment', () => {
  it("Roll back now on v1.5.0's alert after v1.6.0 succeeded says so and rolls nothing back", async () => {
    const alert = await alerted(first, postWindowAlert(first, PEOPLE.onCall, ['• p99 latency: 1.7 (≤ 0.8) — breach']));
    const changes = h.sandbox.elbv2.changes.length;
    const events = await Promise.all([h.app.store.events(first.id), h.app.store.events(second.id)]);
    const before = h.sandbox.slack.ephemerals(PEOPLE.releaseManager).length;

    const pressed = await h.releaseManager.press(alert, 'rollback_now');
    expect(pressed.status).toBe(200);
    const told = await ephemeral(before);
    expect(told.text).toContain('acme-api v1.5.0 has been superseded by v1.6.0 (succeeded)');
    expect(told.text).toContain('nothing was changed');

    await pause(500);
    expect(h.sandbox.elbv2.changes).toHaveLength(changes);
    expect(h.sandbox.weights()).toEqual({ blue: 100, green: 0 });
    expect((await h.app.store.get(second.id))?.phase).toBe('succeeded');
    expect((await h.app.store.get(first.id))?.phase).toBe('succeeded');
    expect(await h.app.store.active('acme-api')).toBeUndefined();
    expect(await h.app.store.blockedVersion('acme-api', 'v1.6.0')).toBeUndefined();
    expect(await h.app.store.intents(second.id)).not.toHaveProperty('rollback');
    expect([await h.app.store.events(first.id), await h.app.store.events(second.id)]).toEqual(events);
    // The refused alert keeps its buttons: nothing happened.
    expect(
      hasButton(
        h.sandbox.slack.messages().find((m) => m.ts === alert.ts),
        'rollback_now',
      ),
    ).toBe(true);
  });

  it('Acknowledge and Resume on v1.5.0 are refused the same way and record nothing', async () => {
    const alert = await alerted(first, postWindowAlert(first, PEOPLE.onCall, []));
    const paused = await alerted(first, pausedAlert({ ...first, phase: 'paused' }, PEOPLE.onCall, []));
    const events = await h.app.store.events(first.id);
    const intents = await h.app.store.intents(first.id);
    const before = h.sandbox.slack.ephemerals(PEOPLE.releaseManager).length;

    await h.releaseManager.press(alert, 'acknowledge_alert');
    expect((await ephemeral(before)).text).toContain('has been superseded by v1.6.0');
    await h.releaseManager.press(paused, 'resume_deployment');
    expect((await ephemeral(before + 1)).text).toContain('has been superseded by v1.6.0');

    expect(await h.app.store.events(first.id)).toEqual(events);
    expect(await h.app.store.intents(first.id)).toEqual(intents);
    expect(intents).not.toHaveProperty('resume');
  });

  it("Roll back now on the current deployment's alert rolls back that deployment", async () => {
    const alert = await alerted(second, postWindowAlert(second, PEOPLE.onCall, []));
    await h.releaseManager.press(alert, 'rollback_now');
    const done = await until(
      async () => {
        const d = await h.app.store.get(second.id);
        return d?.phase === 'rolled-back' ? d : undefined;
      },
      15_000,
      'v1.6.0 rolled back',
    );
    expect(done.rollbackBy).toBe(PEOPLE.releaseManager);
    expect(h.sandbox.weights()).toEqual({ blue: 0, green: 100 });
    expect((await h.app.store.get(first.id))?.phase).toBe('succeeded');
  });
});
