import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { SOCKET_RECONNECT_GRACE_MS, socketConnection } from '../../../src/app/bolt-app.js';

/** The Socket Mode client's announcements, as `@slack/socket-mode` emits them, on an injected clock. */
describe('socketConnection', () => {
  const start = () => {
    const client = new EventEmitter();
    let now = 1_000_000;
    const read = socketConnection(client, () => now);
    return { client, read, advance: (ms: number) => (now += ms) };
  };

  it('is not connected before the first hello, however soon it is asked', () => {
    const { client, read } = start();
    expect(read()).toEqual({ connected: false, state: 'connecting (no connection for 0 s)' });
    client.emit('authenticated');
    expect(read().connected).toBe(false);
    client.emit('connected');
    expect(read()).toEqual({ connected: true, state: 'connected' });
  });

  it('a routine refresh within the grace stays ready; a connection down longer is not', () => {
    const { client, read, advance } = start();
    client.emit('connected');
    client.emit('close');
    advance(5_000);
    client.emit('reconnecting');
    expect(read()).toEqual({ connected: true, state: 'reconnecting (no connection for 5 s)' });
    advance(SOCKET_RECONNECT_GRACE_MS - 5_000);
    expect(read()).toEqual({ connected: false, state: 'reconnecting (no connection for 15 s)' });
    // The time down counts from the close, not from the latest announcement.
    client.emit('authenticated');
    client.emit('connecting');
    expect(read().connected).toBe(false);
    client.emit('connected');
    expect(read()).toEqual({ connected: true, state: 'connected' });
  });
});
