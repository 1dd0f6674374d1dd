import { pino, type Logger } from 'pino';

/** Secrets never reach the logs, wherever they hide in a logged object. */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'signingSecret',
  '*.signingSecret',
  'headers.authorization',
  '*.headers.authorization',
  '*.headers["dd-api-key"]',
  '*.headers["dd-application-key"]',
  'config.SLACK_BOT_TOKEN',
  'config.SLACK_SIGNING_SECRET',
  'config.SLACK_APP_TOKEN',
  'config.DD_API_KEY',
  'config.DD_APP_KEY',
];

export const createLogger = (level: string, destination?: pino.DestinationStream): Logger =>
  pino({ level, base: { app: 'switchyard' }, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
