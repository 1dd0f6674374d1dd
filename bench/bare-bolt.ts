import { App, LogLevel } from '@slack/bolt';

/**
 * The ack-latency floor: a Bolt app on the same HTTPReceiver, credentials and Web API
 * stand-in as Switchyard's bot, whose every command listener only acks. Run in its own
 * process, as the bot is, from the same environment variables.
 */
async function main(): Promise<void> {
  const env = (name: string): string => {
    const value = process.env[name];
    if (!value) throw new Error(`${name} is required`);
    return value;
  };
  const app = new App({
    token: env('SLACK_BOT_TOKEN'),
    signingSecret: env('SLACK_SIGNING_SECRET'),
    clientOptions: { slackApiUrl: env('SLACK_API_URL') },
    port: Number(env('PORT')),
    logLevel: LogLevel.WARN,
  });
  app.command(/.*/, async ({ ack }) => {
    await ack();
  });
  await app.start();
  const stop = async () => {
    await app.stop();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`bare-bolt: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
