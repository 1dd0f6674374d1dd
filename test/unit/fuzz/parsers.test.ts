import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { answerErrors, readAnswers, readRequest, TICKET_PATTERN } from '../../../commands/checklist-submission.js';
import { parseDeployText, type DeployCommand } from '../../../commands/deploy-text.js';
import { DEFAULT_VERSION_RULE as VERSION_PATTERN } from '../../../src/domain/version.js';
import { parseRollback } from '../../../commands/rollback.js';
import { parseShift } from '../../../commands/shift.js';
import type { ServiceConfig } from '../../../src/runbook/catalog.js';
import { HIDDEN } from '../../../views/text.js';
import { specCatalog } from '../fixtures.js';
import { FRAGMENTS, hostileText, Tally } from './hostile.js';

/** When the commands are typed; only `at <time>` reads it. */
const NOW = Date.UTC(2026, 11, 5, 14, 5);

/**
 * Property tests over everything that reads what a user typed: the slash command parsers and
 * the checklist modal's values. Whatever comes in, a parser returns a valid command or a
 * refusal; it never throws, and its refusal is one inert line that says what was wrong and
 * what is accepted.
 */

const RUNS = 3000;
const tally = new Tally();
afterAll(() => console.log(`fuzz (parsers): ${tally.total} inputs tried`));

const catalog = specCatalog();
const services = Object.keys(catalog.services);
const known = (name: string | undefined) => name !== undefined && Object.hasOwn(catalog.services, name);

/** Docker image tags are at most 128 characters, and the version becomes the tag. */
const isVersion = (version: string) => VERSION_PATTERN.test(version) && version.length <= 128;

/** One line, short whatever the input's length, nothing Slack would turn into a mention or a link. */
function expectRefusal(error: unknown, accepted: RegExp): void {
  expect(typeof error).toBe('string');
  const text = error as string;
  expect(text.length).toBeGreaterThan(10);
  expect(text.length).toBeLessThanOrEqual(400);
  expect(text).not.toMatch(/[<>\n\r]/);
  expect(text.replace(HIDDEN, '')).toBe(text);
  expect(text).toMatch(accepted);
}

function expectValidDeployCommand(command: DeployCommand): void {
  switch (command.kind) {
    case 'help':
      return;
    case 'status':
      expect(command.service === undefined || known(command.service)).toBe(true);
      return;
    case 'history':
      expect(known(command.service)).toBe(true);
      expect(Number.isInteger(command.limit) && command.limit >= 1 && command.limit <= 50).toBe(true);
      return;
    case 'clear':
      expect(known(command.service)).toBe(true);
      expect(isVersion(command.version)).toBe(true);
      expect(command.rca).toMatch(/^https?:\/\/\S+$/);
      return;
    case 'freeze':
    case 'unfreeze':
      expect(command.scope === 'all' || known(command.scope)).toBe(true);
      if (command.kind === 'freeze') expect(command.reason.length).toBeGreaterThan(0);
      if (command.kind === 'freeze') expect(command.reason.length).toBeLessThanOrEqual(500);
      return;
    case 'cancel':
      expect(known(command.service)).toBe(true);
      expect(command.version === undefined || isVersion(command.version)).toBe(true);
      return;
    case 'deploy':
      expect(known(command.service)).toBe(true);
      expect(isVersion(command.version)).toBe(true);
      expect([undefined, 'blue-green', 'canary', 'rolling']).toContain(command.strategy);
      expect(command.startAt === undefined || command.startAt > NOW).toBe(true);
  }
}

/** Texts that start like real commands, so the fuzzing reaches past the first word. */
const commandText = (prefixes: string[]) =>
  fc.oneof(
    hostileText,
    fc.tuple(fc.constantFrom(...prefixes), hostileText).map(([prefix, rest]) => `${prefix} ${rest}`),
  );

