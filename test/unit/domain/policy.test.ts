import { describe, expect, it } from 'vitest';
import { isOnCall, isReleaseManager, mayDeploy, mayRollback } from '../../../src/domain/policy.js';
import { parseCatalog, type Catalog, type ServiceConfig } from '../../../src/runbook/catalog.js';
import { specCatalog, specCatalogInput } from '../fixtures.js';

const catalog = specCatalog();
const withDeployers = catalog.services['acme-api'] as ServiceConfig; // deployers: [U0DEV1]
const open = catalog.services['acme-worker'] as ServiceConfig; // no deployers

const userOnCall = (): Catalog => {
  const input = specCatalogInput();
  input.slack.onCall = 'U0ONCALL';
  return parseCatalog(input);
};

describe('mayDeploy', () => {
  it('without deployers: anyone may deploy', () => {
    expect(mayDeploy(catalog, open, 'U0ANYONE')).toBe(true);
    expect(mayDeploy(catalog, open, 'U0DEV1')).toBe(true);
  });

  it('with deployers: only they (and release managers)', () => {
    expect(mayDeploy(catalog, withDeployers, 'U0DEV1')).toBe(true);
    expect(mayDeploy(catalog, withDeployers, 'U0ANYONE')).toBe(false);
  });

  it('release managers always may', () => {
    expect(mayDeploy(catalog, withDeployers, 'U0RM1')).toBe(true);
    expect(mayDeploy(catalog, withDeployers, 'U0RM2')).toBe(true);
  });

  it('an empty deployers list means release managers only', () => {
    const input = specCatalogInput();
    input.services['acme-api'].deployers = [];
    const c = parseCatalog(input);
    expect(mayDeploy(c, c.services['acme-api']!, 'U0DEV1')).toBe(false);
    expect(mayDeploy(c, c.services['acme-api']!, 'U0RM1')).toBe(true);
  });
});

describe('isReleaseManager / isOnCall', () => {
  it('reads the catalog', () => {
    expect(isReleaseManager(catalog, 'U0RM1')).toBe(true);
    expect(isReleaseManager(catalog, 'U0DEV1')).toBe(false);
    expect(isOnCall(catalog, 'S0ONCALL')).toBe(true);
    expect(isOnCall(catalog, 'U0ONCALL')).toBe(false);
    expect(isOnCall(userOnCall(), 'U0ONCALL')).toBe(true);
  });
});

describe('mayRollback', () => {
  it('deployers and release managers may', () => {
    expect(mayRollback(catalog, withDeployers, 'U0DEV1')).toBe(true);
    expect(mayRollback(catalog, withDeployers, 'U0RM1')).toBe(true);
    expect(mayRollback(catalog, withDeployers, 'U0ANYONE')).toBe(false);
  });

  it('the on-call user may, even when not a deployer', () => {
    const c = userOnCall();
    expect(mayRollback(c, c.services['acme-api']!, 'U0ONCALL')).toBe(true);
    expect(mayDeploy(c, c.services['acme-api']!, 'U0ONCALL')).toBe(false);
    expect(mayRollback(c, c.services['acme-api']!, 'U0OTHER')).toBe(false);
  });

  it('with an on-call user group, its members are not known without Slack: deployers only', () => {
    expect(mayRollback(catalog, withDeployers, 'U0ONCALL')).toBe(false);
  });

  it('anyone may roll back a service without deployers', () => {
    expect(mayRollback(catalog, open, 'U0ANYONE')).toBe(true);
  });
});
