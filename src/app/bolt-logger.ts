import { LogLevel, type Logger as SlackLogger } from '@slack/bolt';
import type { Logger } from 'pino';

const RANK: Record<LogLevel, number> = {
  [LogLevel.DEBUG]: 0,
  [LogLevel.INFO]: 1,
  [LogLevel.WARN]: 2,
  [LogLevel.ERROR]: 3,
};

/** Bolt and the Web API client log strings and errors in any mix; pino wants one message. */
function toPino(parts: unknown[]): [Record<string, unknown>, string] {
  const err = parts.find((p): p is Error => p instanceof Error);
  const text = parts
    .filter((p) => p !== err)
    .map((p) => (typeof p === 'string' ? p : JSON.stringify(p)))
    .join(' ');
  return [err ? { err } : {}, text || err?.message || ''];
}

/**
 * Bolt's and the Web API client's own lines, written by pino as JSON like every other line.
 * Bolt's level (`setLevel`) is a floor on top of pino's: LOG_LEVEL=debug still hides Bolt's
 * debug lines unless Bolt was told to log them too.
 */
export function boltLogger(log: Logger, name = 'bolt'): SlackLogger {
  let level = LogLevel.INFO;
  let child = log.child({ component: name });
  const write = (at: LogLevel, parts: unknown[]) => {
    if (RANK[at] < RANK[level]) return;
    const [fields, message] = toPino(parts);
    child[at](fields, message);
  };
  return {
    debug: (...parts: unknown[]) => write(LogLevel.DEBUG, parts),
    info: (...parts: unknown[]) => write(LogLevel.INFO, parts),
    warn: (...parts: unknown[]) => write(LogLevel.WARN, parts),
    error: (...parts: unknown[]) => write(LogLevel.ERROR, parts),
    setLevel: (next: LogLevel) => {
      level = next;
    },
    getLevel: () => level,
    setName: (next: string) => {
      child = log.child({ component: next });
    },
  };
}
