import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ConfigInvalid } from '../../src/errors.js';

const REQUIRED = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh' };

/** The error message loadConfig throws for `env`. */
function errorOf(env: Record<string, string | undefined>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigInvalid);
    expect((error as ConfigInvalid).code).toBe('config_invalid');
    return (error as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('defaults for everything optional', () => {
    const config = loadConfig({ ...REQUIRED });
    expect(config).toEqual({
      ...REQUIRED,
      REDIS_URL: 'redis://127.0.0.1:6379',
      SERVICES_FILE: 'services.yaml',
      PORT: 3000,
      DD_SITE: 'datadoghq.com',
      SWITCHYARD_PREFIX: 'switchyard',
      RETENTION_DAYS: 90,
      WORKER_CONCURRENCY: 50,
      WORKER_LOCK_MS: 5_000,
      WORKER_STALLED_INTERVAL_MS: 1_000,
      SLACK_CHANNEL_MESSAGES_PER_SECOND: 1,
      ANNOUNCEMENT_UPDATE_MS: 3_000,
      LOG_LEVEL: 'info',
    });
    expect(config.SLACK_APP_TOKEN).toBeUndefined();
    expect(config.SLACK_API_URL).toBeUndefined();
  });

  it('keeps the values given, coercing numbers', () => {
    const config = loadConfig({
      ...REQUIRED,
      SLACK_APP_TOKEN: 'xapp-1-A-1',
      SLACK_API_URL: 'http://127.0.0.1:9000/api/',
      REDIS_URL: 'rediss://cache.internal:6380/2',
      SERVICES_FILE: '/etc/switchyard/services.yaml',
      PORT: '8080',
      DATADOG_API_URL: 'http://127.0.0.1:8126',
      WORKER_CONCURRENCY: '4',
    });
    expect(config).toMatchObject({
      SLACK_APP_TOKEN: 'xapp-1-A-1',
      SLACK_API_URL: 'http://127.0.0.1:9000/api/',
      REDIS_URL: 'rediss://cache.internal:6380/2',
      SERVICES_FILE: '/etc/switchyard/services.yaml',
      PORT: 8080,
      DATADOG_API_URL: 'http://127.0.0.1:8126',
      WORKER_CONCURRENCY: 4,
    });
  });

  it('an empty variable counts as unset', () => {
    expect(loadConfig({ ...REQUIRED, PORT: '', REDIS_URL: '', SLACK_APP_TOKEN: '' })).toMatchObject({
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
    });
    expect(errorOf({ SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: 'x' })).toBe(
      'invalid environment: SLACK_BOT_TOKEN is required (xoxb-…)',
    );
  });

  it('a missing SLACK_BOT_TOKEN is named', () => {
    expect(errorOf({ SLACK_SIGNING_SECRET: 'shh' })).toBe('invalid environment: SLACK_BOT_TOKEN is required (xoxb-…)');
  });

  it('a missing SLACK_SIGNING_SECRET is named, with Socket Mode as the alternative', () => {
    expect(errorOf({ SLACK_BOT_TOKEN: 'xoxb-1' })).toBe(
      'invalid environment: SLACK_SIGNING_SECRET is required (or set SLACK_APP_TOKEN, xapp-…, to receive over Socket Mode instead of HTTP)',
    );
  });

  it('Socket Mode (SLACK_APP_TOKEN) needs no SLACK_SIGNING_SECRET', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1-A-1' });
    expect(config.SLACK_SIGNING_SECRET).toBeUndefined();
    expect(config.SLACK_APP_TOKEN).toBe('xapp-1-A-1');
  });

  it('both missing: both named, on one line', () => {
    const message = errorOf({});
    expect(message).toBe(
      'invalid environment: SLACK_BOT_TOKEN is required (xoxb-…); SLACK_SIGNING_SECRET is required (or set SLACK_APP_TOKEN, xapp-…, to receive over Socket Mode instead of HTTP)',
    );
    expect(message).not.toContain('\n');
  });

  it.each([
    ['abc', 'PORT must be a port number'],
    ['70000', 'PORT must be 0..65535'],
    ['-1', 'PORT must be 0..65535'],
  ])('a bad PORT (%s) is named', (port, expected) => {
    expect(errorOf({ ...REQUIRED, PORT: port })).toContain(expected);
  });

  it('RETENTION_DAYS below 30 is refused, naming the variable; 30 and more are kept', () => {
    expect(errorOf({ ...REQUIRED, RETENTION_DAYS: '29' })).toBe(
      'invalid environment: RETENTION_DAYS must be at least 30 (DORA metrics look back 30 days)',
    );
    expect(errorOf({ ...REQUIRED, RETENTION_DAYS: 'forever' })).toContain('RETENTION_DAYS must be a number of days');
    expect(loadConfig({ ...REQUIRED, RETENTION_DAYS: '30' }).RETENTION_DAYS).toBe(30);
    expect(loadConfig({ ...REQUIRED, RETENTION_DAYS: '365' }).RETENTION_DAYS).toBe(365);
  });

  it('a fractional PORT is refused', () => {
    expect(errorOf({ ...REQUIRED, PORT: '80.5' })).toMatch(/^invalid environment: PORT /);
  });

  it.each(['http://127.0.0.1:6379', 'not a url', 'localhost:6379'])('a bad REDIS_URL (%s) is named', (url) => {
    expect(errorOf({ ...REQUIRED, REDIS_URL: url })).toBe(
      'invalid environment: REDIS_URL must be a redis:// or rediss:// URL',
    );
  });

  it('SLACK_API_URL must end in /api/', () => {
    expect(errorOf({ ...REQUIRED, SLACK_API_URL: 'https://slack.com/api' })).toBe(
      'invalid environment: SLACK_API_URL must end in /api/',
    );
    expect(errorOf({ ...REQUIRED, SLACK_API_URL: 'http://127.0.0.1:9000/' })).toBe(
      'invalid environment: SLACK_API_URL must end in /api/',
    );
    expect(errorOf({ ...REQUIRED, SLACK_API_URL: 'slack' })).toContain(
      'SLACK_API_URL must be a URL such as https://slack.com/api/',
    );
  });

  it('SLACK_APP_TOKEN must be an app-level token', () => {
    expect(errorOf({ ...REQUIRED, SLACK_APP_TOKEN: 'xoxb-1' })).toBe(
      'invalid environment: SLACK_APP_TOKEN must start with xapp- (an app-level token)',
    );
  });

  it('DATADOG_API_URL, WORKER_CONCURRENCY and LOG_LEVEL are checked and named', () => {
    expect(errorOf({ ...REQUIRED, DATADOG_API_URL: 'localhost' })).toContain(
      'DATADOG_API_URL must be a URL such as http://127.0.0.1:8126',
    );
    expect(errorOf({ ...REQUIRED, WORKER_CONCURRENCY: '0' })).toBe(
      'invalid environment: WORKER_CONCURRENCY must be more than 0',
    );
    expect(errorOf({ ...REQUIRED, LOG_LEVEL: 'loud' })).toMatch(/^invalid environment: LOG_LEVEL /);
  });

  it('PagerDuty variables are optional, kept when given, and checked', () => {
    const off = loadConfig({ ...REQUIRED });
    expect([
      off.PAGERDUTY_ROUTING_KEY,
      off.PAGERDUTY_API_TOKEN,
      off.PAGERDUTY_EVENTS_URL,
      off.PAGERDUTY_API_URL,
    ]).toEqual([undefined, undefined, undefined, undefined]);
    const on = {
      PAGERDUTY_ROUTING_KEY: 'e93facc04764012d7bfb002500d5d1a6',
      PAGERDUTY_API_TOKEN: 'y_NbAkKc66ryYTWUXYEu',
      PAGERDUTY_EVENTS_URL: 'http://127.0.0.1:8127',
      PAGERDUTY_API_URL: 'https://api.eu.pagerduty.com',
    };
    expect(loadConfig({ ...REQUIRED, ...on })).toMatchObject(on);
    expect(errorOf({ ...REQUIRED, PAGERDUTY_ROUTING_KEY: 'e93facc0476401' })).toBe(
      'invalid environment: PAGERDUTY_ROUTING_KEY must be a 32-character Events API v2 integration key',
    );
    expect(errorOf({ ...REQUIRED, PAGERDUTY_EVENTS_URL: 'events.pagerduty.com' })).toBe(
      'invalid environment: PAGERDUTY_EVENTS_URL must be an http(s) URL such as https://events.pagerduty.com',
    );
    expect(errorOf({ ...REQUIRED, PAGERDUTY_API_URL: 'ftp://api.pagerduty.com' })).toBe(
      'invalid environment: PAGERDUTY_API_URL must be an http(s) URL such as https://api.pagerduty.com',
    );
  });

  it('several bad variables are all named', () => {
    const message = errorOf({ SLACK_BOT_TOKEN: 'x', PORT: 'abc', REDIS_URL: 'http://x' });
    expect(message).toContain('SLACK_SIGNING_SECRET is required');
    expect(message).toContain('PORT must be a port number');
    expect(message).toContain('REDIS_URL must be a redis:// or rediss:// URL');
  });

  it('ignores unrelated variables', () => {
    expect(() => loadConfig({ ...REQUIRED, HOME: '/root', PATH: '/usr/bin', AWS_REGION: 'us-east-1' })).not.toThrow();
  });
});

