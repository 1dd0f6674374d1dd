import { describe, expect, it } from 'vitest';
import { decodeSlackText, escapeText } from '../../../views/text.js';

describe('decodeSlackText: command text as Slack sends it', () => {
  it('turns the three entities Slack escapes back into what the user typed', () => {
    expect(decodeSlackText('acme-api a &lt;b&gt; &amp; c')).toBe('acme-api a <b> & c');
  });

  it('decodes once: a typed entity stays an entity', () => {
    expect(decodeSlackText('&amp;lt;')).toBe('&lt;');
  });

  it('round-trips through escapeText to the same entities, so a typed <!channel> stays text', () => {
    const sent = '&lt;!channel&gt; roll back &amp; page';
    expect(escapeText(decodeSlackText(sent))).toBe(sent);
  });
});
