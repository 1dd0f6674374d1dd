import { describe, expect, it } from 'vitest';
import { DEPLOY_USAGE, parseDeployText, type DeployCommand } from '../../../commands/deploy-text.js';
import { DEFAULT_VERSION_RULE as VERSION_PATTERN } from '../../../src/domain/version.js';
import { parseCatalog, type Catalog } from '../../../src/runbook/catalog.js';
import { specCatalog, specCatalogInput } from '../fixtures.js';

/** When the commands are typed: a Saturday afternoon in UTC, 09:05 in the catalog's New York window. */
const NOW = Date.UTC(2026, 11, 5, 14, 5);

const catalog = specCatalog();
const SHA7 = 'a1b2c3d';
const SHA40 = '0123456789abcdef0123456789abcdef01234567';

const ok = (text: string, within: Catalog = catalog): DeployCommand => {
  const parsed = parseDeployText(text, within, NOW);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${parsed.error}`);
  return parsed.command;
};

const error = (text: string, within: Catalog = catalog): string => {
  const parsed = parseDeployText(text, within, NOW);
  if (parsed.ok)
    throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${JSON.stringify(parsed.command)}`);
  return parsed.error;
};

const deploy = (version: string, extra: Partial<Extract<DeployCommand, { kind: 'deploy' }>> = {}): DeployCommand => ({
  kind: 'deploy',
  service: 'acme-api',
  version,
  strategy: undefined,
  hotfix: false,
  dryRun: false,
  ...extra,
});

describe('parseDeployText: deploy', () => {
  it('service and version', () => {
    expect(ok(`acme-api ${SHA7}`)).toEqual(deploy(SHA7));
  });

  it('SHAs of 7 and 40 hex characters', () => {
    expect(ok(`acme-api ${SHA7}`)).toMatchObject({ version: SHA7 });
    expect(ok(`acme-api ${SHA40}`)).toMatchObject({ version: SHA40 });
    expect(ok('acme-api 0123456789ab')).toMatchObject({ version: '0123456789ab' });
  });

  it('tags v1.2.3 and v1.2.3-rc.1', () => {
    expect(ok('acme-api v1.2.3')).toEqual(deploy('v1.2.3'));
    expect(ok('acme-api v1.2.3-rc.1')).toEqual(deploy('v1.2.3-rc.1'));
    expect(ok('acme-api v10.20.30')).toMatchObject({ version: 'v10.20.30' });
  });

  it.each(['blue-green', 'canary', 'rolling'] as const)('strategy %s', (strategy) => {
    expect(ok(`acme-api v1.2.3 ${strategy}`)).toEqual(deploy('v1.2.3', { strategy }));
  });

  it('hotfix, dry-run and a strategy in any order', () => {
    const expected = deploy('v1.2.3', { strategy: 'canary', hotfix: true, dryRun: true });
    for (const flags of [
      'canary hotfix dry-run',
      'hotfix canary dry-run',
      'dry-run hotfix canary',
      'hotfix dry-run canary',
      'dry-run canary hotfix',
    ]) {
      expect(ok(`acme-api v1.2.3 ${flags}`)).toEqual(expected);
    }
    expect(ok('acme-api v1.2.3 hotfix')).toEqual(deploy('v1.2.3', { hotfix: true }));
    expect(ok('acme-api v1.2.3 dry-run')).toEqual(deploy('v1.2.3', { dryRun: true }));
  });

  it('tolerates extra whitespace', () => {
    expect(ok(`  acme-api \t ${SHA7}   hotfix  `)).toEqual(deploy(SHA7, { hotfix: true }));
  });

  it.each([
    ['a1b2c3', 'too short (6 hex)'],
    ['0123456789abcdef0123456789abcdef012345678', 'too long (41 hex)'],
    ['g1b2c3d', 'not hex'],
    ['1.2.3', 'tag without v'],
    ['v1.2', 'two-part tag'],
    ['v1.2.3.4', 'four-part tag'],
    ['latest', 'a word'],
    ['v1.2.3-', 'empty pre-release'],
  ])('refuses the version %s (%s), naming it (clipped to 40 characters) and what is accepted', (version) => {
    const shown = version.length > 40 ? `${version.slice(0, 40)}…` : version;
    expect(error(`acme-api ${version}`)).toBe(
      `\`${shown}\` is not a version; give a git SHA (7–40 hex characters) or a tag such as v1.2.3`,
    );
  });

  it('refuses a missing version', () => {
    expect(error('acme-api')).toBe(
      'give a version after `acme-api`: a git SHA (7–40 hex characters) or a tag such as v1.2.3',
    );
  });

  it('refuses an unknown service, listing the known ones', () => {
    const e = error(`acme-web ${SHA7}`);
    expect(e).toContain('unknown service `acme-web`; known services: acme-api, acme-worker');
    expect(e).toContain('Usage:');
  });

  it('a service name is not looked up on the prototype', () => {
    expect(error(`constructor ${SHA7}`)).toContain('unknown service `constructor`');
    expect(error(`toString ${SHA7}`)).toContain('unknown service `toString`');
  });

  it('refuses an unknown option, listing those accepted', () => {
    expect(error('acme-api v1.2.3 --force')).toBe(
      'unknown option `--force`; accepted: blue-green, canary, rolling, hotfix, dry-run, at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window',
    );
    expect(error('acme-api v1.2.3 hotfix now')).toBe(
      'unknown option `now`; accepted: blue-green, canary, rolling, hotfix, dry-run, at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window',
    );
  });

  it('refuses two strategies, even the same twice', () => {
    expect(error('acme-api v1.2.3 canary rolling')).toBe('give at most one strategy');
    expect(error('acme-api v1.2.3 canary hotfix canary')).toBe('give at most one strategy');
  });

  it('options are case-sensitive words', () => {
    expect(error('acme-api v1.2.3 Canary')).toContain('unknown option `Canary`');
  });
});

