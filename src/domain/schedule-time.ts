import { nextOpenSlot, type DeployWindow } from './deploy-window.js';
import { zonedParts } from './zoned-time.js';

/** A start further ahead than this is refused: a month is past any release plan the thread still remembers. */
export const MAX_SCHEDULE_AHEAD_DAYS = 30;
/** How late a scheduled deployment may still start (queued behind a long one, say) before it expires. */
export const DEFAULT_SCHEDULE_GRACE_SECONDS = 3600;
/** Seed 001 announces a scheduled start half an hour ahead. */
export const SCHEDULE_NOTICE_LEAD_MS = 30 * 60_000;

const SECOND = 1000;
const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

const FORMS = '`HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]` or `next-window`';
const CLOCK = String.raw`(?<hour>\d{1,2}):(?<minute>\d{2})(?::(?<second>\d{2}))?`;
const TIME = new RegExp(`^${CLOCK}$`);
const DATE_TIME = new RegExp(String.raw`^(?<year>\d{4})-(?<month>\d{2})-(?<day>\d{2})[Tt]${CLOCK}$`);

export type StartTime = { ok: true; startAt: number } | { ok: false; error: string };

const refuse = (error: string): StartTime => ({ ok: false, error });

/**
 * The wall clock of `ms` in `timeZone`, written as if it were a UTC instant: its difference
 * from `ms` is the zone's offset then. Local date-times are compared in this form.
 */
function wallClock(ms: number, timeZone: string): number {
  const p = zonedParts(ms, timeZone);
  return Date.UTC(
    Number(p.year),
    Number(p.month) - 1,
    Number(p.day),
    Number(p.hour),
    Number(p.minute),
    Number(p.second),
  );
}

const offsetAt = (ms: number, timeZone: string): number => wallClock(ms, timeZone) - Math.floor(ms / SECOND) * SECOND;

/**
 * The instants whose wall clock in `timeZone` reads `wall`, earliest first: none in a
 * spring-forward gap, two in an autumn overlap. Offsets a day either side bracket any single
 * transition, and zones never change offset twice within two days.
 */
function instantsAt(wall: number, timeZone: string): number[] {
  const offsets = new Set([offsetAt(wall - DAY, timeZone), offsetAt(wall + DAY, timeZone)]);
  return [...offsets]
    .map((offset) => wall - offset)
    .filter((ms) => wallClock(ms, timeZone) === wall)
    .sort((a, b) => a - b);
}

const wallDate = (ms: number, timeZone: string): string => {
  const p = zonedParts(ms, timeZone);
  return `${p.year}-${p.month}-${p.day}`;
};

/**
 * `14:00 Europe/Berlin` when `now` is given and falls on the same local day, otherwise
 * `2026-12-06 14:00 Europe/Berlin`; seconds only when there are some. The zone is always
 * named, UTC too, so nobody has to guess which clock a time is on.
 */
export function formatStartTime(startAt: number, timeZone: string, now?: number): string {
  const p = zonedParts(startAt, timeZone);
  const date = `${p.year}-${p.month}-${p.day}`;
  const sameDay = now !== undefined && wallDate(now, timeZone) === date;
  const seconds = p.second === '00' ? '' : `:${p.second}`;
  return `${sameDay ? '' : `${date} `}${p.hour}:${p.minute}${seconds} ${timeZone}`;
}

/**
 * The word as it may appear in a refusal: one short piece, without the characters that would
 * break its code span or read as Slack markup (the commands echo what users typed the same way).
 */
