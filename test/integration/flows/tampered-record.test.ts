import { afterEach, describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { keys } from '../../../src/store/keys.js';
import { SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import { startHarness, type Harness } from '../../support/harness.js';

const EVIL = 'evil.example/x:latest';

/** Rewrites the stored record as someone with write access to Redis could. */
async function tamper(h: Harness, id: string, change: Partial<Deployment>): Promise<void> {
  const key = keys(h.prefix).deployment(id);
  const raw = await h.redis.get(key);
  if (!raw) throw new Error(`no record at ${key}`);
  await h.redis.set(key, JSON.stringify({ ...(JSON.parse(raw) as Deployment), ...change }), 'KEEPTTL');
}

/** Every image any PATCH asked the Kubernetes stand-in to run. */
const patchedImages = (h: Harness): string[] =>
  h.sandbox.kubernetes.patches.flatMap((p) =>
    [...JSON.stringify(p.body).matchAll(/"image":"([^"]*)"/g)].map((m) => m[1] as string),
  );

async function requestAndTamper(h: Harness, version: string, change: Partial<Deployment>): Promise<Deployment> {
  const { view } = await h.requester.requestDeploy(`acme-api ${version}`);
  await h.requester.submitChecklist(view);
  const announcement = await h.announcement();
  const waiting = await h.waitForPhase(['awaiting-approval']);
  await tamper(h, waiting.id, change);
  await h.releaseManager.press(announcement, 'approve_deployment');
  return h.waitForPhase(['succeeded', 'rolled-back', 'failed'], 30_000);
}

describe('the worker deploys the catalog image of a validated version, never an image a record holds', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('an image field rewritten in Redis is ignored: the catalog image of the version is deployed', async () => {
    h = await startHarness({ bakeSeconds: 1 });
    const done = await requestAndTamper(h, 'v1.5.0', { image: EVIL });
    expect(done.phase).toBe('succeeded');
    const images = patchedImages(h);
    expect(images).toContain(`${SANDBOX_IMAGE}:v1.5.0`);
    expect(images.filter((image) => image.includes('evil'))).toEqual([]);
  });

  it.each([EVIL, 'v1.5.0@sha256:0000', 'v1.5.0:latest'])(
    'a version rewritten to %s is refused with a clear error and nothing runs it',
    async (version) => {
      h = await startHarness({ bakeSeconds: 1 });
      const done = await requestAndTamper(h, 'v1.5.0', { version, image: EVIL });
      expect(done.phase).toBe('failed');
      expect(done.failureReason).toContain(
        `the record's version ${JSON.stringify(version)} is not a git SHA or a v-tag`,
      );
      expect(patchedImages(h).filter((image) => image.includes('evil') || image.includes(version))).toEqual([]);
      expect(h.sandbox.kubernetes.imageOf('prod', 'acme-api-green', 'api')).not.toContain('evil');
    },
  );
});
