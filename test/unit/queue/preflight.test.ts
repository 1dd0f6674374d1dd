import { describe, expect, it } from 'vitest';
import type { Providers } from '../../../src/providers/providers.js';
import { runStep } from '../../../src/queue/step-runners.js';
import { bareService, deployment, specCatalog, T0 } from '../fixtures.js';

/** The optional providers a worker may be built without: absent here. */
const OPTIONAL = new Set<string | symbol>(['metrics', 'paging', 'sourceControl', 'deployRecords', 'environments']);

/** Providers that must not be reached: preflight has to stop before calling any of them. */
const untouchable = new Proxy({} as Providers, {
  get: (_target, kind) => {
    if (OPTIONAL.has(kind)) return undefined;
    throw new Error(`preflight called the ${String(kind)} provider`);
  },
});

describe('preflight without Datadog credentials', () => {
  it('refuses a gated service, naming the variables and how to turn the gates off', async () => {
    const service = specCatalog().services['acme-api'];
    if (!service) throw new Error('acme-api missing');
    const run = await runStep(
      deployment({ stepIndex: 0 }),
      { kind: 'preflight' },
      { service, providers: untouchable, now: T0 },
    );
    expect(run.result).toEqual({
      kind: 'fail',
      reason:
        'acme-api is gated on Datadog but this worker has no Datadog credentials: set DD_API_KEY and DD_APP_KEY, or turn the gates off in the catalog (gates.metrics: [] and no logs, slos or monitors)',
    });
  });

  it('lets an ungated service through to the load balancer', async () => {
    const run = runStep(
      deployment({ stepIndex: 0, liveColor: undefined, newColor: undefined }),
      { kind: 'preflight' },
      { service: bareService(), providers: untouchable, now: T0 },
    );
    await expect(run).rejects.toThrow('preflight called the traffic provider');
  });
});
