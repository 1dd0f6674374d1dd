import { describe, expect, it } from 'vitest';
import { runDemo } from '../../../sandbox/demo.js';
import { PAGERDUTY_SANDBOX } from '../../../sandbox/sandbox.js';
import { REDIS_URL } from '../../support/harness.js';

// The demo's output without its terminal colours, as a person reads it.
const plain = (line: string) => line.replace(/\x1b\[[0-9;]*m/g, ''); // eslint-disable-line no-control-regex

describe('npm run demo -- --page', () => {
  it('prints PagerDuty’s trigger when Datadog is unreadable, then Resume and its resolve under the same key, and succeeds', async () => {
    const lines: string[] = [];
    const result = await runDemo({
      page: true,
      bakeSeconds: 1,
      redisUrl: REDIS_URL,
      print: (l) => lines.push(plain(l)),
    });

    const dedupKey = `switchyard-${result.deployment.id}-pause`;
    expect(result.pages.map((e) => [e.event_action, e.dedup_key])).toEqual([
      ['trigger', dedupKey],
      ['resolve', dedupKey],
    ]);
    const [trigger] = result.pages;
    expect(trigger).toMatchObject({ routing_key: PAGERDUTY_SANDBOX.routingKey, payload: { severity: 'warning' } });
    expect(trigger?.payload?.summary).toContain('acme-api v1.5.0 paused');
    expect(result.deployment.phase).toBe('succeeded');
    expect(result.weights).toEqual({ blue: 0, green: 100 });

    // What the reader sees, in this order: the page, Resume, the resolve under the trigger's key, the result.
    const output = lines.join('\n');
    const at = (text: string) => {
      const index = output.indexOf(text);
      expect(index, `the demo printed ${JSON.stringify(text)}`).toBeGreaterThanOrEqual(0);
      return index;
    };
    const order = [
      at('Datadog stops answering'),
      at(
        `[pagerduty] Events API received a trigger event\ndedup_key ${dedupKey}, severity warning\nsummary: ${trigger?.payload?.summary}`,
      ),
      at('presses Resume'),
      at(
        `[pagerduty] Events API received a resolve event\ndedup_key ${dedupKey} (the same key as the trigger)\nincident #1 is resolved`,
      ),
      at('Result: acme-api v1.5.0 succeeded'),
    ];
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });
});
