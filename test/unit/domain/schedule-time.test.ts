import { describe, expect, it } from 'vitest';
import type { DeployWindow } from '../../../src/domain/deploy-window.js';
import {
  DEFAULT_SCHEDULE_GRACE_SECONDS,
  formatStartTime,
  MAX_SCHEDULE_AHEAD_DAYS,
  parseStartTime,
  SCHEDULE_NOTICE_LEAD_MS,
  scheduleExpired,
  scheduleNoticeAt,
  scheduleNoticeText,
} from '../../../src/domain/schedule-time.js';

const MINUTE = 60_000;
const FORMS = '`HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]` or `next-window`';
/** Saturday 2026-12-05 14:05:00 UTC (15:05 in Berlin). */
const NOW = Date.UTC(2026, 11, 5, 14, 5);
const berlin: DeployWindow = { timezone: 'Europe/Berlin', blockedDays: [], blockedHours: [] };
/** The spec's catalog window: never on Fridays, not in New York's peak hours. */
const newYork: DeployWindow = {
  timezone: 'America/New_York',
  blockedDays: ['Fri'],
  blockedHours: ['09:00-11:00', '14:00-16:00'],
};

const startAt = (text: string, window: DeployWindow | undefined = undefined, now = NOW): number => {
  const parsed = parseStartTime(text, window, now);
  if (!parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${parsed.error}`);
  return parsed.startAt;
};

const error = (text: string, window: DeployWindow | undefined = undefined, now = NOW): string => {
  const parsed = parseStartTime(text, window, now);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(text)} to be refused, got ${parsed.startAt}`);
  return parsed.error;
};

describe('constants', () => {
  it('30 days ahead at most, an hour of grace, the notice half an hour ahead', () => {
    expect(MAX_SCHEDULE_AHEAD_DAYS).toBe(30);
    expect(DEFAULT_SCHEDULE_GRACE_SECONDS).toBe(3600);
    expect(SCHEDULE_NOTICE_LEAD_MS).toBe(30 * MINUTE);
  });
});

describe('parseStartTime: a time of day', () => {
  it('HH:MM still ahead today is today, in UTC without a window', () => {
    expect(startAt('16:30')).toBe(Date.UTC(2026, 11, 5, 16, 30));
    expect(startAt('14:06')).toBe(Date.UTC(2026, 11, 5, 14, 6));
  });

  it('HH:MM already past today, or now exactly, is tomorrow', () => {
    expect(startAt('10:00')).toBe(Date.UTC(2026, 11, 6, 10, 0));
    expect(startAt('14:05')).toBe(Date.UTC(2026, 11, 6, 14, 5));
    expect(startAt('00:00')).toBe(Date.UTC(2026, 11, 6, 0, 0));
  });

  it('HH:MM:SS and a one-digit hour', () => {
    expect(startAt('14:05:01')).toBe(Date.UTC(2026, 11, 5, 14, 5, 1));
    expect(startAt('23:59:59')).toBe(Date.UTC(2026, 11, 5, 23, 59, 59));
    expect(startAt('9:30')).toBe(Date.UTC(2026, 11, 6, 9, 30));
  });

  it('is read in the window’s time zone', () => {
    // 15:05 in Berlin (UTC+1 in December): 16:30 is still today, 15:00 is tomorrow.
    expect(startAt('16:30', berlin)).toBe(Date.UTC(2026, 11, 5, 15, 30));
    expect(startAt('15:00', berlin)).toBe(Date.UTC(2026, 11, 6, 14, 0));
    // 09:05 in New York (UTC−5): the next 09:00 is tomorrow.
    expect(startAt('09:00', newYork)).toBe(Date.UTC(2026, 11, 6, 14, 0));
  });

  it('the local day decides today, not the UTC one', () => {
    // 23:30 UTC is 00:30 the next day in Berlin; 01:00 Berlin is still ahead that same local day.
    expect(startAt('01:00', berlin, Date.UTC(2026, 11, 5, 23, 30))).toBe(Date.UTC(2026, 11, 6, 0, 0));
  });
});

describe('parseStartTime: a date and time', () => {
  it('YYYY-MM-DDTHH:MM and YYYY-MM-DDTHH:MM:SS, in UTC without a window', () => {
    expect(startAt('2026-12-06T14:00')).toBe(Date.UTC(2026, 11, 6, 14, 0));
    expect(startAt('2026-12-06T14:00:30')).toBe(Date.UTC(2026, 11, 6, 14, 0, 30));
    expect(startAt('2026-12-05t14:06')).toBe(Date.UTC(2026, 11, 5, 14, 6));
  });

  it('is read in the window’s time zone', () => {
    expect(startAt('2026-12-06T14:00', berlin)).toBe(Date.UTC(2026, 11, 6, 13, 0));
    expect(startAt('2026-12-06T14:00', newYork)).toBe(Date.UTC(2026, 11, 6, 19, 0));
  });

  it('at or before now is refused as past, showing now in that zone', () => {
    expect(error('2026-12-05T14:05')).toBe(
      `\`2026-12-05T14:05\` is in the past (now 2026-12-05 14:05 UTC); give a later start time as ${FORMS}`,
    );
    expect(error('2026-12-01T10:00', berlin)).toBe(
      `\`2026-12-01T10:00\` is in the past (now 2026-12-05 15:05 Europe/Berlin); give a later start time as ${FORMS}`,
    );
  });

  it('up to 30 days ahead; more is refused', () => {
    expect(startAt('2027-01-04T14:05')).toBe(NOW + 30 * 24 * 60 * MINUTE);
    expect(error('2027-01-04T14:06')).toBe(
      `\`2027-01-04T14:06\` is more than 30 days ahead (now 2026-12-05 14:05 UTC); give a start time within 30 days as ${FORMS}`,
    );
    expect(error('2030-01-01T00:00')).toContain('more than 30 days ahead');
  });
});

