import { describe, expect, it } from 'vitest';
import {
  MAX_DEDUP_KEY_LENGTH,
  PAGE_CAUSES,
  pageFor,
  pageKey,
  parsePageKey,
  severityOf,
} from '../../../src/domain/paging.js';

describe('page keys and severities', () => {
  it('each cause has its key and severity', () => {
    expect(PAGE_CAUSES.map((cause) => pageFor('dep-42', cause))).toEqual([
      { dedupKey: 'switchyard-dep-42-rollback-failed', severity: 'critical' },
      { dedupKey: 'switchyard-dep-42-breach', severity: 'error' },
      { dedupKey: 'switchyard-dep-42-pause', severity: 'warning' },
    ]);
    expect(severityOf('pause')).toBe('warning');
  });

  it('the same deployment and cause always give the same key; others never collide', () => {
    expect(pageKey('01HZX3', 'breach')).toBe(pageKey('01HZX3', 'breach'));
    const keys = ['a', 'b', 'a-b'].flatMap((id) => PAGE_CAUSES.map((cause) => pageKey(id, cause)));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('parses its own keys back, even when the deployment id has dashes or looks like a cause', () => {
    for (const id of ['dep-42', '7c9e6679-7425-40de-944b-e07fc1f90ae7', 'x-breach', 'rollback']) {
      for (const cause of PAGE_CAUSES) expect(parsePageKey(pageKey(id, cause))).toEqual({ deploymentId: id, cause });
    }
    expect(parsePageKey('other-dep-42-breach')).toBeUndefined();
    expect(parsePageKey('switchyard-dep-42-outage')).toBeUndefined();
    expect(parsePageKey('switchyard--breach')).toBeUndefined();
  });

  it('refuses a key the paging service would not keep, or one without a deployment', () => {
    const longest = 'd'.repeat(MAX_DEDUP_KEY_LENGTH - 'switchyard--rollback-failed'.length);
    expect(pageKey(longest, 'rollback-failed')).toHaveLength(MAX_DEDUP_KEY_LENGTH);
    expect(() => pageKey(`${longest}d`, 'rollback-failed')).toThrow(/longer than 255/);
    expect(() => pageKey('', 'pause')).toThrow(/deployment id/);
  });
});