const shown = (text: string): string => {
  const plain = text.replace(/[`<>&*_~]/g, '');
  return plain.length > 40 ? `${plain.slice(0, 40)}…` : plain;
};

interface Clock {
  hour: number;
  minute: number;
  second: number;
}

type Fields = Partial<Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second', string>>;

const readClock = (fields: Fields): Clock | undefined => {
  const clock = { hour: Number(fields.hour), minute: Number(fields.minute), second: Number(fields.second ?? 0) };
  return clock.hour <= 23 && clock.minute <= 59 && clock.second <= 59 ? clock : undefined;
};

/** The wall clock of a calendar date and time, or undefined when there is no such date (2026-02-30). */
function readDate(fields: Fields, clock: Clock): number | undefined {
  const [year, month, day] = [Number(fields.year), Number(fields.month), Number(fields.day)];
  const wall = Date.UTC(year, month - 1, day, clock.hour, clock.minute, clock.second);
  const check = new Date(wall);
  const exists = check.getUTCFullYear() === year && check.getUTCMonth() === month - 1 && check.getUTCDate() === day;
  return exists ? wall : undefined;
}

/**
 * The start of a scheduled deployment from the word after `at`, in the deploy window's time
 * zone (UTC without one): `HH:MM[:SS]` is its next occurrence after `now`, `YYYY-MM-DDTHH:MM[:SS]`
 * that moment (the earlier one when the clocks go back), `next-window` the first minute from
 * `now` on that the window allows. Refusals name what was wrong and the accepted forms.
 */
export function parseStartTime(text: string, window: DeployWindow | undefined, now: number): StartTime {
  const zone = window?.timezone ?? 'UTC';
  if (text === 'next-window') return nextWindow(window, now);
  const fields = (TIME.exec(text) ?? DATE_TIME.exec(text))?.groups;
  if (!fields) return refuse(`\`${shown(text)}\` is not a start time; give ${FORMS} (${zone})`);
  const clock = readClock(fields);
  const wall = clock && fields.year !== undefined ? readDate(fields, clock) : undefined;
  if (!clock || (fields.year !== undefined && wall === undefined))
    return refuse(`\`${shown(text)}\` is not a valid time of day or date; give ${FORMS} (${zone})`);
  const startAt = wall === undefined ? nextOccurrence(clock, zone, now) : instantsAt(wall, zone)[0];
  if (startAt === undefined)
    return refuse(
      `\`${text}\` does not exist in ${zone}: the clocks skip it that day; give another start time as ${FORMS}`,
    );
  if (startAt <= now)
    return refuse(
      `\`${text}\` is in the past (now ${formatStartTime(now, zone)}); give a later start time as ${FORMS}`,
    );
  if (startAt - now > MAX_SCHEDULE_AHEAD_DAYS * DAY)
    return refuse(
      `\`${text}\` is more than ${MAX_SCHEDULE_AHEAD_DAYS} days ahead (now ${formatStartTime(now, zone)}); give a start time within ${MAX_SCHEDULE_AHEAD_DAYS} days as ${FORMS}`,
    );
  return { ok: true, startAt };
}

/**
 * The first instant after `now` at that time of day: today's if still ahead, else tomorrow's
 * (or the day after, for a zone that skipped a day). Undefined when the next one falls in a
 * spring-forward gap: scheduling a day later than meant would surprise more than a refusal.
 */
function nextOccurrence(clock: Clock, zone: string, now: number): number | undefined {
  const today = zonedParts(now, zone);
  for (let days = 0; days <= 2; days += 1) {
    const wall = Date.UTC(
      Number(today.year),
      Number(today.month) - 1,
      Number(today.day) + days,
      clock.hour,
      clock.minute,
      clock.second,
    );
    const instants = instantsAt(wall, zone);
    const next = instants.find((ms) => ms > now);
    if (next !== undefined) return next;
    // In a gap the time would have come at the offset before the jump; past that, it is tomorrow's turn.
    if (instants.length === 0 && wall - offsetAt(wall - DAY, zone) > now) return undefined;
  }
  return undefined;
}

function nextWindow(window: DeployWindow | undefined, now: number): StartTime {
  if (!window)
    return refuse(
      '`next-window` needs a deploy window, and this catalog has none; give a start time as `HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` (UTC) instead',
    );
  const slot = nextOpenSlot(window, now);
  if (slot === undefined)
    return refuse(
      `the deploy window has no open minute in the next week; give a start time as \`HH:MM[:SS]\` or \`YYYY-MM-DDTHH:MM[:SS]\` (${window.timezone}) instead`,
    );
  return { ok: true, startAt: slot };
}

/** When seed 001's notice goes out: half an hour before the start, or at approval when that is later. */
export const scheduleNoticeAt = (startAt: number, approvedAt: number): number =>
  Math.max(startAt - SCHEDULE_NOTICE_LEAD_MS, approvedAt);

/** Seed 001's notice: `Starting deployment v1.2.3 at 14:00 UTC (in 30 minutes)`; minutes rounded up. */
export function scheduleNoticeText(version: string, startAt: number, timeZone: string, now: number): string {
  const minutes = Math.ceil((startAt - now) / MINUTE);
  const when = startAt <= now ? 'now' : `in ${minutes} ${minutes === 1 ? 'minute' : 'minutes'}`;
  return `Starting deployment ${version} at ${formatStartTime(startAt, timeZone, now)} (${when})`;
}

/** A scheduled deployment that could not start within its grace expires instead of starting late. */
export const scheduleExpired = (startAt: number, graceSeconds: number, now: number): boolean =>
  now > startAt + graceSeconds * SECOND;