describe('parseStartTime: refusals of the form', () => {
  it.each(['25:00', '24:00', '12:60', '12:00:60', '2026-02-30T10:00', '2026-13-01T10:00', '2026-00-10T10:00'])(
    'out-of-range fields: %s',
    (text) => {
      expect(error(text)).toBe(`\`${text}\` is not a valid time of day or date; give ${FORMS} (UTC)`);
    },
  );

  it.each(['tomorrow', '14h', '1400', '14:0', '2026-12-06', '2026-12-06 14:00', '26-12-06T14:00', 'next', ''])(
    'not a start time: %j',
    (text) => {
      expect(error(text)).toBe(`\`${text}\` is not a start time; give ${FORMS} (UTC)`);
    },
  );

  it('names the window’s zone', () => {
    expect(error('noon', berlin)).toBe(`\`noon\` is not a start time; give ${FORMS} (Europe/Berlin)`);
  });

  it('echoes at most 40 characters, without backticks', () => {
    expect(error(`\`${'x'.repeat(100)}`)).toBe(`\`${'x'.repeat(40)}…\` is not a start time; give ${FORMS} (UTC)`);
  });

  it('2027-02-29 does not exist, 2028-02-29 does (but is too far ahead)', () => {
    expect(error('2027-02-29T10:00')).toContain('is not a valid time of day or date');
    expect(error('2028-02-29T10:00')).toContain('more than 30 days ahead');
  });
});

describe('parseStartTime: daylight saving time (Europe/Berlin)', () => {
  const march = Date.UTC(2026, 2, 20, 12, 0);

  it('a local time in the spring-forward gap does not exist', () => {
    // 2026-03-29 02:00 CET becomes 03:00 CEST.
    expect(error('2026-03-29T02:30', berlin, march)).toBe(
      `\`2026-03-29T02:30\` does not exist in Europe/Berlin: the clocks skip it that day; give another start time as ${FORMS}`,
    );
    expect(startAt('2026-03-29T01:59', berlin, march)).toBe(Date.UTC(2026, 2, 29, 0, 59));
    expect(startAt('2026-03-29T03:00', berlin, march)).toBe(Date.UTC(2026, 2, 29, 1, 0));
  });

  it('a time of day whose next occurrence falls in the gap is refused, not moved a day', () => {
    expect(error('02:30', berlin, Date.UTC(2026, 2, 29, 0, 0))).toContain('does not exist in Europe/Berlin');
    // Later that day the gap is behind: the next 02:30 is the following night's, in summer time.
    expect(startAt('02:30', berlin, Date.UTC(2026, 2, 29, 10, 0))).toBe(Date.UTC(2026, 2, 30, 0, 30));
  });

  it('an ambiguous local time in the autumn overlap is the earlier instant', () => {
    // 2026-10-25 03:00 CEST becomes 02:00 CET: 02:30 happens at 00:30 and 01:30 UTC.
    const october = Date.UTC(2026, 9, 20, 12, 0);
    expect(startAt('2026-10-25T02:30', berlin, october)).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(startAt('2026-10-25T03:30', berlin, october)).toBe(Date.UTC(2026, 9, 25, 2, 30));
  });

  it('a time of day in the overlap is its next occurrence: the second 02:30 once the first is past', () => {
    expect(startAt('02:30', berlin, Date.UTC(2026, 9, 25, 0, 0))).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(startAt('02:30', berlin, Date.UTC(2026, 9, 25, 0, 45))).toBe(Date.UTC(2026, 9, 25, 1, 30));
  });
});

