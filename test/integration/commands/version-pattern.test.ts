import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import { startHarness, type Harness } from '../../support/harness.js';

/** A service whose image tags are plain semantic versions (`1.4.2`), through signed slash commands. */
const SEMVER = String.raw`^\d+\.\d+\.\d+$`;

let h: Harness;
beforeAll(async () => {
  h = await startHarness({
    roles: { bot: true, worker: false },
    slackOutbox: true,
    service: { versionPattern: SEMVER },
  });
}, 60_000);
afterAll(async () => h?.close());

describe('versionPattern through /deploy', () => {
  it('v1.4.2 is refused in the ack, showing the pattern, and nothing is opened', async () => {
    const result = await h.requester.command('/deploy', 'acme-api v1.4.2');
    expect(result.status).toBe(200);
    expect(result.json).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining(
        `\`v1.4.2\` is not a version of this service; give one matching its versionPattern \`${SEMVER}\``,
      ),
    });
    expect(h.sandbox.slack.views).toHaveLength(0);
  });

  it('1.4.2 opens the checklist and the deployment records it, with the catalog image tagged 1.4.2', async () => {
    const { view } = await h.requester.requestDeploy('acme-api 1.4.2');
    const submitted = await h.requester.submitChecklist(view);
    expect(submitted.status).toBe(200);
    expect(submitted.body).toBe('');
    const d = await h.only();
    expect(d).toMatchObject({ service: 'acme-api', version: '1.4.2', image: `${SANDBOX_IMAGE}:1.4.2` });
    expect((await h.announcement()).text).toContain('acme-api 1.4.2');
  });
});
