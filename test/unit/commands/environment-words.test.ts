import { describe, expect, it } from 'vitest';
import { parseDeployText, type DeployCommand } from '../../../commands/deploy-text.js';
import { parseRollback } from '../../../commands/rollback.js';
import { parseShift } from '../../../commands/shift.js';
import { parseCatalog } from '../../../src/runbook/catalog.js';
import { specCatalogInput } from '../fixtures.js';

/** When the commands are typed; only `at <time>` reads it. */
const NOW = Date.UTC(2026, 11, 5, 14, 5);

const input = specCatalogInput();
input.environments = { staging: {}, production: { promotedFrom: 'staging', soakSeconds: 600 } };
const catalog = parseCatalog(input);
const services = Object.keys(catalog.services);
const environments = ['staging', 'production'];

const ok = (text: string): DeployCommand => {
  const parsed = parseDeployText(text, catalog, NOW);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${parsed.error}`);
  return parsed.command;
};
const error = (text: string): string => {
  const parsed = parseDeployText(text, catalog, NOW);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused`);
  return parsed.error;
};

describe('the environment word in /deploy', () => {
  it('selects the environment among the options, in any order; none named leaves the default to the command', () => {
    expect(ok('acme-api v1.2.3 staging')).toMatchObject({ kind: 'deploy', environment: 'staging' });
    expect(ok('acme-api v1.2.3 canary staging hotfix')).toMatchObject({
      environment: 'staging',
      strategy: 'canary',
      hotfix: true,
    });
    expect(ok('acme-api v1.2.3')).toMatchObject({ environment: undefined });
  });

  it('refuses an unknown word naming the known environments, and two environments', () => {
    expect(error('acme-api v1.2.3 qa')).toBe(
      'unknown option `qa`; accepted: blue-green, canary, rolling, hotfix, dry-run, at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window, or an environment (known environments: staging, production)',
    );
    expect(error('acme-api v1.2.3 staging production')).toBe(
      'give at most one environment (known environments: staging, production)',
    );
  });

  it('promote: a service and an optional environment', () => {
    expect(ok('promote acme-api')).toEqual({ kind: 'promote', service: 'acme-api', environment: undefined });
    expect(ok('promote acme-api production')).toEqual({
      kind: 'promote',
      service: 'acme-api',
      environment: 'production',
    });
    expect(error('promote acme-api qa')).toBe('unknown environment `qa`; known environments: staging, production');
    expect(error('promote')).toContain('name a service');
  });

  it('status, history, clear, freeze and unfreeze take the environment after the service', () => {
    expect(ok('status staging')).toEqual({ kind: 'status', environment: 'staging' });
    expect(ok('status acme-api staging')).toEqual({ kind: 'status', service: 'acme-api', environment: 'staging' });
    expect(error('status acme-api qa')).toBe('unknown environment `qa`; known environments: staging, production');
    expect(ok('history acme-api staging 5')).toEqual({
      kind: 'history',
      service: 'acme-api',
      environment: 'staging',
      limit: 5,
    });
    expect(ok('history acme-api 5')).toMatchObject({ environment: undefined, limit: 5 });
    expect(error('history acme-api qa')).toBe(
      '`qa` is not a count; give a whole number from 1 to 50 (or after an environment: staging, production)',
    );
    expect(ok('clear acme-api v1.2.3 staging https://wiki/rca')).toMatchObject({
      kind: 'clear',
      environment: 'staging',
      rca: 'https://wiki/rca',
    });
    expect(ok('freeze all staging load test')).toEqual({
      kind: 'freeze',
      scope: 'all',
      environment: 'staging',
      reason: 'load test',
    });
    expect(ok('freeze acme-api db migration')).toMatchObject({ environment: undefined, reason: 'db migration' });
    expect(error('freeze acme-api staging')).toContain('give the reason for the freeze');
    expect(ok('unfreeze acme-api production')).toEqual({
      kind: 'unfreeze',
      scope: 'acme-api',
      environment: 'production',
    });
    expect(error('unfreeze acme-api qa')).toBe('unknown environment `qa`; known environments: staging, production');
  });
});

describe('the environment word in /shift and /rollback', () => {
  it('/shift <service> [<environment>] <percent|resume>', () => {
    expect(parseShift('acme-api staging 50', services, environments)).toEqual({
      ok: true,
      command: { service: 'acme-api', weight: 50, environment: 'staging' },
    });
    expect(parseShift('acme-api staging resume', services, environments)).toEqual({
      ok: true,
      command: { service: 'acme-api', resume: true, environment: 'staging' },
    });
    expect(parseShift('acme-api 50', services, environments)).toMatchObject({
      ok: true,
      command: { environment: undefined },
    });
    const refused = parseShift('acme-api qa 50', services, environments);
    expect(refused.ok ? '' : refused.error).toContain(
      'unknown environment `qa`; known environments: staging, production',
    );
  });

  it('/rollback <service> [<environment>] [reason…]: an environment only as the first word', () => {
    expect(parseRollback('acme-api staging smoke failing', services, environments)).toEqual({
      ok: true,
      command: { service: 'acme-api', environment: 'staging', reason: 'smoke failing' },
    });
    expect(parseRollback('acme-api staging', services, environments)).toEqual({
      ok: true,
      command: { service: 'acme-api', environment: 'staging', reason: 'manual rollback' },
    });
    expect(parseRollback('acme-api errors in staging', services, environments)).toMatchObject({
      command: { environment: undefined, reason: 'errors in staging' },
    });
    // Without environments every word is the reason, as before.
    expect(parseRollback('acme-api production is down', services)).toMatchObject({
      command: { environment: undefined, reason: 'production is down' },
    });
    const single = parseDeployText('freeze acme-api production outage', parseCatalog(specCatalogInput()), NOW);
    expect(single).toEqual({
      ok: true,
      command: { kind: 'freeze', scope: 'acme-api', reason: 'production outage', environment: undefined },
    });
  });
});
