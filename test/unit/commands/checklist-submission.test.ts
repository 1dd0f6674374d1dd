import { describe, expect, it } from 'vitest';
import { answerErrors, readAnswers, type ChecklistAnswers } from '../../../commands/checklist-submission.js';
import {
  CONFIRM_ACTION,
  ITEM_BLOCK_PREFIX,
  JUSTIFICATION_BLOCK,
  STRATEGY_BLOCK,
  SUMMARY_BLOCK,
  TICKET_BLOCK,
  VALUE_ACTION,
} from '../../../views/checklist-modal.js';
import { specCatalog } from '../fixtures.js';

const catalog = specCatalog();
const api = catalog.services['acme-api']!;
const worker = catalog.services['acme-worker']!;

const confirmed = { [CONFIRM_ACTION]: { selected_options: [{ value: 'confirmed' }] } };
const unconfirmed = { [CONFIRM_ACTION]: { selected_options: [] } };

const answers = (overrides: Partial<ChecklistAnswers> = {}): ChecklistAnswers => ({
  summary: 'Faster token refresh',
  ticket: 'DEPLOY-123',
  strategy: 'blue-green',
  confirmed: [true, true, true],
  ...overrides,
});

describe('readAnswers', () => {
  it('reads every field of the modal state, trimming text', () => {
    const values = {
      [`${ITEM_BLOCK_PREFIX}0`]: confirmed,
      [`${ITEM_BLOCK_PREFIX}1`]: unconfirmed,
      [`${ITEM_BLOCK_PREFIX}2`]: { [CONFIRM_ACTION]: { selected_options: null } },
      [SUMMARY_BLOCK]: { [VALUE_ACTION]: { value: '  Faster token refresh\n' } },
      [TICKET_BLOCK]: { [VALUE_ACTION]: { value: ' DEPLOY-42 ' } },
      [STRATEGY_BLOCK]: { [VALUE_ACTION]: { selected_option: { value: 'canary' } } },
      [JUSTIFICATION_BLOCK]: { [VALUE_ACTION]: { value: '  SEV1 open ' } },
    };
    expect(readAnswers(values, 4)).toEqual({
      summary: 'Faster token refresh',
      ticket: 'DEPLOY-42',
      strategy: 'canary',
      justification: 'SEV1 open',
      confirmed: [true, false, false, false],
    });
  });

  it('missing blocks read as empty, a blank justification as none', () => {
    expect(readAnswers({ [JUSTIFICATION_BLOCK]: { [VALUE_ACTION]: { value: '   ' } } }, 2)).toEqual({
      summary: '',
      ticket: '',
      strategy: '',
      justification: undefined,
      confirmed: [false, false],
    });
  });
});

describe('answerErrors', () => {
  it('none for a complete form', () => {
    expect(answerErrors(answers(), false, 'acme-api', api)).toEqual({});
    expect(answerErrors(answers({ justification: 'SEV1' }), true, 'acme-api', api)).toEqual({});
    expect(answerErrors(answers({ strategy: 'rolling' }), false, 'acme-worker', worker)).toEqual({});
  });

  it('each unchecked item is reported on its own block', () => {
    const errors = answerErrors(answers({ confirmed: [true, false, false] }), false, 'acme-api', api);
    expect(errors).toEqual({
      [`${ITEM_BLOCK_PREFIX}1`]: 'Confirm this item before deploying',
      [`${ITEM_BLOCK_PREFIX}2`]: 'Confirm this item before deploying',
    });
  });

  it.each(['', 'deploy-123', 'DEPLOY-', 'DEPLOY-12a', 'JIRA-123', 'DEPLOY-1234567890'])(
    'a bad ticket (%s) is reported inline',
    (ticket) => {
      expect(answerErrors(answers({ ticket }), false, 'acme-api', api)).toEqual({
        [TICKET_BLOCK]: 'Give the approved change ticket as DEPLOY-<number>, e.g. DEPLOY-123',
      });
    },
  );

  it('an empty summary, an unknown strategy, a hotfix without justification', () => {
    const errors = answerErrors(answers({ summary: '', strategy: 'yolo' }), true, 'acme-api', api);
    expect(errors).toEqual({
      [SUMMARY_BLOCK]: 'Describe what changes',
      [STRATEGY_BLOCK]: 'Choose blue-green, canary or rolling',
      [JUSTIFICATION_BLOCK]: 'A hotfix needs a justification',
    });
  });

  it('a strategy the service’s workload cannot run', () => {
    expect(answerErrors(answers({ strategy: 'rolling' }), false, 'acme-api', api)[STRATEGY_BLOCK]).toBe(
      'acme-api has a blue/green pair; deploy it with blue-green or canary',
    );
    expect(answerErrors(answers({ strategy: 'canary' }), false, 'acme-worker', worker)[STRATEGY_BLOCK]).toBe(
      'acme-worker has one Deployment; it can only be deployed with rolling',
    );
  });
});
