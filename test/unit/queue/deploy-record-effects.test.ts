import { describe, expect, it } from 'vitest';
import type { Deployment } from '../../../src/domain/deployment.js';
import { deployRecordEffects, type DeployRecordTargets } from '../../../src/queue/deploy-record-effects.js';
import { deployment, T0 } from '../fixtures.js';

/** Which deploy records a tick's write calls for, from the record before and after it. */

const BOTH: DeployRecordTargets = { repo: 'acme/acme-api', datadog: true };
const AT = T0 + 60_000;
const keysOf = (before: Deployment, after: Deployment, targets: DeployRecordTargets = BOTH) =>
  deployRecordEffects(before, after, targets, AT).map((e) => `${e.lane} ${e.key} ${e.kind}`);

const approved = deployment({ approvedAt: T0 + 1000 });
const preflightStarted = { ...approved, stepRecords: [{ startedAt: T0 + 2000 }] };
const atFullTraffic = { ...preflightStarted, fullTrafficAt: T0 + 30_000 };
const succeeded: Deployment = { ...atFullTraffic, phase: 'succeeded', finishedAt: AT };
const rollingBack: Deployment = { ...atFullTraffic, phase: 'rolling-back', rollbackReason: 'p99 latency 1.2 > 0.8' };
const rolledBack: Deployment = { ...rollingBack, phase: 'rolled-back', finishedAt: AT };

describe('deployRecordEffects', () => {
  it('preflight starting: a start marker, the GitHub deployment, then in_progress', () => {
    expect(keysOf(approved, preflightStarted)).toEqual([
      'datadog datadog:start datadog-marker',
      'github github:create github-create',
      'github github:status:in_progress github-status',
    ]);
    const [marker, create] = deployRecordEffects(approved, preflightStarted, BOTH, AT);
    expect(marker?.payload).toMatchObject({
      deploymentId: 'acme-api-1',
      service: 'acme-api',
      environment: 'production',
      version: 'a1b2c3d',
      kind: 'info',
      at: AT,
    });
    expect(create?.payload).toMatchObject({
      repo: 'acme/acme-api',
      request: { ref: 'a1b2c3d', environment: 'production', payload: { switchyardDeploymentId: 'acme-api-1' } },
    });
  });

  it('a tick that changes nothing of the kind asks for nothing (a replayed tick has the same keys anyway)', () => {
    expect(keysOf(preflightStarted, preflightStarted)).toEqual([]);
    expect(keysOf(preflightStarted, { ...preflightStarted, stepIndex: 1 })).toEqual([]);
  });

  it('100 %, then completion: markers, success, the replaced version inactive, and a DORA deployment', () => {
    expect(keysOf(preflightStarted, atFullTraffic)).toEqual(['datadog datadog:full-traffic datadog-marker']);
    expect(keysOf(atFullTraffic, succeeded)).toEqual([
      'datadog datadog:complete datadog-marker',
      'github github:status:success github-status',
      'github github:inactive-replaced github-status-of-ref',
      'dora dora:deployment dora-deployment',
    ]);
    const effects = deployRecordEffects(atFullTraffic, succeeded, BOTH, AT);
    expect(effects[2]?.payload).toMatchObject({ ref: '9f8e7d6', which: 'all', state: 'inactive' });
    expect(effects[3]?.payload).toEqual({
      deploymentId: 'acme-api-1',
      service: 'acme-api',
      environment: 'production',
      version: 'a1b2c3d',
      startedAt: T0 + 1000,
      finishedAt: AT,
    });
  });

  it('a rollback: an error marker, failure on GitHub, the replaced one restored if it had been replaced, DORA deployment and failure', () => {
    expect(keysOf(rollingBack, rolledBack)).toEqual([
      'datadog datadog:rollback datadog-marker',
      'github github:status:failure github-status',
      'github github:restore-replaced github-status-of-ref',
      'dora dora:deployment dora-deployment',
      'dora dora:failure dora-failure',
    ]);
    const failure = deployRecordEffects(rollingBack, rolledBack, BOTH, AT).at(-1);
    expect(failure?.payload).toMatchObject({
      name: 'acme-api a1b2c3d rolled back: p99 latency 1.2 > 0.8',
      startedAt: T0 + 30_000,
      finishedAt: AT,
    });
  });

  it('stopped before traffic moved: failure on GitHub, and nothing for DORA', () => {
    const failed: Deployment = { ...preflightStarted, phase: 'failed', failureReason: 'smoke failed', finishedAt: AT };
    expect(keysOf(preflightStarted, failed)).toEqual(['github github:status:failure github-status']);
  });

  it('without GitHub for the service, or without Datadog, only the other records', () => {
    expect(keysOf(atFullTraffic, succeeded, { datadog: true })).toEqual([
      'datadog datadog:complete datadog-marker',
      'dora dora:deployment dora-deployment',
    ]);
    expect(keysOf(atFullTraffic, succeeded, { repo: 'acme/acme-api', datadog: false })).toEqual([
      'github github:status:success github-status',
      'github github:inactive-replaced github-status-of-ref',
    ]);
  });
});
