/** The calendar and clock fields of an instant in a time zone, as strings from Intl. */
export interface ZonedParts {
  year: string;
  month: string;
  day: string;
  /** `Mon` … `Sun`. */
  weekday: string;
  hour: string;
  minute: string;
  second: string;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Building an Intl formatter is costly, so there is one per time zone for the process. */
export function zonedParts(ms: number, timeZone: string): ZonedParts {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return parts as unknown as ZonedParts;
}
