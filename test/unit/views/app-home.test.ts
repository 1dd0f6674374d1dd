import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import type { DoraFigures } from '../../../src/domain/dora.js';
import { viewProblems } from '../../../sandbox/block-kit-limits.js';
import { appHome, HOME_LIMITS, HOME_REFRESH_ACTION, type HomeData } from '../../../views/app-home.js';
import { deployment, T0 } from '../fixtures.js';

const MIN = 60_000;
const figures = (service: string, overrides: Partial<DoraFigures> = {}): DoraFigures => ({
  service,
  deployments: 0,
  perDay: 0,
  rolledBack: 0,
  ...overrides,
});
const data = (overrides: Partial<HomeData> = {}): HomeData => ({
  now: T0,
  active: [],
  recent: [],
  dora: [],
  windowDays: 30,
  ...overrides,
});

const texts = (blocks: unknown[]): string => JSON.stringify(blocks);

describe('App Home view', () => {
  it('an empty install says so in each part, with a Refresh button', () => {
    const view = appHome(data({ dora: [figures('acme-api')] }));
    expect(view.type).toBe('home');
    expect(viewProblems(view)).toEqual([]);
    const text = texts(view.blocks);
    expect(text).toContain('_No active deployments._');
    expect(text).toContain('_No deployments yet._');
    expect(text).toContain('0 in 30 days (0/week)');
    expect(text).toContain('*Change failure rate*\\n—');
    expect(text).toContain(HOME_REFRESH_ACTION);
  });

  it('shows the DORA four with units', () => {
    const view = appHome(
      data({
        dora: [
          figures('acme-api', {
            deployments: 12,
            perDay: 0.4,
            leadTimeMs: 42 * MIN,
            changeFailureRate: 1 / 12,
            rolledBack: 1,
            timeToRestoreMs: 4000,
          }),
        ],
      }),
    );
    const text = texts(view.blocks);
    expect(text).toContain('12 in 30 days (2.8/week)');
    expect(text).toContain('(approval → 100%)\\n42m');
    expect(text).toContain('8.3% (1 rolled back)');
    expect(text).toContain('*Time to restore*\\n4s');
  });

  it('lists queued and scheduled deployments after the active one, with their place or time', () => {
    const running = deployment({ phase: 'running' });
    const waiting = { fence: 0, stepIndex: 0, stepRecords: running.steps.map(() => ({})) };
    const queued = deployment({ ...waiting, id: 'q1', version: 'v1.6.0', phase: 'queued', queuePosition: 1 });
    const scheduled = deployment({
      ...waiting,
      id: 'q2',
      version: 'v1.7.0',
      phase: 'queued',
      queuePosition: 2,
      approvedAt: T0,
      approver: 'U0RM1',
      schedule: { startAt: T0 + 120 * MIN, timezone: 'Europe/Berlin' },
    });
    const view = appHome(data({ active: [running, queued, scheduled] }));
    expect(viewProblems(view)).toEqual([]);
    const text = texts(view.blocks);
    expect(text).toContain('Active deployments (1, and 2 queued or scheduled)');
    expect(text).toContain('`v1.6.0` (blue-green) by <@U0DEV1>\\n⏳ queued (position 1) · ⏸ awaiting approval');
    // 15:00 UTC on T0's day is 16:00 in Berlin; two hours later, 18:00.
    expect(text).toContain('`v1.7.0` (blue-green) by <@U0DEV1>\\n🗓️ scheduled for 18:00 Europe/Berlin');
    expect(text.indexOf('v1.6.0')).toBeGreaterThan(text.indexOf('a1b2c3d'));
  });

  it('escapes what people typed, such as a rejection reason', () => {
    const rejected = deployment({ phase: 'rejected', rejectReason: '<!channel> <@U999> no', finishedAt: T0 + MIN });
    const text = texts(appHome(data({ recent: [rejected] })).blocks);
    expect(text).toContain('&lt;!channel&gt; &lt;@U999&gt; no');
    expect(text).not.toContain('<!channel>');
  });

  it('stays within 100 blocks however many deployments and services there are', () => {
    const many = (n: number, make: (i: number) => Deployment) => Array.from({ length: n }, (_, i) => make(i));
    const active = many(60, (i) => deployment({ id: `a${i}`, service: `svc-${i}` }));
    const recent = many(60, (i) => deployment({ id: `r${i}`, phase: 'succeeded', finishedAt: T0 + MIN }));
    const dora = Array.from({ length: 200 }, (_, i) => figures(`svc-${i}`, { deployments: 1, perDay: 1 / 30 }));
    const view = appHome(data({ active, recent, dora }));
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(viewProblems(view)).toEqual([]);
    const text = texts(view.blocks);
    expect(text).toContain(`…and ${60 - HOME_LIMITS.active} more active deployments`);
    expect(text).toContain(`…and ${200 - HOME_LIMITS.services} more services`);
    expect(text).toContain('Active deployments (60)');
  });
});
