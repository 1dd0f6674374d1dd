import type { Strategy } from '../src/domain/deployment.js';
import { plain, section, truncate } from './text.js';

export const CHECKLIST_CALLBACK = 'deploy_checklist';
export const ITEM_BLOCK_PREFIX = 'check_';
export const CONFIRM_ACTION = 'confirm';
export const SUMMARY_BLOCK = 'summary';
export const TICKET_BLOCK = 'ticket';
export const STRATEGY_BLOCK = 'strategy';
export const JUSTIFICATION_BLOCK = 'justification';
export const VALUE_ACTION = 'value';

/** What the modal carries from the slash command to its submission. */
export interface ChecklistRequest {
  service: string;
  version: string;
  strategy: Strategy;
  hotfix: boolean;
  /** Channel the command was typed in, for errors after the modal closes. */
  origin: string;
  /** The catalog environment it goes to; a modal opened before environments existed has none (production). */
  environment?: string;
  /** `at <time>`: when it is to start (ms since epoch). */
  startAt?: number;
}

/** What the modal says beside the checklist: a scheduled start, or the busy service it will queue behind. */
export interface ChecklistNotes {
  /** The start, as the requester's time zone should read it (`14:00 Europe/Berlin`). */
  startsAt?: string;
  /** The active deployment it will queue behind (mrkdwn). */
  queue?: string;
}

const STRATEGIES: Strategy[] = ['blue-green', 'canary', 'rolling'];

const textInput = (
  blockId: string,
  label: string,
  options: { multiline?: boolean; placeholder?: string; hint?: string } = {},
) => ({
  type: 'input' as const,
  block_id: blockId,
  label: plain(label, 2000),
  ...(options.hint ? { hint: plain(options.hint, 2000) } : {}),
  element: {
    type: 'plain_text_input' as const,
    action_id: VALUE_ACTION,
    multiline: options.multiline ?? false,
    max_length: options.multiline ? 2900 : 100,
    ...(options.placeholder ? { placeholder: plain(options.placeholder, 150) } : {}),
  },
});

/**
 * The pre-deploy checklist. Each item is the label of its own input block, so items
 * longer than an option's 75 characters are shown whole.
 */
export function checklistModal(request: ChecklistRequest, items: readonly string[], notes: ChecklistNotes = {}) {
  const strategyOption = (s: Strategy) => ({ text: plain(s), value: s });
  return {
    type: 'modal' as const,
    callback_id: CHECKLIST_CALLBACK,
    private_metadata: JSON.stringify(request),
    title: plain(request.hotfix ? 'Hotfix deploy' : `Deploy to ${request.environment ?? 'production'}`, 24),
    submit: plain('Request approval', 24),
    close: plain('Cancel', 24),
    blocks: [
      section(
        `*${request.hotfix ? 'HOTFIX · ' : ''}Deploy \`${request.service}\` version \`${request.version}\`${request.environment ? ` to ${request.environment}` : ''}*\nConfirm every item of the pre-deploy checklist; a release manager approves in #deployments.`,
      ),
      ...(notes.startsAt ? [section(`:spiral_calendar_pad: Scheduled to start at *${notes.startsAt}*.`)] : []),
      ...(notes.queue ? [section(notes.queue)] : []),
      ...items.map((item, i) => ({
        type: 'input' as const,
        block_id: `${ITEM_BLOCK_PREFIX}${i}`,
        label: plain(truncate(item, 2000), 2000),
        element: {
          type: 'checkboxes' as const,
          action_id: CONFIRM_ACTION,
          options: [{ text: plain('Confirmed'), value: 'confirmed' }],
        },
      })),
      textInput(SUMMARY_BLOCK, 'Change summary', {
        multiline: true,
        placeholder: 'What changes for users, one line each',
      }),
      textInput(TICKET_BLOCK, 'Change ticket', {
        placeholder: 'DEPLOY-123',
        hint: 'The approved JIRA change request (DEPLOY-…)',
      }),
      {
        type: 'input' as const,
        block_id: STRATEGY_BLOCK,
        label: plain('Strategy'),
        element: {
          type: 'static_select' as const,
          action_id: VALUE_ACTION,
          initial_option: strategyOption(request.strategy),
          options: STRATEGIES.map(strategyOption),
        },
      },
      ...(request.hotfix
        ? [
            textInput(JUSTIFICATION_BLOCK, 'Hotfix justification', {
              multiline: true,
              placeholder: 'Why this cannot wait for the next deploy window',
            }),
          ]
        : []),
    ],
  };
}
