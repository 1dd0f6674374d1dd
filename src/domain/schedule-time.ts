// Placeholder until the sched branch lands (taken from there on merge).
export const SCHEDULE_NOTICE_LEAD_MS = 30 * 60_000;
export const DEFAULT_SCHEDULE_GRACE_SECONDS = 3600;
export const scheduleNoticeAt = (startAt: number, approvedAt: number): number =>
  Math.max(startAt - SCHEDULE_NOTICE_LEAD_MS, approvedAt);
export const scheduleExpired = (startAt: number, graceSeconds: number, now: number): boolean =>
  now > startAt + graceSeconds * 1000;
export const scheduleNoticeText = (version: string, startAt: number, _timeZone: string, now: number): string =>
  `Starting deployment ${version} at ${new Date(startAt).toISOString().slice(11, 16)} (in ${Math.ceil((startAt - now) / 60_000)} minutes)`;
export const formatStartTime = (startAt: number, timeZone: string, _now?: number): string =>
  `${new Date(startAt).toISOString().slice(0, 16).replace('T', ' ')} ${timeZone}`;
