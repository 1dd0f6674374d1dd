import { slashCommand, type SlashCommandFields } from '../sandbox/slack-requests.js';

/**
 * The ack-latency load generator, in a process of its own so that the stand-ins answering
 * the bot's after-ack calls do not share its event loop. The parent sends one wave at a
 * time (fields complete with trigger_id and response_url issued by the Slack stand-in); the
 * client sends them all at once, signed, and answers with the time each took to be acked.
 */

/** The id of the client's first message: it is listening. */
export const READY = -1;

export interface WaveRequest {
  id: number;
  url: string;
  secret: string;
  requests: SlashCommandFields[];
}

export interface WaveReply {
  id: number;
  ms: number[];
  /** Requests that did not get a 200 with an empty body. */
  errors: number;
  failure?: string;
}

async function runWave(wave: WaveRequest): Promise<WaveReply> {
  let errors = 0;
  const ms = await Promise.all(
    wave.requests.map(async (fields) => {
      const started = performance.now();
      const result = await slashCommand(wave.url, wave.secret, fields);
      const took = performance.now() - started;
      if (result.status !== 200 || result.body !== '') errors += 1;
      return took;
    }),
  );
  return { id: wave.id, ms, errors };
}

process.on('message', (wave: WaveRequest) => {
  runWave(wave).then(
    (reply) => process.send?.(reply),
    (error: unknown) =>
      process.send?.({
        id: wave.id,
        ms: [],
        errors: wave.requests.length,
        failure: error instanceof Error ? error.message : String(error),
      }),
  );
});
process.on('disconnect', () => process.exit(0));
// Messages sent before the listener above existed would be lost: say when it does.
process.send?.({ id: READY, ms: [], errors: 0 } satisfies WaveReply);
