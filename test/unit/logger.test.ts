import { describe, expect, it } from 'vitest';
import { createLogger, secretsIn } from '../../src/logger.js';

const BOT_TOKEN = 'xoxb-2412341234-5827467201234-Rk3jXmN8qL1vP0wY2zT7aBcD';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY"quoted"KEY';

const capture = (secrets?: string[]) => {
  const lines: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void lines.push(line) }, secrets);
  return { log, lines };
};

describe('createLogger', () => {
  it('redacts credentials at the paths they are logged under', () => {
    const { log, lines } = capture([]);
    log.info(
      {
        config: { SLACK_BOT_TOKEN: BOT_TOKEN, DD_API_KEY: 'dd-api-key-value-1', PORT: 3000 },
        request: {
          headers: {
            Authorization: `Bearer ${BOT_TOKEN}`,
            'DD-API-KEY': 'dd-api-key-value-1',
            accept: 'application/json',
          },
        },
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: AWS_SECRET },
      },
      'starting',
    );
    const line = lines.join('');
    expect(line).not.toContain(BOT_TOKEN);
    expect(line).not.toContain('dd-api-key-value-1');
    expect(line).not.toContain('wJalrXUtnFEMI');
    // What is not a credential stays readable.
    expect(JSON.parse(line)).toMatchObject({
      config: { PORT: 3000 },
      request: { headers: { accept: 'application/json' } },
      credentials: { accessKeyId: 'AKIAEXAMPLE' },
    });
  });

  it('scrubs a secret value wherever it appears: message, error text, stack, nested cause, JSON-escaped', () => {
    const { log, lines } = capture([BOT_TOKEN, AWS_SECRET]);
    const cause = new Error(`request to https://slack.com/api/chat.postMessage?token=${BOT_TOKEN} failed`);
    log.error(
      { err: new Error('Slack call failed', { cause }), detail: { deep: { deeper: [AWS_SECRET] } } },
      `posting with ${BOT_TOKEN}`,
    );
    const line = lines.join('');
    expect(line).not.toContain(BOT_TOKEN);
    expect(line).not.toContain(JSON.stringify(AWS_SECRET).slice(1, -1));
    expect(line).not.toContain('wJalrXUtnFEMI');
    const entry = JSON.parse(line) as { msg: string; err: { message: string; stack: string } };
    expect(entry.msg).toBe('posting with [redacted]');
    expect(entry.err.stack).toContain('token=[redacted] failed');
  });

  it('takes the secrets from the credential variables of the environment, ignoring short values', () => {
    expect(
      secretsIn({
        SLACK_BOT_TOKEN: BOT_TOKEN,
        DD_APP_KEY: 'short',
        AWS_SECRET_ACCESS_KEY: AWS_SECRET,
        BULL_BOARD_PASSWORD: 'correct-horse-battery',
        PORT: '3000',
        HOME: '/home/switchyard',
      }).sort(),
    ).toEqual([AWS_SECRET, BOT_TOKEN, 'correct-horse-battery'].sort());
  });

  it('scrubs the password inside REDIS_URL, as typed and percent-decoded', () => {
    const env = { REDIS_URL: 'rediss://switchyard:s3cr%2Ft-redis-pass@redis.internal:6380' };
    expect(secretsIn(env)).toContain('s3cr%2Ft-redis-pass');
    expect(secretsIn(env)).toContain('s3cr/t-redis-pass');
    const lines: string[] = [];
    const log = createLogger('info', { write: (line: string) => void lines.push(line) }, secretsIn(env));
    log.warn({ url: env.REDIS_URL }, 'cannot reach rediss://switchyard:s3cr/t-redis-pass@redis.internal:6380');
    const line = lines.join('');
    expect(line).not.toContain('s3cr');
    expect(JSON.parse(line).url).toBe('rediss://switchyard:[redacted]@redis.internal:6380');
    expect(secretsIn({ REDIS_URL: 'redis://127.0.0.1:6379' })).toEqual([]);
  });

  it('keeps PagerDuty’s routing key and API token out of the logs', () => {
    const env = {
      PAGERDUTY_ROUTING_KEY: 'e93facc04764012d7bfb002500d5d1a6',
      PAGERDUTY_API_TOKEN: 'y_NbAkKc66ryYTWUXYEu',
    };
    expect(secretsIn(env).sort()).toEqual([env.PAGERDUTY_API_TOKEN, env.PAGERDUTY_ROUTING_KEY].sort());
    const { log, lines } = capture([]);
    log.info(
      {
        config: { PAGERDUTY_ROUTING_KEY: env.PAGERDUTY_ROUTING_KEY, PAGERDUTY_API_TOKEN: env.PAGERDUTY_API_TOKEN },
        event: { routing_key: env.PAGERDUTY_ROUTING_KEY, dedup_key: 'switchyard-dep-42-breach' },
        pagerduty: { routingKey: env.PAGERDUTY_ROUTING_KEY, serviceId: 'PIJ90N7' },
      },
      'paging',
    );
    const line = lines.join('');
    expect(line).not.toContain(env.PAGERDUTY_ROUTING_KEY);
    expect(line).not.toContain(env.PAGERDUTY_API_TOKEN);
    expect(JSON.parse(line)).toMatchObject({
      event: { dedup_key: 'switchyard-dep-42-breach' },
      pagerduty: { serviceId: 'PIJ90N7' },
    });
  });

  it('by default scrubs what the process environment holds', () => {
    const previous = process.env.SLACK_SIGNING_SECRET;
    process.env.SLACK_SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
    try {
      const lines: string[] = [];
      createLogger('info', { write: (line: string) => void lines.push(line) }).warn(
        'signature base used 8f742231b10e8888abcd99yyyzzz85a5',
      );
      expect(JSON.parse(lines.join('')).msg).toBe('signature base used [redacted]');
    } finally {
      if (previous === undefined) delete process.env.SLACK_SIGNING_SECRET;
      else process.env.SLACK_SIGNING_SECRET = previous;
    }
  });
});
