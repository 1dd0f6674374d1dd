import { describe, expect, it } from 'vitest';
import type { Phase } from '../../../src/domain/deployment.js';
import {
  localDateTime,
  promotionRefusalText,
  promotionVerdict,
  type PromotionRefusal,
  type SourceDeployment,
} from '../../../src/domain/promotion.js';

/** The injected clock: 2026-12-04 15:00:00 UTC. */
const NOW = Date.UTC(2026, 11, 4, 15, 0, 0);
const MIN = 60_000;
const production = { promotedFrom: 'staging', soakSeconds: 3600 };
const context = { service: 'acme-api', version: '1.2.3', target: 'production', now: NOW };

const record = (phase: Phase, requestedAt: number, finishedAt?: number): SourceDeployment => ({
  phase,
  requestedAt,
  finishedAt,
});

const refusalOf = (source: SourceDeployment[], now = NOW, rule = production): PromotionRefusal => {
  const verdict = promotionVerdict(rule, source, now);
  if (verdict.eligible) throw new Error('expected a refusal');
  return verdict.refusal;
};

describe('promotionVerdict', () => {
  it('an environment without promotedFrom takes any version', () => {
    expect(promotionVerdict({ soakSeconds: 3600 }, [], NOW)).toEqual({ eligible: true });
  });

  it('never deployed in the source environment', () => {
    expect(refusalOf([])).toEqual({ reason: 'never-deployed', source: 'staging', lastPhase: undefined });
  });

  it('deployed there but never completed (failed, rejected, expired): never-deployed, naming the last outcome', () => {
    expect(refusalOf([record('failed', NOW - 90 * MIN, NOW - 80 * MIN), record('rejected', NOW - 30 * MIN)])).toEqual({
      reason: 'never-deployed',
      source: 'staging',
      lastPhase: 'rejected',
    });
  });

  it('still running there (awaiting approval, running, paused, rolling back)', () => {
    for (const phase of ['awaiting-approval', 'running', 'paused', 'rolling-back'] as const)
      expect(refusalOf([record(phase, NOW - 10 * MIN)])).toEqual({ reason: 'still-running', source: 'staging', phase });
  });

  it('completed there less than soakSeconds ago: soaking, with eligibleAt', () => {
    const completedAt = NOW - 20 * MIN;
    expect(refusalOf([record('succeeded', NOW - 40 * MIN, completedAt)])).toEqual({
      reason: 'soaking',
      source: 'staging',
      completedAt,
      eligibleAt: completedAt + 3600_000,
      soakSeconds: 3600,
    });
  });

  it('eligible once soakSeconds have passed since it completed (the boundary included)', () => {
    const completedAt = NOW - 3600_000;
    expect(promotionVerdict(production, [record('succeeded', NOW - 2 * 3600_000, completedAt)], NOW)).toEqual({
      eligible: true,
      completedAt,
    });
    expect(promotionVerdict(production, [record('succeeded', 0, completedAt)], NOW - 1).eligible).toBe(false);
  });

  it('soakSeconds 0: eligible as soon as it completed', () => {
    const rule = { promotedFrom: 'staging', soakSeconds: 0 };
    expect(promotionVerdict(rule, [record('succeeded', NOW - MIN, NOW)], NOW).eligible).toBe(true);
  });

  it('rolled back there: a rolled-back record, or a completed one rolled back later', () => {
    expect(refusalOf([record('rolled-back', NOW - 30 * MIN, NOW - 20 * MIN)])).toEqual({
      reason: 'rolled-back',
      source: 'staging',
      rolledBackAt: NOW - 20 * MIN,
    });
    expect(
      refusalOf([{ ...record('succeeded', NOW - 5 * 3600_000, NOW - 4 * 3600_000), rolledBackAt: NOW - 3600_000 }]),
    ).toEqual({ reason: 'rolled-back', source: 'staging', rolledBackAt: NOW - 3600_000 });
    // A completion after the rollback (deployed again, completed again) soaks from then.
    const again = promotionVerdict(
      production,
      [
        record('rolled-back', NOW - 5 * 3600_000, NOW - 4 * 3600_000),
        record('succeeded', NOW - 3 * 3600_000, NOW - 2 * 3600_000),
      ],
      NOW,
    );
    expect(again).toEqual({ eligible: true, completedAt: NOW - 2 * 3600_000 });
  });

  it('the latest completion counts; a deployment of it still running there does not undo it', () => {
    const verdict = promotionVerdict(
      production,
      [record('succeeded', NOW - 5 * 3600_000, NOW - 4 * 3600_000), record('running', NOW - MIN)],
      NOW,
    );
    expect(verdict).toEqual({ eligible: true, completedAt: NOW - 4 * 3600_000 });
  });
});

describe('promotionRefusalText', () => {
  it('soaking: “eligible at HH:MM:SS” in the window’s time zone, else UTC', () => {
    const refusal = refusalOf([record('succeeded', NOW - 40 * MIN, NOW - 20 * MIN + 10_000)]);
    expect(promotionRefusalText(refusal, context)).toBe(
      'acme-api 1.2.3 completed in staging at 14:40:10 and must serve there 1h without a rollback before production: eligible at 15:40:10 (UTC).',
    );
    expect(promotionRefusalText(refusal, { ...context, timeZone: 'America/New_York' })).toContain(
      'eligible at 10:40:10 (America/New_York).',
    );
  });

  it('an eligibility on another day names the date', () => {
    const refusal = refusalOf([record('succeeded', NOW - 40 * MIN, NOW - 20 * MIN)], NOW, {
      promotedFrom: 'staging',
      soakSeconds: 24 * 3600,
    });
    expect(promotionRefusalText(refusal, context)).toContain('eligible at 14:40:00 on 2026-12-05 (UTC).');
  });

  it('says what is missing for each refusal', () => {
    expect(promotionRefusalText(refusalOf([]), context)).toBe(
      'acme-api 1.2.3 has never been deployed to staging: production takes versions promoted from staging. Deploy it to staging first.',
    );
    expect(promotionRefusalText(refusalOf([record('failed', NOW - MIN, NOW)]), context)).toBe(
      'acme-api 1.2.3 has never completed in staging (its last deployment there failed): production takes versions promoted from staging.',
    );
    expect(promotionRefusalText(refusalOf([record('running', NOW - MIN)]), context)).toBe(
      'acme-api 1.2.3 is still being deployed to staging (running): production takes versions promoted from staging once it completes there.',
    );
    expect(
      promotionRefusalText(
        refusalOf([record('rolled-back', NOW - 30 * MIN, Date.UTC(2026, 11, 4, 14, 42, 10))]),
        context,
      ),
    ).toBe(
      'acme-api 1.2.3 was rolled back in staging at 14:42:10 (UTC): production takes versions promoted from staging that have not been rolled back there.',
    );
  });

  it('localDateTime: 24-hour clock, across a DST change', () => {
    expect(localDateTime(Date.UTC(2026, 2, 8, 7, 5, 9), 'America/New_York')).toEqual({
      date: '2026-03-08',
      time: '03:05:09',
    });
    expect(localDateTime(Date.UTC(2026, 0, 1, 0, 0, 0), 'UTC')).toEqual({ date: '2026-01-01', time: '00:00:00' });
  });
});
