/**
 * Characters that change how the text around them reads without being seen: control codes
 * (tabs and newlines excepted) and the bidi embeddings, overrides and isolates that can make
 * `ipa-emca` display as `acme-api`.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
export const HIDDEN = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text a user typed, made safe for mrkdwn: `<!channel>`, `<@U…>` and `<https://…|…>` stay
 * literal instead of becoming mentions or links (Slack's own escaping rules: & < >), and
 * hidden characters are dropped.
 */
export const escapeText = (text: string): string =>
  text.replace(HIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Slash-command text as the user typed it: Slack sends `&`, `<` and `>` as entities, and
 * `escapeText` makes them entities again on the way out, so decoding here keeps a typed `<`
 * from showing as `&lt;`.
 */
export const decodeSlackText = (text: string): string =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');

/**
 * Outside text (a reason, a provider's error, a monitor's name) made inert like `escapeText`
 * and cut to at most `max` characters as sent, so it cannot push the product's own mentions
 * and links past Slack's limits. The cut never leaves half an entity or half a surrogate pair.
 */
export const quote = (text: string, max: number): string => {
  const escaped = escapeText(text);
  if (escaped.length <= max) return escaped;
  return `${escaped
    .slice(0, max - 1)
    .replace(/&[a-z]*$/, '')
    .replace(/[\ud800-\udbff]$/, '')}…`;
};

/**
 * A piece of a command echoed back in an error (`unknown service \`…\``): one short line with
 * the characters that could mention, link, format or end its code span dropped.
 */
export const echo = (text: string, max = 40): string => {
  const points = [
    ...text
      .replace(HIDDEN, '')
      .replace(/\s+/g, ' ')
      .replace(/[`<>&*_~]/g, ''),
  ];
  return points.length > max ? `${points.slice(0, max).join('')}…` : points.join('');
};

/** Mentions a user (U…) or a user group (S…). */
export const mention = (id: string): string => (id.startsWith('S') ? `<!subteam^${id}>` : `<@${id}>`);

/** A Slack date token that each reader sees in their own time zone. */
export const slackDate = (ms: number): string => {
  const seconds = Math.floor(ms / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${new Date(ms).toISOString().replace('.000Z', 'Z')}>`;
};

export const truncate = (text: string, max: number): string =>
  text.length <= max ? text : `${text.slice(0, max - 1)}…`;

export const section = (text: string) => ({
  type: 'section' as const,
  text: { type: 'mrkdwn' as const, text: truncate(text, 3000) },
});
export const context = (text: string) => ({
  type: 'context' as const,
  elements: [{ type: 'mrkdwn' as const, text: truncate(text, 3000) }],
});
export const plain = (text: string, max = 75) => ({
  type: 'plain_text' as const,
  text: truncate(text, max),
  emoji: true,
});
