import { describe, expect, it } from 'vitest';
import {
  deploymentKeyNames,
  describeDeploymentMemory,
  summarizeDeploymentMemory,
} from '../../../bench/redis-memory.js';

describe('bench: Redis memory of one finished deployment', () => {
  it('names every key a deployment owns, one edit key per posted message', () => {
    expect(deploymentKeyNames('sy', 'd1', ['announcement', 'alert:x'])).toEqual([
      { kind: 'record', key: 'sy:deploy:d1' },
      { kind: 'events', key: 'sy:events:d1' },
      { kind: 'intents', key: 'sy:intents:d1' },
      { kind: 'posted', key: 'sy:posted:d1' },
      { kind: 'outbox', key: 'sy:outbox:d1' },
      { kind: 'outbox', key: 'sy:sending:d1' },
      { kind: 'edits', key: 'sy:edit:d1:announcement' },
      { kind: 'edits', key: 'sy:edit:d1:alert:x' },
    ]);
  });

  it('adds up by kind, skips absent keys and lists keys left without a TTL', () => {
    const m = summarizeDeploymentMemory('d1', [
      { kind: 'record', key: 'r', bytes: 2048, ttlMs: 1000 },
      { kind: 'events', key: 'e', bytes: 10_240, ttlMs: -1 },
      { kind: 'outbox', key: 'o', bytes: null, ttlMs: -2 },
      { kind: 'outbox', key: 's', bytes: 512, ttlMs: 1000 },
    ]);
    expect(m).toEqual({
      deploymentId: 'd1',
      totalBytes: 12_800,
      byKind: { record: 2048, events: 10_240, outbox: 512 },
      withoutTtl: ['e'],
    });
    expect(describeDeploymentMemory(m)).toBe(
      'd1: 12.5 KiB (record 2.0 KiB, events 10.0 KiB, outbox 0.5 KiB); no TTL on e',
    );
  });
});