describe('parseDeployText: at <time>', () => {
  const FORMS = '`HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]` or `next-window`';
  const withEnvironments = (() => {
    const input = specCatalogInput();
    input.environments = { staging: {}, production: { promotedFrom: 'staging', soakSeconds: 600 } };
    return parseCatalog(input);
  })();
  const windowless = (() => {
    const input = specCatalogInput();
    delete input.window;
    return parseCatalog(input);
  })();

  it('a time of day is its next occurrence in the window’s zone (New York, UTC−5)', () => {
    expect(ok('acme-api v1.2.3 at 16:30')).toEqual(deploy('v1.2.3', { startAt: Date.UTC(2026, 11, 5, 21, 30) }));
    expect(ok('acme-api v1.2.3 at 16:30:15')).toMatchObject({ startAt: Date.UTC(2026, 11, 5, 21, 30, 15) });
    expect(ok('acme-api v1.2.3 at 08:00')).toMatchObject({ startAt: Date.UTC(2026, 11, 6, 13, 0) });
  });

  it('a date and time', () => {
    expect(ok('acme-api v1.2.3 at 2026-12-07T10:00')).toMatchObject({ startAt: Date.UTC(2026, 11, 7, 15, 0) });
    expect(ok('acme-api v1.2.3 at 2026-12-07T10:00:30')).toMatchObject({ startAt: Date.UTC(2026, 11, 7, 15, 0, 30) });
  });

  it('next-window: now is 09:05 in New York, blocked until 11:00', () => {
    expect(ok('acme-api v1.2.3 at next-window')).toMatchObject({ startAt: Date.UTC(2026, 11, 5, 16, 0) });
  });

  it('UTC without a deploy window, where next-window is refused', () => {
    expect(ok('acme-api v1.2.3 at 16:30', windowless)).toMatchObject({ startAt: Date.UTC(2026, 11, 5, 16, 30) });
    expect(error('acme-api v1.2.3 at next-window', windowless)).toContain(
      '`next-window` needs a deploy window, and this catalog has none',
    );
  });

  it('anywhere among the other options', () => {
    const startAt = Date.UTC(2026, 11, 5, 21, 30);
    for (const flags of ['at 16:30 canary hotfix', 'canary at 16:30 hotfix', 'canary hotfix at 16:30']) {
      expect(ok(`acme-api v1.2.3 ${flags}`)).toEqual(deploy('v1.2.3', { strategy: 'canary', hotfix: true, startAt }));
    }
    expect(ok('acme-api v1.2.3 staging at 16:30 rolling', withEnvironments)).toEqual(
      deploy('v1.2.3', { environment: 'staging', strategy: 'rolling', startAt }),
    );
    expect(ok('acme-api v1.2.3 at next-window production', withEnvironments)).toEqual(
      deploy('v1.2.3', { environment: 'production', startAt: Date.UTC(2026, 11, 5, 16, 0) }),
    );
  });

  it('with dry-run it parses; the dry run ignores it', () => {
    expect(ok('acme-api v1.2.3 dry-run at 16:30')).toEqual(
      deploy('v1.2.3', { dryRun: true, startAt: Date.UTC(2026, 11, 5, 21, 30) }),
    );
  });

  it('without a start time after it', () => {
    expect(error('acme-api v1.2.3 at')).toBe(`give a start time after \`at\`: ${FORMS}`);
    expect(error('acme-api v1.2.3 canary at')).toBe(`give a start time after \`at\`: ${FORMS}`);
  });

  it('twice', () => {
    expect(error('acme-api v1.2.3 at 16:30 at 17:00')).toBe(`give \`at\` once, with one start time: ${FORMS}`);
    expect(error('acme-api v1.2.3 at 16:30 canary at 16:30')).toBe(`give \`at\` once, with one start time: ${FORMS}`);
  });

  it('a word that is not a start time, an option included', () => {
    expect(error('acme-api v1.2.3 at noon')).toBe(`\`noon\` is not a start time; give ${FORMS} (America/New_York)`);
    expect(error('acme-api v1.2.3 at canary')).toContain('`canary` is not a start time');
    expect(error('acme-api v1.2.3 at 25:00')).toBe(
      `\`25:00\` is not a valid time of day or date; give ${FORMS} (America/New_York)`,
    );
  });

  it('in the past, or more than 30 days ahead', () => {
    expect(error('acme-api v1.2.3 at 2026-12-05T09:00')).toBe(
      `\`2026-12-05T09:00\` is in the past (now 2026-12-05 09:05 America/New_York); give a later start time as ${FORMS}`,
    );
    expect(error('acme-api v1.2.3 at 2027-02-01T10:00')).toContain('is more than 30 days ahead');
  });

  it('a hostile start time is echoed inert', () => {
    for (const text of ['acme-api v1.2.3 at <!channel>', 'acme-api v1.2.3 at <@U123>', 'acme-api v1.2.3 at `x`*y*']) {
      const e = error(text);
      expect(e).not.toMatch(/[<>]|<[!@#]|&lt;|\*/);
      expect(e).toContain('is not a start time');
    }
  });

  it('the usage names it', () => {
    expect(DEPLOY_USAGE).toContain('[at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window]');
  });
});

describe('parseDeployText: cancel', () => {
  const withEnvironments = (() => {
    const input = specCatalogInput();
    input.environments = { staging: {}, production: { promotedFrom: 'staging', soakSeconds: 600 } };
    return parseCatalog(input);
  })();
  const cancel = (extra: { version?: string; environment?: string } = {}): DeployCommand => ({
    kind: 'cancel',
    service: 'acme-api',
    ...extra,
  });

  it('a service alone, with a version, an environment or both (in either order)', () => {
    expect(ok('cancel acme-api')).toEqual(cancel());
    expect(ok('cancel acme-api v1.2.3')).toEqual(cancel({ version: 'v1.2.3' }));
    expect(ok(`cancel acme-api ${SHA7}`)).toEqual(cancel({ version: SHA7 }));
    expect(ok('cancel acme-api staging', withEnvironments)).toEqual(cancel({ environment: 'staging' }));
    expect(ok('cancel acme-api v1.2.3 production', withEnvironments)).toEqual(
      cancel({ version: 'v1.2.3', environment: 'production' }),
    );
    expect(ok('cancel acme-api production v1.2.3', withEnvironments)).toEqual(
      cancel({ version: 'v1.2.3', environment: 'production' }),
    );
  });

  it('an unknown service or none, with the usage', () => {
    const usage = 'Usage: `/deploy cancel &lt;service&gt; [&lt;version&gt;] [&lt;environment&gt;]`';
    expect(error('cancel')).toBe(`name a service; known services: acme-api, acme-worker. ${usage}`);
    expect(error('cancel acme-web v1.2.3')).toBe(
      `unknown service \`acme-web\`; known services: acme-api, acme-worker. ${usage}`,
    );
  });

  it('a word that is neither a version nor an environment', () => {
    expect(error('cancel acme-api 1.2.3')).toBe(
      '`1.2.3` is not a version; give a git SHA (7–40 hex characters) or a tag such as v1.2.3',
    );
    expect(error('cancel acme-api qa', withEnvironments)).toBe(
      '`qa` is not a version; give a git SHA (7–40 hex characters) or a tag such as v1.2.3 (or after an environment: staging, production)',
    );
  });

  it('extra words', () => {
    expect(error('cancel acme-api v1.2.3 v1.2.4')).toBe(
      '`v1.2.4` is one word too many; give at most a version and an environment after `cancel acme-api`',
    );
    expect(error('cancel acme-api v1.2.3 production now', withEnvironments)).toContain('`now` is one word too many');
    expect(error('cancel acme-api staging production', withEnvironments)).toBe(
      'give at most one environment (known environments: staging, production)',
    );
  });

  it('the usage names it', () => {
    expect(DEPLOY_USAGE).toContain(
      '`/deploy cancel &lt;service&gt; [&lt;version&gt;] [&lt;environment&gt;]` — cancel a queued, scheduled or unapproved deployment',
    );
  });
});

describe('parseDeployText: help, status, history, clear', () => {
  it('help: empty text, blanks, or `help`', () => {
    expect(ok('')).toEqual({ kind: 'help' });
    expect(ok('   ')).toEqual({ kind: 'help' });
    expect(ok('help')).toEqual({ kind: 'help' });
  });

  it('status with and without a service', () => {
    expect(ok('status')).toEqual({ kind: 'status', service: undefined });
    expect(ok('status acme-worker')).toEqual({ kind: 'status', service: 'acme-worker' });
    expect(error('status acme-web')).toBe('unknown service `acme-web`; known services: acme-api, acme-worker');
  });

  it('history: a service and an optional count from 1 to 50 (default 10)', () => {
    expect(ok('history acme-api')).toEqual({ kind: 'history', service: 'acme-api', limit: 10 });
    expect(ok('history acme-api 1')).toEqual({ kind: 'history', service: 'acme-api', limit: 1 });
    expect(ok('history acme-api 50')).toEqual({ kind: 'history', service: 'acme-api', limit: 50 });
  });

  it('history errors: no service, unknown service, bad counts', () => {
    expect(error('history')).toBe('name a service; known services: acme-api, acme-worker');
    expect(error('history acme-web')).toBe('unknown service `acme-web`; known services: acme-api, acme-worker');
    for (const n of ['0', '51', '2.5', 'ten', '-3']) {
      expect(error(`history acme-api ${n}`)).toBe(`\`${n}\` is not a count; give a whole number from 1 to 50`);
    }
  });

  it('clear: service, version and an RCA link', () => {
    expect(ok('clear acme-api v1.2.3 https://wiki.acme.io/rca/42')).toEqual({
      kind: 'clear',
      service: 'acme-api',
      version: 'v1.2.3',
      rca: 'https://wiki.acme.io/rca/42',
    });
  });

  it('clear: a Slack-formatted link <https://x|y> or <https://x> gives its URL', () => {
    expect(ok('clear acme-api a1b2c3d <https://wiki.acme.io/rca/42|RCA 42>')).toMatchObject({
      rca: 'https://wiki.acme.io/rca/42',
    });
    expect(ok('clear acme-api a1b2c3d <https://wiki.acme.io/rca/42>')).toMatchObject({
      rca: 'https://wiki.acme.io/rca/42',
    });
    expect(ok('clear acme-api a1b2c3d <http://x|y>')).toMatchObject({ rca: 'http://x' });
  });

  it('clear errors: unknown service, bad version, missing or non-http RCA', () => {
    expect(error('clear')).toBe('name a service; known services: acme-api, acme-worker');
    expect(error('clear acme-web v1.2.3 https://x')).toBe(
      'unknown service `acme-web`; known services: acme-api, acme-worker',
    );
    expect(error('clear acme-api')).toBe(
      '`` is not a version; give a git SHA (7–40 hex characters) or a tag such as v1.2.3',
    );
    expect(error('clear acme-api 1.2.3 https://x')).toBe(
      '`1.2.3` is not a version; give a git SHA (7–40 hex characters) or a tag such as v1.2.3',
    );
    expect(error('clear acme-api v1.2.3')).toBe(
      'give the link to the root-cause analysis (https://…) after the version',
    );
    expect(error('clear acme-api v1.2.3 JIRA-42')).toBe(
      'give the link to the root-cause analysis (https://…) after the version',
    );
    expect(error('clear acme-api v1.2.3 ftp://x/rca')).toBe(
      'give the link to the root-cause analysis (https://…) after the version',
    );
  });
});

describe('parseDeployText: freeze and unfreeze', () => {
  it('freeze a service or all, with a reason', () => {
    expect(ok('freeze acme-api db migration running')).toEqual({
      kind: 'freeze',
      scope: 'acme-api',
      reason: 'db migration running',
    });
    expect(ok('freeze all end of quarter')).toEqual({ kind: 'freeze', scope: 'all', reason: 'end of quarter' });
  });

  it('the reason is kept to 500 characters', () => {
    const parsed = ok(`freeze all ${'r'.repeat(900)}`);
    expect(parsed).toMatchObject({ kind: 'freeze', scope: 'all' });
    expect((parsed as { reason: string }).reason).toHaveLength(500);
  });

  it('unfreeze a service or all', () => {
    expect(ok('unfreeze acme-worker')).toEqual({ kind: 'unfreeze', scope: 'acme-worker' });
    expect(ok('unfreeze all')).toEqual({ kind: 'unfreeze', scope: 'all' });
  });

  it('errors: no target, unknown service, no reason', () => {
    expect(error('freeze')).toBe('name a service; known services: acme-api, acme-worker (or `all`)');
    expect(error('unfreeze acme-web')).toBe(
      'unknown service `acme-web`; known services: acme-api, acme-worker (or `all`)',
    );
    expect(error('freeze acme-api')).toBe(
      'give the reason for the freeze after the service; it is shown to anyone who tries to deploy',
    );
  });

  it('a hostile target is not echoed with its markup', () => {
    const e = error('freeze <!channel> now');
    expect(e).not.toContain('<!channel>');
    expect(e).toContain('`!channel`');
  });
});

describe('parseDeployText: hostile input', () => {
  /** Nothing a user typed may become a mention, a link or formatting in our reply. */
  const assertInert = (e: string) => {
    expect(e).not.toMatch(/<[!@#]/);
    expect(e).not.toContain('<https');
    expect(e).not.toContain('<http');
    expect(e).not.toContain('!channel>');
    expect(e).not.toContain('&lt;');
    expect(e).not.toMatch(/\*\*|~~|__/);
  };

  it.each([
    '<!channel> a1b2c3d',
    '<!here|here> v1.2.3',
    '<@U123> v1.2.3',
    '<@U123|bob> v1.2.3',
    '<#C999|general> v1.2.3',
    '<!subteam^S123|@oncall> v1.2.3',
  ])('an unknown service given as %s', (text) => {
    const e = error(text);
    expect(e).toMatch(/^unknown service `[^`<>&]*`/);
    assertInert(e.replace(/Usage: .*$/, ''));
  });

  it('a version, option, count or RCA made of mentions', () => {
    for (const text of [
      'acme-api <!channel>',
      'acme-api <@U123>',
      'acme-api v1.2.3 <!channel>',
      'acme-api v1.2.3 *bold*',
      'history acme-api <!everyone>',
      'clear acme-api <!channel> https://x',
      'clear acme-api v1.2.3 <!channel>',
      'status <!here>',
    ]) {
      assertInert(error(text));
    }
  });

  it('a link in place of a service is reduced to its URL, without markup', () => {
    const e = error('<https://evil.example/phish|click me> v1.2.3');
    expect(e).not.toContain('<https://evil');
    expect(e).not.toContain('|click me');
  });

  it('Slack’s escaped entities (&lt;!channel&gt;) are not echoed as entities either', () => {
    // The usage text after the echo is ours and spells its placeholders as entities on purpose.
    assertInert(error('&lt;!channel&gt; v1.2.3').replace(/Usage: .*$/, ''));
    assertInert(error('acme-api &lt;@U123&gt;'));
  });

  it('very long input: the error stays short and echoes at most 40 characters of it', () => {
    const long = 'x'.repeat(10_000);
    for (const text of [
      long,
      `acme-api ${long}`,
      `acme-api v1.2.3 ${long}`,
      `history acme-api ${long}`,
      `status ${long}`,
    ]) {
      const e = error(text);
      expect(e.length).toBeLessThan(400);
      expect(e).not.toContain('x'.repeat(41));
      expect(e).toContain('x'.repeat(40) + '…');
    }
  });

  it('backticks cannot break out of the code span', () => {
    const e = error('acme-api v1.2.3 `x`<!channel>`');
    expect(e).toBe(
      'unknown option `x!channel`; accepted: blue-green, canary, rolling, hotfix, dry-run, at HH:MM[:SS]|YYYY-MM-DDTHH:MM[:SS]|next-window',
    );
  });

  // Slack treats < > & as control characters in any message text; ours must be escaped too
  // (https://api.slack.com/reference/surfaces/formatting#escaping). The usage placeholders
  // `<service> <version>` are sent raw, so Slack parses them as links instead of showing them.
  it('the usage and errors send no raw < or > (placeholders as &lt;service&gt;)', () => {
    expect(error(`acme-web ${SHA7}`)).not.toMatch(/[<>]/);
    expect(DEPLOY_USAGE).not.toMatch(/[<>]/);
  });
});

describe('VERSION_PATTERN', () => {
  it('matches exactly the accepted forms', () => {
    for (const v of [SHA7, SHA40, 'v0.0.1', 'v1.2.3-rc.1', 'v1.2.3-beta-2']) expect(VERSION_PATTERN.test(v)).toBe(true);
    for (const v of ['', 'a1b2c3', `${SHA40}0`, 'V1.2.3', 'v1.2.3 ', 'v1.2.3\nrm -rf'])
      expect(VERSION_PATTERN.test(v)).toBe(false);
  });
});
