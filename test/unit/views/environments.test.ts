import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { doraFor } from '../../../src/domain/dora.js';
import { viewProblems } from '../../../sandbox/block-kit-limits.js';
import { announcement } from '../../../views/announcement.js';
import { appHome } from '../../../views/app-home.js';
import { checklistModal } from '../../../views/checklist-modal.js';
import { historyReport, statusReport } from '../../../views/reports.js';
import { failureMessage, rollbackMessage, successMessage } from '../../../views/thread-messages.js';
import { deployment, T0 } from '../fixtures.js';

const MIN = 60_000;
const staging = (overrides: Partial<Deployment> = {}) =>
  deployment({ id: 'acme-api-s', environment: 'staging', channel: 'C0STAGING', ...overrides });
const context = { onCall: 'S0ONCALL', expectedSeconds: 600, statusLine: '⏸ awaiting approval' };

describe('views name the environment', () => {
  it('the announcement is titled for its environment and says when a hotfix skipped promotion', () => {
    expect(announcement(staging(), context).text).toContain('🚀 Staging Deployment Scheduled: acme-api a1b2c3d');
    expect(announcement(deployment(), context).text).toContain('Production Deployment Scheduled');
    const skipped = announcement(
      deployment({
        hotfix: true,
        justification: 'outage',
        promotionSkipped: 'acme-api a1b2c3d has never been deployed to staging <!channel>',
      }),
      context,
    );
    const blocks = JSON.stringify(skipped.blocks);
    expect(blocks).toContain('*Hotfix justification:* outage');
    expect(blocks).toContain(
      '*Promotion skipped (hotfix):* acme-api a1b2c3d has never been deployed to staging &lt;!channel&gt;',
    );
    expect(JSON.stringify(announcement(deployment(), context).blocks)).not.toContain('Promotion skipped');
  });

  it('the checklist modal names the environment in its title and first block', () => {
    const view = checklistModal(
      {
        service: 'acme-api',
        version: 'v1.2.3',
        strategy: 'blue-green',
        hotfix: false,
        origin: 'C0TEAM',
        environment: 'staging',
      },
      ['CI is green'],
    );
    expect(view.title.text).toBe('Deploy to staging');
    expect(JSON.stringify(view.blocks[0])).toContain('version `v1.2.3` to staging');
    expect(JSON.parse(view.private_metadata)).toMatchObject({ environment: 'staging' });
  });

  it('status and history say which environment, where the catalog has several', () => {
    const both = [staging({ phase: 'running' }), deployment({ phase: 'awaiting-approval' })];
    const status = statusReport(both, T0, true);
    expect(status).toContain('• [staging] *acme-api* `a1b2c3d`');
    expect(status).toContain('• [production] *acme-api* `a1b2c3d`');
    expect(statusReport(both, T0)).not.toContain('[staging]');
    const history = historyReport('acme-api', [staging({ phase: 'succeeded', finishedAt: T0 + MIN })], T0, 'staging');
    expect(history.split('\n')[0]).toBe('*Last 1 deployments of acme-api in staging*');
    expect(historyReport('acme-api', [], T0, 'staging')).toBe('No deployments of acme-api in staging yet.');
  });

  it('thread messages carry the environment, and the clear hint names it', () => {
    const d = staging({ phase: 'rolled-back', rollbackReason: 'bad' });
    expect(successMessage(staging(), T0)).toContain('*Environment:* staging');
    const rollback = rollbackMessage(d, 'S0ONCALL');
    expect(rollback).toContain('*Environment:* staging');
    expect(rollback).toContain('`/deploy clear acme-api a1b2c3d staging &lt;RCA link&gt;`');
    expect(failureMessage(staging({ phase: 'failed' }), 'S0ONCALL')).toContain('*Environment:* staging');
  });

  it('App Home tags deployments and DORA figures with their environment', () => {
    const done = staging({
      phase: 'succeeded',
      approvedAt: T0,
      fullTrafficAt: T0 + 10 * MIN,
      finishedAt: T0 + 12 * MIN,
    });
    const dora = [
      doraFor('acme-api', [done], { now: T0 + 60 * MIN, environment: 'staging' }),
      doraFor('acme-api', [done], { now: T0 + 60 * MIN, environment: 'production' }),
    ];
    expect(dora.map((f) => [f.environment, f.deployments])).toEqual([
      ['staging', 1],
      ['production', 0],
    ]);
    const view = appHome({
      now: T0 + 60 * MIN,
      active: [staging()],
      recent: [done],
      dora,
      windowDays: 30,
      namesEnvironments: true,
    });
    expect(viewProblems(view)).toEqual([]);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('[staging] *acme-api* `a1b2c3d`');
    expect(text).toContain('*acme-api* in staging');
    expect(text).toContain('*acme-api* in production');
  });
});
