import { LogLevel } from '@slack/bolt';
import pino from 'pino';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { boltLogger } from '../../../src/app/bolt-logger.js';
import { deploymentLog } from '../../../src/log-context.js';
import { deployment } from '../fixtures.js';

/** A pino logger writing JSON lines into an array. */
function capture(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n').filter(Boolean))
        lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, sink), lines };
}

describe('Bolt’s logger over pino', () => {
  it('writes Bolt’s lines as JSON with the component, and errors as err', () => {
    const { log, lines } = capture();
    const bolt = boltLogger(log);
    bolt.warn('An incoming event was not acknowledged within 3 seconds.', { type: 'event_callback' });
    bolt.error('listener failed', new Error('boom'));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 40,
      component: 'bolt',
      msg: 'An incoming event was not acknowledged within 3 seconds. {"type":"event_callback"}',
    });
    expect(lines[1]).toMatchObject({
      level: 50,
      component: 'bolt',
      msg: 'listener failed',
      err: { message: 'boom', type: 'Error' },
    });
  });

  it('keeps Bolt’s own level as a floor and takes a new name', () => {
    const { log, lines } = capture();
    const bolt = boltLogger(log);
    bolt.setLevel(LogLevel.WARN);
    expect(bolt.getLevel()).toBe(LogLevel.WARN);
    bolt.info('ignored');
    bolt.debug('ignored too');
    bolt.setName('web-api');
    bolt.warn('kept');
    expect(lines).toEqual([expect.objectContaining({ msg: 'kept', component: 'web-api' })]);
  });

  it('pino’s level still applies below Bolt’s', () => {
    const { log, lines } = capture('error');
    const bolt = boltLogger(log);
    bolt.setLevel(LogLevel.DEBUG);
    bolt.warn('below pino’s level');
    expect(lines).toEqual([]);
  });
});

describe('deployment log context', () => {
  it('every line names the deployment, its service and its step', () => {
    const { log, lines } = capture();
    const d = deployment({ stepIndex: 1 });
    deploymentLog(log, d).warn({ retries: 2 }, 'step interrupted by an error');
    deploymentLog(log, { ...d, stepIndex: d.steps.length }).info('finished');
    expect(lines[0]).toMatchObject({
      deploymentId: 'acme-api-1',
      service: 'acme-api',
      step: d.steps[1]?.kind,
      retries: 2,
    });
    expect(lines[1]).toMatchObject({ deploymentId: 'acme-api-1', service: 'acme-api', step: 'done' });
  });
});
