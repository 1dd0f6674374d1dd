import { describe, expect, it } from 'vitest';
import { packageOf, summarizeProfile, type CpuProfile } from '../../../bench/cpu-profile.js';
import { commandDelta, parseCommandStats } from '../../../bench/redis-server.js';

describe('INFO commandstats', () => {
  const info = [
    '# Commandstats',
    'cmdstat_get:calls=12,usec=30,usec_per_call=2.50,rejected_calls=0,failed_calls=0',
    'cmdstat_evalsha:calls=5,usec=100,usec_per_call=20.00,rejected_calls=0,failed_calls=0',
    'cmdstat_client|setname:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0',
    'cmdstat_info:calls=9,usec=90,usec_per_call=10.00,rejected_calls=0,failed_calls=0',
    '',
  ].join('\r\n');

  it('reads calls per command, leaving out the INFO calls that read them', () => {
    expect(parseCommandStats(info)).toEqual({ get: 12, evalsha: 5, 'client|setname': 2 });
  });

  it('keeps only the commands that were called in between', () => {
    expect(commandDelta({ get: 12, set: 3 }, { get: 20, set: 3, zadd: 4 })).toEqual({ get: 8, zadd: 4 });
  });
});

describe('CPU profile summary', () => {
  const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
  const root = '/work/main/';
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)'), children: [2, 4, 5] },
      { id: 2, callFrame: frame('(idle)') },
      {
        id: 3,
        callFrame: frame('verify', 'file:///work/main/node_modules/@slack/bolt/dist/receivers/verify-request.js', 41),
      },
      { id: 4, callFrame: frame('tick', 'file:///work/main/src/queue/deployment-worker.ts', 9), children: [3] },
      { id: 5, callFrame: frame('(garbage collector)') },
    ],
    // Each delta belongs to the sample before it: 3 → 6 ms, 4 → 2 ms, 2 (idle) → 10 ms, 5 → 2 ms.
    samples: [3, 4, 2, 5, 3],
    timeDeltas: [0, 6000, 2000, 10000, 2000],
  };

  it('ranks self time by function and by package, idle left out', () => {
    const summary = summarizeProfile(profile, 'bot.cpuprofile', root);
    expect(summary.busyMs).toBe(10);
    expect(summary.functions[0]).toEqual({
      name: 'verify (node_modules/@slack/bolt/dist/receivers/verify-request.js:42)',
      selfMs: 6,
      percent: 60,
    });
    expect(summary.packages.map((p) => p.name)).toEqual(['@slack/bolt', 'src/queue', '(garbage collector)']);
    expect(summary.functions.some((f) => f.name.startsWith('(idle)'))).toBe(false);
  });

  it('charges a package for the time of everything it called', () => {
    const summary = summarizeProfile(profile, 'bot.cpuprofile', root);
    expect(summary.inclusive).toEqual([
      { name: 'src/queue', selfMs: 8, percent: 80 },
      { name: '@slack/bolt', selfMs: 6, percent: 60 },
    ]);
  });

  it('names the package of a nested install by its innermost node_modules', () => {
    expect(packageOf('file:///app/node_modules/bullmq/node_modules/ioredis/built/Redis.js')).toBe('ioredis');
    expect(packageOf('node:internal/streams/readable')).toBe('node:internal');
    expect(packageOf('')).toBe('(native / V8)');
  });
});
