import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HTTPReceiver } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { afterPendingAcks, trackSlackAcks } from '../../../src/app/ack-lane.js';

/** A receiver whose requests are answered when the test says so. */
function fakeReceiver() {
  const receiver = { requestListener: () => undefined } as unknown as HTTPReceiver;
  trackSlackAcks(receiver);
  return (method = 'POST') => {
    const res = new EventEmitter();
    receiver.requestListener({ method } as IncomingMessage, res as unknown as ServerResponse);
    return { answer: () => res.emit('finish') };
  };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('the after-ack lane', () => {
  it('holds after-ack work while a Slack request is unanswered, then lets one handler go per turn in order', async () => {
    const request = fakeReceiver();
    const first = request();
    const second = request();
    request('GET').answer(); // probes and scrapes do not count
    const went: number[] = [];
    const waiting = [1, 2, 3].map((n) => afterPendingAcks(5000).then(() => went.push(n)));
    for (let i = 0; i < 5; i += 1) await turn();
    expect(went).toEqual([]);
    first.answer();
    for (let i = 0; i < 5; i += 1) await turn();
    expect(went).toEqual([]);
    second.answer();
    await turn();
    await turn();
    expect(went.length).toBeLessThan(3);
    await Promise.all(waiting);
    expect(went).toEqual([1, 2, 3]);
  });

  it('lets work go after its longest wait even if a request is never answered', async () => {
    const request = fakeReceiver();
    const stuck = request();
    let went = false;
    await afterPendingAcks(20).then(() => (went = true));
    expect(went).toBe(true);
    stuck.answer();
  });
});