describe('queue dashboard credential', () => {
  it('is off unless both BULL_BOARD_USER and BULL_BOARD_PASSWORD are set', () => {
    const off = loadConfig({ ...REQUIRED });
    expect(off.BULL_BOARD_USER).toBeUndefined();
    expect(off.BULL_BOARD_PASSWORD).toBeUndefined();
    const on = loadConfig({ ...REQUIRED, BULL_BOARD_USER: 'ops', BULL_BOARD_PASSWORD: 'correct horse battery' });
    expect([on.BULL_BOARD_USER, on.BULL_BOARD_PASSWORD]).toEqual(['ops', 'correct horse battery']);
  });

  it('names the half that is missing, and what is accepted', () => {
    expect(errorOf({ ...REQUIRED, BULL_BOARD_USER: 'ops' })).toBe(
      'invalid environment: BULL_BOARD_PASSWORD is required when BULL_BOARD_USER is set (the queue dashboard needs both, or neither to stay off)',
    );
    expect(errorOf({ ...REQUIRED, BULL_BOARD_PASSWORD: 'correct horse battery' })).toContain(
      'BULL_BOARD_USER is required when BULL_BOARD_PASSWORD is set',
    );
  });

  it('refuses a user with a colon and a short password', () => {
    const message = errorOf({ ...REQUIRED, BULL_BOARD_USER: 'o:ps', BULL_BOARD_PASSWORD: 'hunter2' });
    expect(message).toContain('BULL_BOARD_USER must not contain a colon or spaces');
    expect(message).toContain('BULL_BOARD_PASSWORD must be at least 12 characters');
  });
});
