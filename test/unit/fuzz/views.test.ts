import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Decision, Deployment } from '../../../src/domain/deployment.js';
import { messageBlockProblems, viewProblems } from '../../../sandbox/block-kit-limits.js';
import { pausedAlert, postWindowAlert } from '../../../views/alerts.js';
import { announcement, rejectModal } from '../../../views/announcement.js';
import { checklistModal } from '../../../views/checklist-modal.js';
import { historyReport, statusReport } from '../../../views/reports.js';
import { statusLine } from '../../../views/status-line.js';
import { failureMessage, rollbackMessage, successMessage } from '../../../views/thread-messages.js';
import { deployment, T0 } from '../fixtures.js';
import { angleTokens, hostileText, mrkdwnTexts, Tally } from './hostile.js';

/**
 * Property tests over the views that show text from outside: what users typed (change summary,
 * ticket, justification, reasons) and what providers said (failure reasons, gate evidence,
 * monitor names). Whatever the text, the only `<…>` in the output are the ones the product
 * made (mentions of known ids, dates, thread links), and Block Kit's limits hold.
 */

const RUNS = 1500;
const tally = new Tally();
afterAll(() => console.log(`fuzz (views): ${tally.total} inputs tried`));

/** Slack cuts or refuses a message text longer than this. */
const MAX_MESSAGE_TEXT = 40_000;
const NOW = T0 + 3_600_000;

interface Outside {
  summary: string;
  ticket: string;
  justification: string;
  reason: string;
  evidence: string[];
}

const outside: fc.Arbitrary<Outside> = fc.record({
  summary: hostileText,
  ticket: hostileText,
  justification: hostileText,
  reason: hostileText,
  evidence: fc.array(hostileText, { maxLength: 4 }),
});

const BASE = deployment({
  hotfix: true,
  approver: 'U0RM1',
  rollbackBy: 'U0DEV1',
  held: { weight: 50, by: 'U0DEV1', at: T0 },
});

/** The same deployment with every outside text set to `o`, in a phase where each shows. */
function withText(o: Outside, overrides: Partial<Deployment> = {}): Deployment {
  return {
    ...BASE,
    ...overrides,
    changeSummary: o.summary,
    ticket: o.ticket,
    justification: o.justification,
    rejectReason: o.reason,
    rollbackReason: o.reason,
    failureReason: o.reason,
    pauseReason: o.reason,
    stepIndex: 1,
    stepRecords: [
      { startedAt: T0, endedAt: T0, outcome: 'ok' },
      { startedAt: T0, detail: o.reason },
    ],
  };
}

const BENIGN: Outside = { summary: 'x', ticket: 'x', justification: 'x', reason: 'x', evidence: ['x'] };

/** Renders with the outside text and with benign text: the `<…>` tokens must be the same. */
function expectOnlyOwnTokens<T>(o: Outside, render: (o: Outside) => T): T {
  const hostile = render(o);
  const tokens = (value: T) => mrkdwnTexts(value).flatMap(angleTokens);
  const benign = render({ ...BENIGN, evidence: o.evidence.map(() => 'x') });
  expect(tokens(hostile)).toEqual(tokens(benign));
  return hostile;
}

const expectMessage = (message: { text: string; blocks: unknown[] }) => {
  expect(message.text.length).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
  expect(messageBlockProblems(message.blocks)).toEqual([]);
};

const property = <T>(arbitrary: fc.Arbitrary<T>, check: (value: T) => void) =>
  fc.assert(fc.property(arbitrary, tally.count(check)), { numRuns: RUNS });

describe('fuzz: views with outside text', () => {
  it('announcement, before and after each kind of decision', () => {
    const decision = fc.constantFrom<Decision['kind'] | undefined>(undefined, 'approve', 'reject', 'expire');
    property(fc.tuple(outside, decision), ([o, kind]) => {
      const render = (t: Outside) => {
        const d = withText(t, { phase: 'running' });
        const decided: Decision | undefined = kind && { kind, by: 'U0RM1', at: T0, reason: t.reason };
        return announcement(d, {
          onCall: 'S0ONCALL',
          expectedSeconds: 900,
          statusLine: statusLine(d, NOW),
          decision: decided,
        });
      };
      expectMessage(expectOnlyOwnTokens(o, render));
    });
  });

  it('thread messages: success, rollback, failure', () => {
    property(outside, (o) => {
      for (const render of [
        (t: Outside) => successMessage(withText(t, { phase: 'succeeded', finishedAt: NOW }), NOW, t.evidence),
        (t: Outside) => rollbackMessage(withText(t, { phase: 'rolled-back' }), 'S0ONCALL', t.evidence),
        (t: Outside) => failureMessage(withText(t, { phase: 'failed' }), 'U0PAGER'),
      ]) {
        const text = expectOnlyOwnTokens(o, (t) => ({ text: render(t) })).text;
        expect(text.length).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
      }
    });
  });

  it('on-call alerts: after the rollback window, and paused', () => {
    property(outside, (o) => {
      expectMessage(
        expectOnlyOwnTokens(o, (t) =>
          postWindowAlert(withText(t, { weights: { blue: 0, green: 100 } }), 'S0ONCALL', t.evidence),
        ),
      );
      expectMessage(
        expectOnlyOwnTokens(o, (t) =>
          pausedAlert(withText(t, { phase: 'paused', weights: { blue: 90, green: 10 } }), 'S0ONCALL', t.evidence),
        ),
      );
    });
  });

  it('/deploy status and /deploy history, up to 50 deployments', () => {
    property(fc.tuple(outside, fc.integer({ min: 1, max: 50 })), ([o, count]) => {
      const many = (t: Outside, phase: Deployment['phase']) => {
        const d = withText(t, { phase });
        return Array.from({ length: count }, (_, i) => ({ ...d, id: `acme-api-${i}` }));
      };
      const status = expectOnlyOwnTokens(o, (t) => ({ text: statusReport(many(t, 'running'), NOW) })).text;
      expect(status.length).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
      const history = expectOnlyOwnTokens(o, (t) => ({
        text: historyReport('acme-api', many(t, 'rolled-back'), NOW),
      })).text;
      expect(history.length).toBeLessThanOrEqual(MAX_MESSAGE_TEXT);
    });
  });

  it('modals: the checklist (items from the catalog, any length) and the reject reason', () => {
    const version = fc.oneof(
      fc.stringMatching(/^[0-9a-f]{7,40}$/),
      fc.stringMatching(/^v\d{1,4}\.\d{1,4}\.\d{1,4}(-[0-9A-Za-z.-]{1,100})?$/),
    );
    const items = fc.array(
      fc
        .oneof(hostileText, fc.string({ minLength: 1, maxLength: 2000 }))
        .filter((item) => item.length >= 1 && item.length <= 2000),
      { minLength: 1, maxLength: 90 },
    );
    property(fc.tuple(version, items, fc.boolean()), ([v, list, hotfix]) => {
      const modal = checklistModal(
        { service: 'acme-api', version: v, strategy: 'blue-green', hotfix, origin: 'C0TEAM' },
        list,
      );
      expect(viewProblems(modal)).toEqual([]);
      expect(viewProblems(rejectModal(deployment({ version: v })))).toEqual([]);
    });
  });
});
