import { describe, expect, it } from 'vitest';
import type { ChangeList, ListedCommit } from '../../../src/domain/changes.js';
import { currentAnnouncement } from '../../../views/announcement.js';
import { deployment, T0 } from '../fixtures.js';

/** The commit list beside the requester's summary in the announcement. */

const commit = (i: number, subject: string): ListedCommit => ({
  sha: `${String(i).padStart(2, '0')}${'ab'.repeat(19)}`,
  subject,
  author: `dev${i}`,
  pullRequest: { number: 1000 + i, url: `https://github.com/acme/acme-api/pull/${1000 + i}` },
});
const render = (changes: ChangeList) =>
  currentAnnouncement(deployment({ phase: 'awaiting-approval' }), 'S0ONCALL', T0, { changes });
const sectionTexts = (changes: ChangeList) =>
  (render(changes).blocks as { text?: { text: string }; elements?: { text: string }[] }[]).map(
    (b) => b.text?.text ?? b.elements?.map((e) => e.text).join(' ') ?? '',
  );

describe('the commit list in the announcement', () => {
  it('20 long, hostile subjects: every block within Slack’s 3,000 characters, links whole, mentions inert, the rest counted', () => {
    const hostile = `<!channel> <@U0RM1> <https://evil.example|click> ${'x'.repeat(500)} (#9)`;
    const changes: ChangeList = {
      kind: 'listed',
      from: 'v1.5.0',
      to: 'v1.6.0',
      commits: Array.from({ length: 20 }, (_, i) => commit(i, hostile)),
      total: 250,
      compareUrl: 'https://github.com/acme/acme-api/compare/v1.5.0...v1.6.0',
    };
    const texts = sectionTexts(changes);
    for (const text of texts) expect(text.length).toBeLessThanOrEqual(3000);
    const all = texts.join('\n');
    expect(all).not.toMatch(/<!channel>|<@U0RM1>|<https:\/\/evil/);
    expect(all).toContain('&lt;!channel&gt;');
    for (let i = 0; i < 20; i++)
      expect(all).toContain(`<https://github.com/acme/acme-api/pull/${1000 + i}|#${1000 + i}>`);
    expect(all).toContain('<https://github.com/acme/acme-api/compare/v1.5.0...v1.6.0|250 commits, compare>');
    expect(all).toContain('_…and 230 more_');
    expect(all).toContain('*Changes:*\n• Faster token refresh');
  });

  it('a link GitHub sent that could break out of Slack’s link syntax is shown as text only', () => {
    const texts = sectionTexts({
      kind: 'listed',
      from: 'a',
      to: 'b',
      commits: [{ ...commit(1, 'Fix'), pullRequest: { number: 5, url: 'https://x.example/|<!channel>' } }],
      total: 1,
      compareUrl: 'javascript:alert(1)',
    }).join('\n');
    expect(texts).toContain('Fix (#5)');
    expect(texts).toContain('(1 commit, compare)');
    expect(texts).not.toContain('<!channel>');
    expect(texts).not.toContain('javascript:');
  });

  it('unavailable: says so with the reason, inert', () => {
    const texts = sectionTexts({ kind: 'unavailable', from: 'v1', to: 'v2', reason: 'GitHub failed <!here>' }).join(
      '\n',
    );
    expect(texts).toContain('*Commits* `v1` → `v2`: the list is unavailable (GitHub failed &lt;!here&gt;)');
  });
});
