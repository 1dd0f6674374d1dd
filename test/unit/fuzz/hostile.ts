import fc from 'fast-check';

/**
 * What a hostile or careless user types into Slack: mentions and links in Slack's own markup,
 * formatting, entities, control and bidi characters, emoji, words the parsers look for, and
 * very long text.
 */
export const FRAGMENTS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U123>',
  '<@U123|bob>',
  '<#C123>',
  '<#C123|general>',
  '<!subteam^S1>',
  '<!subteam^S1|@oncall>',
  '<https://evil.example|click>',
  '<https://evil.example>',
  '<mailto:a@evil.example|mail>',
  '<!date^1392734382^{date}|x>',
  '*bold*',
  '_it_',
  '~gone~',
  '`code`',
  '```',
  '>quote',
  '&lt;',
  '&gt;',
  '&amp;',
  '&lt;!channel&gt;',
  '<',
  '>',
  '&',
  '|',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\r\n',
  '\n',
  '\t',
  '\u2028',
  '\u202e',
  '\u202d',
  '\u2066',
  '\u2069',
  '\u200b',
  '\u200f',
  '\ufeff',
  '👩‍👩‍👧‍👦',
  '🚀',
  '🏳️‍🌈',
  'é',
  'ﷺ',
  '𝕏',
  'acme-api',
  'acme-worker',
  'v1.2.3',
  'v1.2.3-rc.1',
  'abcdef1',
  'a1b2c3d4e5f60718293a4b5c6d7e8f9012345678',
  'blue-green',
  'canary',
  'rolling',
  'hotfix',
  'dry-run',
  'help',
  'status',
  'history',
  'clear',
  'freeze',
  'unfreeze',
  'all',
  'resume',
  '0',
  '50',
  '100',
  '101',
  '50%',
  '-1',
  '1e2',
  '0x10',
  ' 5',
  'NaN',
  'Infinity',
  '__proto__',
  'constructor',
  'toString',
  'https://rca.example/1',
  'https://x<!channel>',
  'DEPLOY-123',
  'DEPLOY-123\nDEPLOY-124',
] as const;

const LONG = [
  'x'.repeat(10_000),
  '<!channel>'.repeat(1_000),
  '&'.repeat(5_000),
  '🚀'.repeat(3_000),
  `acme-api v1.2.3-${'a'.repeat(9_000)}`,
];

const fragment = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
  { weight: 1, arbitrary: fc.constantFrom(...LONG) },
);

/** Any text: random code points, printable graphemes, and mixes of the fragments above. */
export const hostileText: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.string() },
  { weight: 2, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }) },
  {
    weight: 6,
    arbitrary: fc
      .tuple(fc.array(fragment, { maxLength: 10 }), fc.constantFrom(' ', '', '  ', '\n', '\u00a0'))
      .map(([parts, glue]) => parts.join(glue)),
  },
);

/** Every `<…>` in the text (and a `<` left open), in order. */
export const angleTokens = (text: string): string[] => text.match(/<[^>]*>?/g) ?? [];

/** The texts Slack reads as mrkdwn in a message or view: `text`, and every mrkdwn text object. */
export function mrkdwnTexts(value: unknown, topLevel = true): string[] {
  if (Array.isArray(value)) return value.flatMap((v) => mrkdwnTexts(v, false));
  if (typeof value !== 'object' || value === null) return [];
  const record = value as Record<string, unknown>;
  const own = (record.type === 'mrkdwn' || topLevel) && typeof record.text === 'string' ? [record.text] : [];
  return [
    ...own,
    ...Object.entries(record).flatMap(([key, v]) =>
      key === 'text' && typeof v === 'string' ? [] : mrkdwnTexts(v, false),
    ),
  ];
}

/** Inputs tried per file, for the count each fuzz file prints once. */
export class Tally {
  private runs = 0;

  count<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
    return (...args) => {
      this.runs += 1;
      fn(...args);
    };
  }

  get total(): number {
    return this.runs;
  }
}