describe('parseStartTime: next-window', () => {
  // Monday 2026-12-07; New York is UTC−5.
  const monday = (hour: number, minute = 0, second = 0) => Date.UTC(2026, 11, 7, hour + 5, minute, second);

  it('inside the window: now, on a whole minute, or the next whole minute', () => {
    expect(startAt('next-window', newYork, monday(12, 0))).toBe(monday(12, 0));
    expect(startAt('next-window', newYork, monday(12, 0, 30))).toBe(monday(12, 1));
  });

  it('in blocked hours: the minute they end', () => {
    expect(startAt('next-window', newYork, monday(9, 30))).toBe(monday(11, 0));
    expect(startAt('next-window', newYork, monday(15, 59, 1))).toBe(monday(16, 0));
  });

  it('on a blocked day: the first minute of the next day', () => {
    // Friday 2026-12-11 12:00 in New York → Saturday 00:00 there.
    expect(startAt('next-window', newYork, Date.UTC(2026, 11, 11, 17, 0))).toBe(Date.UTC(2026, 11, 12, 5, 0));
    // Thursday 23:59:30 → Friday is blocked too, so Saturday 00:00.
    expect(startAt('next-window', newYork, Date.UTC(2026, 11, 11, 4, 59, 30))).toBe(Date.UTC(2026, 11, 12, 5, 0));
  });

  it('without a deploy window it is refused, naming the other forms', () => {
    expect(error('next-window')).toBe(
      '`next-window` needs a deploy window, and this catalog has none; give a start time as `HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` (UTC) instead',
    );
  });

  it('a window that never opens is refused', () => {
    const never: DeployWindow = {
      timezone: 'Europe/Berlin',
      blockedDays: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
      blockedHours: [],
    };
    expect(error('next-window', never)).toBe(
      'the deploy window has no open minute in the next week; give a start time as `HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` (Europe/Berlin) instead',
    );
  });

  it('is a word of its own, case and all', () => {
    expect(error('Next-Window', newYork)).toContain('is not a start time');
  });
});

describe('scheduleNoticeAt', () => {
  const start = Date.UTC(2026, 11, 6, 14, 0);

  it('half an hour before the start when approved earlier', () => {
    expect(scheduleNoticeAt(start, start - 3 * 60 * MINUTE)).toBe(start - 30 * MINUTE);
    expect(scheduleNoticeAt(start, start - 30 * MINUTE)).toBe(start - 30 * MINUTE);
  });

  it('at approval when that is later', () => {
    expect(scheduleNoticeAt(start, start - 10 * MINUTE)).toBe(start - 10 * MINUTE);
    expect(scheduleNoticeAt(start, start + 5 * MINUTE)).toBe(start + 5 * MINUTE);
  });
});

describe('formatStartTime', () => {
  const start = Date.UTC(2026, 11, 6, 14, 0);

  it('the date and the zone without now', () => {
    expect(formatStartTime(start, 'UTC')).toBe('2026-12-06 14:00 UTC');
    expect(formatStartTime(start, 'Europe/Berlin')).toBe('2026-12-06 15:00 Europe/Berlin');
  });

  it('the time alone on the same local day, the date on another', () => {
    expect(formatStartTime(start, 'UTC', Date.UTC(2026, 11, 6, 0, 0))).toBe('14:00 UTC');
    expect(formatStartTime(start, 'UTC', Date.UTC(2026, 11, 5, 23, 59))).toBe('2026-12-06 14:00 UTC');
    // 23:30 UTC on the 5th is already the 6th in Berlin.
    expect(formatStartTime(start, 'Europe/Berlin', Date.UTC(2026, 11, 5, 23, 30))).toBe('15:00 Europe/Berlin');
  });

  it('seconds when there are some', () => {
    expect(formatStartTime(start + 30_000, 'UTC', start)).toBe('14:00:30 UTC');
  });
});

describe('scheduleNoticeText', () => {
  const start = Date.UTC(2026, 11, 6, 14, 0);

  it('seed 001’s notice', () => {
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start - 30 * MINUTE)).toBe(
      'Starting deployment v1.2.3 at 14:00 UTC (in 30 minutes)',
    );
    expect(scheduleNoticeText('a1b2c3d', start, 'Europe/Berlin', start - 30 * MINUTE)).toBe(
      'Starting deployment a1b2c3d at 15:00 Europe/Berlin (in 30 minutes)',
    );
  });

  it('minutes rounded up, one minute singular', () => {
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start - 29 * MINUTE - 1)).toContain('(in 30 minutes)');
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start - 90_000)).toContain('(in 2 minutes)');
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start - MINUTE)).toContain('(in 1 minute)');
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start - 1)).toContain('(in 1 minute)');
  });

  it('now, never in 0 minutes, at or after the start', () => {
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start)).toBe('Starting deployment v1.2.3 at 14:00 UTC (now)');
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start + 5 * MINUTE)).toContain('(now)');
  });

  it('the date when the start is on another local day', () => {
    expect(scheduleNoticeText('v1.2.3', start, 'UTC', start - 15 * 60 * MINUTE)).toBe(
      'Starting deployment v1.2.3 at 2026-12-06 14:00 UTC (in 900 minutes)',
    );
  });
});

describe('scheduleExpired', () => {
  const start = Date.UTC(2026, 11, 6, 14, 0);

  it('not before the start, nor at the end of the grace', () => {
    expect(scheduleExpired(start, 3600, start - MINUTE)).toBe(false);
    expect(scheduleExpired(start, 3600, start)).toBe(false);
    expect(scheduleExpired(start, 3600, start + 3600_000)).toBe(false);
  });

  it('once the grace is past', () => {
    expect(scheduleExpired(start, 3600, start + 3600_000 + 1)).toBe(true);
    expect(scheduleExpired(start, 0, start + 1)).toBe(true);
  });
});
