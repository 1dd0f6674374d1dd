import { zonedParts } from './zoned-time.js';
export type Weekday = 'Mon' | 'Tue' | 'Wed' | 'Thu' | 'Fri' | 'Sat' | 'Sun';

/** When non-hotfix deploys are allowed: days and `HH:MM-HH:MM` ranges blocked, in one time zone. */
export interface DeployWindow {
  timezone: string;
  blockedDays: Weekday[];
  blockedHours: string[];
}

const MINUTE = 60_000;
/** A week and a day: past that, every slot is blocked and there is no next open one. */
const SEARCH_MINUTES = 8 * 24 * 60;

interface LocalTime {
  day: Weekday;
  minutes: number;
}

function localTime(ms: number, timeZone: string): LocalTime {
  const parts = zonedParts(ms, timeZone);
  return { day: parts.weekday as LocalTime['day'], minutes: Number(parts.hour) * 60 + Number(parts.minute) };
}

const toMinutes = (hhmm: string): number => {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
};

/** Why `ms` falls outside the deploy window (seeds 001, 002: never on Fridays, avoid peak hours), if it does. */
function blockedBecause(window: DeployWindow, ms: number): string | undefined {
  const local = localTime(ms, window.timezone);
  if (window.blockedDays.includes(local.day)) return `deploys are blocked on ${local.day}`;
  for (const range of window.blockedHours) {
    const [from, to] = range.split('-') as [string, string];
    if (local.minutes >= toMinutes(from) && local.minutes < toMinutes(to)) return `deploys are blocked ${range}`;
  }
  return undefined;
}

/** The first minute from `ms` on when deploying is allowed, or undefined if none within a week. */
export function nextOpenSlot(window: DeployWindow, ms: number): number | undefined {
  const start = Math.ceil(ms / MINUTE) * MINUTE;
  for (let i = 0; i <= SEARCH_MINUTES; i += 1) {
    const candidate = start + i * MINUTE;
    if (!blockedBecause(window, candidate)) return candidate;
  }
  return undefined;
}

/** `Mon 09:00 America/New_York` */
function describeLocal(window: DeployWindow, ms: number): string {
  const local = localTime(ms, window.timezone);
  const hh = String(Math.floor(local.minutes / 60)).padStart(2, '0');
  const mm = String(local.minutes % 60).padStart(2, '0');
  return `${local.day} ${hh}:${mm} ${window.timezone}`;
}

/** The refusal for a non-hotfix deploy outside the window, naming the next open slot. */
export function windowRefusal(window: DeployWindow | undefined, now: number): string | undefined {
  if (!window) return undefined;
  const reason = blockedBecause(window, now);
  if (!reason) return undefined;
  const next = nextOpenSlot(window, now);
  const when = next === undefined ? 'no open slot in the next week' : `next open slot: ${describeLocal(window, next)}`;
  return `${reason} (${window.timezone}, now ${describeLocal(window, now)}); ${when}. Add \`hotfix\` to deploy anyway with a justification.`;
}
