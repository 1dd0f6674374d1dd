import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SlackRequestResult } from '../../../sandbox/slack-requests.js';
import { startHarness, type Harness } from '../../support/harness.js';
import { angleTokens, hostileText } from '../../unit/fuzz/hostile.js';

/**
 * A few hundred random and malicious `/deploy`, `/shift` and `/rollback` texts, sent as signed
 * requests by a deployer and by an outsider to the running bot and worker. Neither may create
 * anything in a fresh workspace (no deployment exists to shift or roll back, and only release
 * managers freeze or clear), so whatever the text, Redis and the channels stay empty.
 */

const PER_COMMAND = 120;
const BATCH = 8;
const SETTLE_MS = 400;

const PREFIXES: Record<string, string[]> = {
  '/deploy': [
    'acme-api',
    'acme-api v1.2.3',
    'status',
    'history acme-api',
    'clear acme-api v1.2.3',
    'freeze all',
    'unfreeze acme-api',
    'help',
  ],
  '/shift': ['acme-api', 'acme-api 50', 'acme-api resume'],
  '/rollback': ['acme-api'],
};

/** The same texts on every run: a failure names an input that can be sent again. */
const textsFor = (command: string): string[] =>
  fc.sample(
    fc.oneof(
      hostileText,
      fc
        .tuple(fc.constantFrom(...(PREFIXES[command] ?? [''])), hostileText)
        .map(([prefix, rest]) => `${prefix} ${rest}`),
    ),
    { numRuns: PER_COMMAND, seed: 20_260_505 },
  );

describe('hostile slash commands against the running bot', () => {
  let h: Harness;
  const results: { command: string; text: string; result: SlackRequestResult }[] = [];

  beforeAll(async () => {
    h = await startHarness({ bakeSeconds: 1 });
  });
  afterAll(async () => {
    const refused = results.filter((r) =>
      /^:(warning|no_entry):/.test(String((r.result.json as { text?: string } | undefined)?.text ?? '')),
    ).length;
    console.log(`hostile slash commands: ${results.length} signed requests sent (${refused} refused in the ack)`);
    await h.close();
  });

  it(`acks ${3 * PER_COMMAND} hostile texts with 200, echoes nothing that mentions or links, and creates or posts nothing`, async () => {
    const users = [h.requester, h.outsider];
    const sends = Object.keys(PREFIXES).flatMap((command) =>
      textsFor(command).map((text, i) => ({ command, text, user: users[i % 2] ?? h.requester })),
    );
    for (let at = 0; at < sends.length; at += BATCH) {
      const batch = sends.slice(at, at + BATCH);
      const answered = await Promise.all(batch.map(({ command, text, user }) => user.command(command, text)));
      answered.forEach((result, i) =>
        results.push({ command: batch[i]?.command ?? '', text: batch[i]?.text ?? '', result }),
      );
    }

    for (const { command, text, result } of results) {
      const what = `${command} ${JSON.stringify(text.slice(0, 200))}`;
      expect(result.status, what).toBe(200);
      const ack = result.json as { response_type?: string; text?: string } | undefined;
      if (ack?.response_type === 'ephemeral') expect(angleTokens(ack.text ?? ''), what).toEqual([]);
    }
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    expect(await h.createdKeys()).toEqual([]);
    expect(h.sandbox.slack.messages()).toEqual([]);
    expect(h.sandbox.slack.callsTo('chat.postMessage')).toEqual([]);
    for (const response of h.sandbox.slack.responses) expect(response.body.response_type).toBe('ephemeral');
    // Not vacuous: valid commands among them did reach their handlers.
    expect(results.some((r) => r.result.body === '')).toBe(true);
  });
});
