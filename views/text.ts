/**
 * Text a user typed, made safe for mrkdwn: `<!channel>`, `<@U…>` and `<https://…|…>` stay
 * literal instead of becoming mentions or links (Slack's own escaping rules: & < >).
 */
export const escapeText = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Mentions a user (U…) or a user group (S…). */
export const mention = (id: string): string => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`);

/** A Slack date token that each reader sees in their own time zone. */
export const slackDate = (ms: number): string => {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(ms).toISOString().replace('.000Z', 'Z')}>`;
};

export const truncate = (text: string, max: number): string => (text.length <= max ? text : `${text.slice(0, max - 1)}…`);

export const section = (text: string) => ({ type: 'section' as const, text: { type: 'mrkdwn' as const, text: truncate(text, 3000) } });
export const context = (text: string) => ({ type: 'context' as const, elements: [{ type: 'mrkdwn' as const, text: truncate(text, 3000) }] });
export const plain = (text: string, max = 75) => ({ type: 'plain_text' as const, text: truncate(text, max), emoji: true });