describe('fuzz: /deploy text', () => {
  it(`returns a valid command or an inert refusal for ${RUNS} hostile texts`, () => {
    const prefixes = [
      'acme-api',
      'acme-api v1.2.3',
      'acme-worker abcdef1',
      'status',
      'history acme-api',
      'clear acme-api v1.2.3',
      'freeze',
      'freeze all',
      'unfreeze',
      'cancel acme-api',
      'acme-api v1.2.3 at',
    ];
    fc.assert(
      fc.property(
        commandText(prefixes),
        tally.count((text: string) => {
          const parsed = parseDeployText(text, catalog, NOW);
          if (parsed.ok) expectValidDeployCommand(parsed.command);
          else expectRefusal(parsed.error, /known services|accepted:|give |whole number|a git SHA/);
        }),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: /shift text', () => {
  it(`returns a weight 0-100, resume, or an inert refusal for ${RUNS} hostile texts`, () => {
    fc.assert(
      fc.property(
        commandText(['acme-api', 'acme-worker', 'acme-api 50', 'acme-api resume']),
        tally.count((text: string) => {
          const parsed = parseShift(text, services);
          if (!parsed.ok) return expectRefusal(parsed.error, /known services|Usage|whole number from 0 to 100/);
          expect(services).toContain(parsed.command.service);
          if ('weight' in parsed.command)
            expect(
              Number.isInteger(parsed.command.weight) && parsed.command.weight >= 0 && parsed.command.weight <= 100,
            ).toBe(true);
          else expect(parsed.command.resume).toBe(true);
        }),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: /rollback text', () => {
  it(`returns a known service with a bounded reason, or an inert refusal, for ${RUNS} hostile texts`, () => {
    fc.assert(
      fc.property(
        commandText(['acme-api', 'acme-worker']),
        tally.count((text: string) => {
          const parsed = parseRollback(text, services);
          if (!parsed.ok) return expectRefusal(parsed.error, /known services: acme-api, acme-worker/);
          expect(services).toContain(parsed.command.service);
          expect(parsed.command.reason.length).toBeGreaterThan(0);
          expect([...parsed.command.reason].length).toBeLessThanOrEqual(500);
        }),
      ),
      { numRuns: RUNS },
    );
  });
});

describe('fuzz: checklist modal values', () => {
  const service = catalog.services['acme-api'] as ServiceConfig;
  const items = catalog.checklist.length;
  const BLOCKS = [
    'summary',
    'ticket',
    'strategy',
    'justification',
    ...Array.from({ length: items + 1 }, (_, i) => `check_${i}`),
    '__proto__',
    'constructor',
  ];
  const text = fc.oneof(hostileText, fc.constantFrom('DEPLOY-123', 'blue-green', 'confirmed'));
  const element = fc.oneof(
    fc.jsonValue(),
    fc.record({ type: fc.constant('plain_text_input'), value: fc.oneof(text, fc.jsonValue()) }),
    fc.record({
      selected_options: fc.oneof(
        fc.array(fc.oneof(fc.record({ value: text }), fc.jsonValue()), { maxLength: 3 }),
        fc.jsonValue(),
      ),
    }),
    fc.record({ selected_option: fc.oneof(fc.record({ value: text }), fc.jsonValue()) }),
  );
  const values = fc.oneof(
    fc.jsonValue(),
    fc.dictionary(
      fc.constantFrom(...BLOCKS),
      fc.oneof(fc.jsonValue(), fc.dictionary(fc.constantFrom('value', 'confirm', '__proto__'), element)),
    ),
  );

  it(`reads any state values without throwing, and only a complete form has no errors (${RUNS} forms)`, () => {
    fc.assert(
      fc.property(
        values,
        fc.boolean(),
        tally.count((state: unknown, hotfix: boolean) => {
          const answers = readAnswers(state, items);
          expect(answers.confirmed).toHaveLength(items);
          const errors = answerErrors(answers, hotfix, 'acme-api', service);
          // Inline errors are the product's own sentences: nothing typed is echoed into them.
          for (const [block, message] of Object.entries(errors)) {
            expect(BLOCKS).toContain(block);
            expect(message).toMatch(
              /^(Confirm this item|Describe what changes|Give the approved change ticket|Choose blue-green|acme-api has|A hotfix needs)/,
            );
          }
          if (Object.keys(errors).length === 0) {
            expect(answers.confirmed.every(Boolean)).toBe(true);
            expect(answers.ticket).toMatch(TICKET_PATTERN);
            expect(answers.summary.length).toBeGreaterThan(0);
            expect(['blue-green', 'canary']).toContain(answers.strategy);
            if (hotfix) expect(answers.justification).toBeTruthy();
          }
        }),
      ),
      { numRuns: RUNS },
    );
  });

  it(`private_metadata that is not ours is refused, never thrown on (${RUNS} strings)`, () => {
    const metadata = fc.oneof(
      hostileText,
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc
        .record({
          service: fc.oneof(text, fc.constantFrom(...services)),
          version: fc.oneof(text, fc.constantFrom(...FRAGMENTS)),
          strategy: text,
          hotfix: fc.boolean(),
          origin: text,
        })
        .map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(
        metadata,
        tally.count((raw: string) => {
          const request = readRequest(raw, catalog);
          if (request) expect(isVersion(request.version)).toBe(true);
        }),
      ),
      { numRuns: RUNS },
    );
  });
});
