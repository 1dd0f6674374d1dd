import { pino, type Logger } from 'pino';

/** Secrets never reach the logs, wherever they hide in a logged object. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'signingSecret',
  '*.signingSecret',
  'password',
  '*.password',
  'secretAccessKey',
  '*.secretAccessKey',
  'headers.authorization',
  'headers.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.headers["dd-api-key"]',
  '*.headers["DD-API-KEY"]',
  '*.headers["dd-application-key"]',
  '*.headers["DD-APPLICATION-KEY"]',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.SLACK_APP_TOKEN',
  'config.DD_API_KEY',
  'config.DD_APP_KEY',
  'config.BULL_BOARD_PASSWORD',
  'config.PAGERDUTY_ROUTING_KEY',
  'config.PAGERDUTY_API_TOKEN',
  'config.GITHUB_TOKEN',
  'routingKey',
  '*.routingKey',
  'routing_key',
  '*.routing_key',
  'config.REDIS_URL',
];

/** Environment variables that hold credentials; their values are scrubbed from every line. */
export const SECRET_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'DD_API_KEY',
  'DD_APP_KEY',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'BULL_BOARD_PASSWORD',
  'REDIS_PASSWORD',
  'PAGERDUTY_ROUTING_KEY',
  'PAGERDUTY_API_TOKEN',
  'GITHUB_TOKEN',
] as const;

/** The password inside `redis://user:password@host`, as typed and percent-decoded. */
function redisUrlCredentials(url: string | undefined): string[] {
  if (!url) return [];
  try {
    const { password } = new URL(url);
    if (!password) return [];
    return [password, decodeURIComponent(password)];
  } catch {
    return [];
  }
}

/** Shorter values would scrub ordinary words out of the logs; no real credential is this short. */
const MIN_SECRET_LENGTH = 8;

export const CENSOR = '[redacted]';

/** The credential values set in `env`, including the password inside REDIS_URL, to scrub from log lines. */
export const secretsIn = (env: NodeJS.ProcessEnv): string[] =>
  [...new Set([...SECRET_VARIABLES.map((name) => env[name]), ...redisUrlCredentials(env.REDIS_URL)])].filter(
    (value): value is string => typeof value === 'string' && value.length >= MIN_SECRET_LENGTH,
  );

/**
 * Replaces each secret in a finished JSON line, in its raw and its JSON-escaped form. Redaction
 * paths only reach fields they name; this also catches a secret inside a message, an error's
 * text or a stack, however it got there.
 */
function scrubber(secrets: readonly string[]): ((line: string) => string) | undefined {
  const forms = [...new Set(secrets.flatMap((secret) => [secret, JSON.stringify(secret).slice(1, -1)]))];
  if (forms.length === 0) return undefined;
  return (line) =>
    forms.reduce((scrubbed, form) => (scrubbed.includes(form) ? scrubbed.replaceAll(form, CENSOR) : scrubbed), line);
}

/**
 * JSON lines on stdout (or `destination`). `secrets` defaults to the credentials in the
 * process's environment, where Switchyard reads them from.
 */
export function createLogger(
  level: string,
  destination?: pino.DestinationStream,
  secrets: readonly string[] = secretsIn(process.env),
): Logger {
  const streamWrite = scrubber(secrets);
  return pino(
    {
      level,
      base: { app: 'switchyard' },
      redact: { paths: REDACTED_PATHS, censor: CENSOR },
      ...(streamWrite ? { hooks: { streamWrite } } : {}),
    },
    destination,
  );
}
