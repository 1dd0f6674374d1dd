import { describe, expect, it } from 'vitest';
import { parseDeployText } from '../../../commands/deploy-text.js';
import { imageTagProblem, versionProblem } from '../../../src/domain/version.js';
import { CatalogInvalid } from '../../../src/errors.js';
import { imageFor, RefusedVersionError } from '../../../src/queue/image.js';
import { parseCatalog, type ServiceConfig } from '../../../src/runbook/catalog.js';
import { IMAGE, specCatalogInput } from '../fixtures.js';

/** When the commands are typed; only `at <time>` reads it. */
const NOW = Date.UTC(2026, 11, 5, 14, 5);

const SEMVER = String.raw`\d+\.\d+\.\d+`;

const catalogWith = (versionPattern: unknown) => {
  const input = specCatalogInput();
  input.services['acme-api'].versionPattern = versionPattern;
  return parseCatalog(input);
};

describe('versionProblem: the one version rule', () => {
  it('without a pattern: a git SHA (7–40 hex) or a v-tag, nothing else', () => {
    for (const v of ['a1b2c3d', 'a'.repeat(40), 'v1.2.3', 'v1.2.3-rc.1']) expect(versionProblem(v)).toBeUndefined();
    for (const v of ['1.4.2', 'a1b2c3', 'a'.repeat(41), 'main-3f9c2ab', 'latest', ''])
      expect(versionProblem(v)).toBe('is not a version; give a git SHA (7–40 hex characters) or a tag such as v1.2.3');
  });

  it('a pattern replaces the default rule, matched against the whole version, and the refusal shows it', () => {
    expect(versionProblem('1.4.2', SEMVER)).toBeUndefined();
    expect(versionProblem('v1.4.2', SEMVER)).toBe(
      `is not a version of this service; give one matching its versionPattern \`${SEMVER}\``,
    );
    // Whole version: neither a prefix nor a suffix of a match is enough, even with an alternation.
    expect(versionProblem('1.4.2-rc', SEMVER)).toBeDefined();
    expect(versionProblem('x1.4.2', SEMVER)).toBeDefined();
    expect(versionProblem('main-3f9c2ab', 'main-[0-9a-f]{7}|release')).toBeUndefined();
    expect(versionProblem('main-3f9c2abX', 'main-[0-9a-f]{7}|release')).toBeDefined();
    expect(versionProblem('releases', 'main-[0-9a-f]{7}|release')).toBeDefined();
    // The default rule no longer applies.
    expect(versionProblem('a1b2c3d', SEMVER)).toBeDefined();
  });

  it('the image tag limits hold whatever the pattern allows', () => {
    const anything = '.+';
    expect(versionProblem('2026.12.04-1', anything)).toBeUndefined();
    expect(versionProblem('a'.repeat(128), anything)).toBeUndefined();
    expect(versionProblem('a'.repeat(129), anything)).toBe(
      'is 129 characters long; give a version of at most 128, as it becomes the image tag',
    );
    for (const v of ['v1:latest', 'v1@sha256:00', 'evil/repo', '.hidden', '-flag', 'a b'])
      expect(versionProblem(v, anything), v).toBe(
        'cannot be an image tag; give at most 128 letters, digits, _, . or - (not starting with . or -)',
      );
    expect(imageTagProblem('v1.4.1')).toBeUndefined();
    expect(imageTagProblem('registry.example/evil:1')).toBeDefined();
  });
});

describe('versionPattern in the catalog', () => {
  it('is compiled at load: a bad regular expression is refused, naming its path', () => {
    let error: unknown;
    try {
      catalogWith('(\\d+');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CatalogInvalid);
    expect((error as CatalogInvalid).problems).toEqual([
      expect.stringMatching(/^services\.acme-api\.versionPattern: is not a regular expression \(.+\)$/),
    ]);
    expect(() => catalogWith('')).toThrow(CatalogInvalid);
    expect(catalogWith(SEMVER).services['acme-api']?.versionPattern).toBe(SEMVER);
  });

  it('/deploy applies the service pattern; other services keep the default rule', () => {
    const catalog = catalogWith(SEMVER);
    expect(parseDeployText('acme-api 1.4.2', catalog, NOW)).toMatchObject({ ok: true, command: { version: '1.4.2' } });
    expect(parseDeployText('acme-api v1.4.2', catalog, NOW)).toEqual({
      ok: false,
      error: `\`v1.4.2\` is not a version of this service; give one matching its versionPattern \`${SEMVER}\``,
    });
    expect(parseDeployText('acme-api', catalog, NOW)).toEqual({
      ok: false,
      error: `give a version after \`acme-api\`: a version matching its versionPattern \`${SEMVER}\``,
    });
    expect(parseDeployText('clear acme-api 1.4.2 https://wiki/rca', catalog, NOW)).toMatchObject({ ok: true });
    expect(parseDeployText('acme-worker 1.4.2', catalog, NOW)).toMatchObject({ ok: false });
  });

  it('a pattern with < or & is shown inert in the refusal', () => {
    const catalog = catalogWith('(?<major>\\d+)&x');
    const parsed = parseDeployText('acme-api v1', catalog, NOW);
    expect(parsed.ok).toBe(false);
    expect(JSON.stringify(parsed)).not.toMatch(/[<>]/);
    expect(parsed).toMatchObject({ error: expect.stringContaining('(?&lt;major&gt;\\d+)&amp;x') });
  });
});

describe('imageFor rebuilds the image only from a version the rule accepts', () => {
  const service = catalogWith(SEMVER).services['acme-api'] as ServiceConfig;

  it('the service pattern for the version, the tag limits for the previous one', () => {
    expect(imageFor(service, '1.4.2')).toBe(`${IMAGE}:1.4.2`);
    expect(() => imageFor(service, 'v1.4.2')).toThrow(RefusedVersionError);
    expect(() => imageFor(service, 'v1.4.2')).toThrow(`is not a match of \`${SEMVER}\``);
    // Deployed before the pattern was set: a rollback may still return to it.
    expect(imageFor(service, 'v1.4.1', 'previous version')).toBe(`${IMAGE}:v1.4.1`);
    expect(() => imageFor(service, 'v1:latest', 'previous version')).toThrow(RefusedVersionError);
    expect(() => imageFor(service, undefined)).toThrow('is missing');
  });
});
