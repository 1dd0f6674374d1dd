import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOCKET_RECONNECT_GRACE_MS } from '../../../src/app/bolt-app.js';
import { SANDBOX_APP_TOKEN } from '../../../sandbox/slack.js';
import { startHarness, until, type Harness } from '../../support/harness.js';

/**
 * In Socket Mode the bot receives nothing while its WebSocket to Slack is down, so readiness
 * (/healthz) follows the socket: 200 while connected, 503 once the connection has been down and
 * failing to reconnect past the grace, 200 again once it is back. Liveness (/livez) stays 200
 * throughout: a restart would not bring Slack back. The Slack stand-in drops the socket without a
 * word and answers every apps.connections.open by dropping the request (ECONNRESET), as an
 * unreachable Slack does.
 */

let h: Harness;

interface Probe {
  status: number;
  body: { status: string; slack?: string };
}

const probe = async (path: string): Promise<Probe> => {
  const res = await fetch(`${h.appUrl}${path}`);
  return { status: res.status, body: (await res.json()) as Probe['body'] };
};

beforeAll(async () => {
  h = await startHarness({ env: { SLACK_APP_TOKEN: SANDBOX_APP_TOKEN }, roles: { bot: true, worker: false } });
  await h.sandbox.slack.socket.connected(1);
});

afterAll(async () => {
  h?.sandbox.slack.faults.clear();
  await h?.close();
});

describe('Socket Mode readiness', () => {
  it('ready while connected; not ready while the socket is down and failing to reconnect; ready again once connected', async () => {
    const { slack } = h.sandbox;
    const connected = await until(
      async () => {
        const answer = await probe('/healthz');
        return answer.body.slack === 'connected' ? answer : undefined;
      },
      5000,
      'readiness to show the connection',
    );
    expect(connected.status).toBe(200);
    expect(connected.body.status).toBe('ok');

    const opensBefore = slack.callsTo('apps.connections.open').length;
    const attempts = () => slack.requests.filter((r) => r.path === '/api/apps.connections.open').length;
    const attemptsBefore = attempts();
    slack.faults.inject({ reset: true, times: Infinity, match: '/api/apps.connections.open' });
    slack.socket.drop();

    const down = await until(
      async () => {
        const answer = await probe('/healthz');
        return answer.status === 503 ? answer : undefined;
      },
      SOCKET_RECONNECT_GRACE_MS + 20_000,
      'readiness to fail while the socket cannot reconnect',
    );
    expect(down.body.status).toBe('unavailable');
    expect(down.body.slack).toMatch(/^(reconnecting|closed) \(no connection for \d+ s\)$/);
    // It is failing to reconnect, not idle: it asked for a new connection, and every answer was dropped.
    expect(attempts()).toBeGreaterThan(attemptsBefore);
    expect(slack.callsTo('apps.connections.open')).toHaveLength(opensBefore);
    const alive = await probe('/livez');
    expect(alive.status).toBe(200);
    expect(alive.body.status).toBe('alive');

    slack.faults.clear();
    await slack.socket.connected(2, 30_000);
    const back = await until(
      async () => {
        const answer = await probe('/healthz');
        return answer.status === 200 ? answer : undefined;
      },
      5000,
      'readiness once the socket is back',
    );
    expect(back.body).toMatchObject({ status: 'ok', slack: 'connected' });
    expect(slack.callsTo('apps.connections.open').filter((c) => c.ok).length).toBe(opensBefore + 1);
  }, 90_000);
});
