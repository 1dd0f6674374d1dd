import { describe, expect, it } from 'vitest';
import type { Deployment, StepRecord } from '../../../src/domain/deployment.js';
import { applyStepResult } from '../../../src/domain/machine.js';
import { parseCatalog, checklistOf } from '../../../src/runbook/catalog.js';
import { DEFAULT_CHECKLIST } from '../../../src/runbook/defaults.js';
import { expectedSeconds, planSteps } from '../../../src/runbook/plan.js';
import { messageBlockProblems, viewProblems } from '../../../sandbox/block-kit-limits.js';
import {
  ACKNOWLEDGE_ACTION,
  pausedAlert,
  postWindowAlert,
  RESUME_ACTION,
  ROLLBACK_NOW_ACTION,
} from '../../../views/alerts.js';
import { announcement, APPROVE_ACTION, REJECT_ACTION, rejectModal } from '../../../views/announcement.js';
import {
  checklistModal,
  CONFIRM_ACTION,
  ITEM_BLOCK_PREFIX,
  STRATEGY_BLOCK,
  type ChecklistRequest,
} from '../../../views/checklist-modal.js';
import { historyReport, planReport, statusReport } from '../../../views/reports.js';
import { dryRun } from '../../../commands/dry-run.js';
import { statusLine } from '../../../views/status-line.js';
import { escapeText, mention, plain, section, slackDate, truncate } from '../../../views/text.js';
import { failureMessage, rollbackMessage, successMessage } from '../../../views/thread-messages.js';
import { bareService, deployment, specCatalog, specCatalogInput, T0 } from '../fixtures.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const textOf = (v: unknown): string | undefined => (isObject(v) && typeof v.text === 'string' ? v.text : undefined);

/**
 * Our own reading of Block Kit's limits (independent of the sandbox's checker): one line per
 * problem, naming where it is.
 */
function blockKitProblems(blocks: unknown[], maxBlocks: number): string[] {
  const problems: string[] = [];
  const over = (where: string, value: unknown, max: number) => {
    const text = textOf(value);
    if (text !== undefined && text.length > max) problems.push(`${where}: ${text.length} > ${max}`);
    if (text !== undefined && text.length === 0) problems.push(`${where}: empty`);
  };
  const options = (where: string, list: unknown) => {
    if (!Array.isArray(list)) return;
    list.forEach((option, i) => {
      over(`${where}[${i}].text`, isObject(option) ? option.text : undefined, 75);
      if (isObject(option) && typeof option.value === 'string' && option.value.length > 150)
        problems.push(`${where}[${i}].value too long`);
    });
  };
  const element = (where: string, el: unknown) => {
    if (!isObject(el)) return;
    if (el.type === 'button') over(`${where}.text`, el.text, 75);
    over(`${where}.placeholder`, el.placeholder, 150);
    options(`${where}.options`, el.options);
    if (el.initial_option) options(`${where}.initial_option`, [el.initial_option]);
    if (el.type === 'checkboxes' && Array.isArray(el.options) && el.options.length > 10)
      problems.push(`${where}: more than 10 checkboxes`);
  };
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} blocks > ${maxBlocks}`);
  const ids = new Set<string>();
  blocks.forEach((block, i) => {
    const where = `blocks[${i}]`;
    if (!isObject(block)) return void problems.push(`${where}: not an object`);
    if (typeof block.block_id === 'string') {
      if (ids.has(block.block_id)) problems.push(`${where}: duplicate block_id ${block.block_id}`);
      ids.add(block.block_id);
    }
    switch (block.type) {
      case 'section':
        over(`${where}.text`, block.text, 3000);
        if (Array.isArray(block.fields)) block.fields.forEach((f, j) => over(`${where}.fields[${j}]`, f, 2000));
        break;
      case 'context':
        if (Array.isArray(block.elements)) block.elements.forEach((e, j) => over(`${where}.elements[${j}]`, e, 3000));
        break;
      case 'input':
        over(`${where}.label`, block.label, 2000);
        over(`${where}.hint`, block.hint, 2000);
        element(`${where}.element`, block.element);
        break;
      case 'actions':
        if (Array.isArray(block.elements)) block.elements.forEach((e, j) => element(`${where}.elements[${j}]`, e));
        break;
      case 'header':
        over(`${where}.text`, block.text, 150);
        break;
      default:
        problems.push(`${where}: unexpected block type ${String(block.type)}`);
    }
  });
  return problems;
}

function modalProblems(view: {
  title: unknown;
  submit?: unknown;
  close?: unknown;
  blocks: unknown[];
  private_metadata?: string;
}): string[] {
  const problems = blockKitProblems(view.blocks, 100);
  for (const key of ['title', 'submit', 'close'] as const) {
    const text = textOf(view[key]);
    if (text !== undefined && text.length > 24) problems.push(`${key}: ${text.length} > 24`);
  }
  if (textOf(view.title) === undefined) problems.push('no title');
  if ((view.private_metadata ?? '').length > 3000) problems.push('private_metadata too long');
  return [...problems, ...viewProblems(view)];
}

const messageProblems = (message: { text: string; blocks: unknown[] }): string[] => [
  ...blockKitProblems(message.blocks, 50),
  ...messageBlockProblems(message.blocks),
  ...(message.text.length > 40_000 ? ['text over 40,000 characters'] : []),
];

const HOSTILE = 'ship it <!channel> ping <@U123> and <!here>, see <https://evil.example|x> & <#C999>';

/** No user-typed control sequence survives; the escaped forms are there instead. */
function expectEscaped(text: string): void {
  expect(text).not.toContain('<!channel>');
  expect(text).not.toContain('<!here>');
  expect(text).not.toContain('<@U123>');
  expect(text).not.toContain('<https://evil');
  expect(text).not.toContain('<#C999>');
  expect(text).toContain('&lt;!channel&gt;');
  expect(text).toContain('&lt;@U123&gt;');
  expect(text).toContain('&lt;https://evil.example|x&gt;');
  expect(text).toContain('&amp;');
}

/** Every `text` string anywhere in the blocks, one per line. */
const allText = (blocks: unknown[]): string => {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObject(v)) {
      for (const [key, value] of Object.entries(v)) {
        if (key === 'text' && typeof value === 'string') out.push(value);
        else walk(value);
      }
    }
  };
  walk(blocks);
  return out.join('\n');
};

const request = (overrides: Partial<ChecklistRequest> = {}): ChecklistRequest => ({
  service: 'acme-api',
  version: 'a1b2c3d',
  strategy: 'blue-green',
  hotfix: false,
  origin: 'C0ORIGIN',
  ...overrides,
});

describe('text helpers', () => {
  it('escapeText escapes exactly & < > (and & first)', () => {
    expect(escapeText('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(escapeText('&lt;')).toBe('&amp;lt;');
    expect(escapeText('*bold* _it_ "q" \'s\'')).toBe('*bold* _it_ "q" \'s\'');
  });

  it('mention: user groups as subteam, users as @', () => {
    expect(mention('S0ONCALL')).toBe('<!subteam^S0ONCALL>');
    expect(mention('U0ONCALL')).toBe('<@U0ONCALL>');
    expect(mention('W0ENTERPRISE')).toBe('<@W0ENTERPRISE>');
  });

  it('truncate, section, plain and slackDate respect their limits', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
    expect(section('x'.repeat(5000)).text.text).toHaveLength(3000);
    expect(plain('y'.repeat(100)).text).toHaveLength(75);
    expect(plain('y'.repeat(100), 24).text).toHaveLength(24);
    expect(slackDate(T0)).toBe(`<!date^${T0 / 1000}^{date_short_pretty} {time}|2025-03-04T15:00:00Z>`);
  });
});

describe('checklist modal', () => {
  it('with the default checklist: within every limit, hotfix or not', () => {
    for (const hotfix of [false, true]) {
      const view = checklistModal(request({ hotfix }), DEFAULT_CHECKLIST);
      expect(modalProblems(view)).toEqual([]);
      expect(view.title.text.length).toBeLessThanOrEqual(24);
      expect(view.submit.text.length).toBeLessThanOrEqual(24);
      expect(view.close.text.length).toBeLessThanOrEqual(24);
    }
  });

  it('its first block names service and version', () => {
    const view = checklistModal(request({ version: 'v1.2.3' }), DEFAULT_CHECKLIST);
    expect(view.blocks[0]).toMatchObject({ type: 'section' });
    const first = textOf((view.blocks[0] as Json).text) ?? '';
    expect(first).toContain('acme-api');
    expect(first).toContain('v1.2.3');
  });

  it('seed 000’s first item (longer than an option’s 75 characters) appears whole, as a label', () => {
    const item = DEFAULT_CHECKLIST[0];
    expect(item.length).toBeGreaterThan(75);
    const view = checklistModal(request(), DEFAULT_CHECKLIST);
    const block = view.blocks.find((b) => (b as Json).block_id === `${ITEM_BLOCK_PREFIX}0`) as Json;
    expect(block.type).toBe('input');
    expect(textOf(block.label)).toBe(item);
    expect(modalProblems(view)).toEqual([]);
  });

  it('every item is a required checkbox of its own, with a short option', () => {
    const view = checklistModal(request(), DEFAULT_CHECKLIST);
    const items = view.blocks.filter((b) => String((b as Json).block_id ?? '').startsWith(ITEM_BLOCK_PREFIX)) as Json[];
    expect(items).toHaveLength(7);
    items.forEach((block, i) => {
      expect(block.block_id).toBe(`${ITEM_BLOCK_PREFIX}${i}`);
      expect(block.optional).toBeUndefined();
      expect(textOf(block.label)).toBe(DEFAULT_CHECKLIST[i]);
      expect(block.element).toMatchObject({
        type: 'checkboxes',
        action_id: CONFIRM_ACTION,
        options: [{ value: 'confirmed' }],
      });
    });
  });

  it('90 items of 2,000 characters (the catalog maximum), hotfix: ≤ 100 blocks, labels whole and ≤ 2,000', () => {
    const input = specCatalogInput();
    input.checklist = Array.from({ length: 90 }, (_, i) => `${i}: ${'Confirm the thing. '.repeat(120)}`.slice(0, 2000));
    const catalog = parseCatalog(input);
    const items = checklistOf(catalog, catalog.services['acme-api']!);
    expect(items).toHaveLength(90);
    const view = checklistModal(request({ hotfix: true }), items);
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(modalProblems(view)).toEqual([]);
    const labels = view.blocks
      .filter((b) => String((b as Json).block_id ?? '').startsWith(ITEM_BLOCK_PREFIX))
      .map((b) => textOf((b as Json).label));
    expect(labels).toEqual(items);
  });

  it('carries the request in private_metadata and prefills the strategy', () => {
    const r = request({ strategy: 'canary', hotfix: true });
    const view = checklistModal(r, DEFAULT_CHECKLIST);
    expect(JSON.parse(view.private_metadata)).toEqual(r);
    const strategy = view.blocks.find((b) => (b as Json).block_id === STRATEGY_BLOCK) as Json;
    expect(strategy.element).toMatchObject({ initial_option: { value: 'canary' } });
    expect(view.blocks.some((b) => (b as Json).block_id === 'justification')).toBe(true);
    expect(
      checklistModal(request(), DEFAULT_CHECKLIST).blocks.some((b) => (b as Json).block_id === 'justification'),
    ).toBe(false);
  });
});

describe('announcement', () => {
  const ctx = { onCall: 'S0ONCALL', expectedSeconds: 2400, statusLine: '▱▱▱ · ⏸ awaiting approval' };

  it('seed 001 fields, with Approve and Reject until decided; within the message limits', () => {
    const d = deployment({ phase: 'awaiting-approval' });
    const message = announcement(d, ctx);
    expect(messageProblems(message)).toEqual([]);
    const text = allText(message.blocks);
    for (const field of [
      'Production Deployment Scheduled',
      '*Version:*',
      '*Time:*',
      '*Expected duration:* ~40m',
      '*Impact:*',
      '*Changes:*',
      '*Rollback Plan:*',
      '*On-Call:* <!subteam^S0ONCALL>',
    ]) {
      expect(text).toContain(field);
    }
    const actions = message.blocks.find((b) => b.type === 'actions') as { elements: Json[] };
    expect(actions.elements.map((e) => [e.action_id, e.value, textOf(e.text)])).toEqual([
      [APPROVE_ACTION, d.id, 'Approve'],
      [REJECT_ACTION, d.id, 'Reject'],
    ]);
    expect(message.text).toContain('acme-api a1b2c3d');
  });

  it('on a decision the buttons are replaced by who decided and when', () => {
    const d = deployment();
    const approved = announcement(d, { ...ctx, decision: { kind: 'approve', by: 'U0RM1', at: T0 + 60_000 } });
    expect(approved.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(approved.blocks)).toContain('Approved by <@U0RM1>');
    expect(allText(approved.blocks)).toContain(`<!date^${(T0 + 60_000) / 1000}^`);
    const rejected = announcement(d, { ...ctx, decision: { kind: 'reject', by: 'U0RM2', at: T0, reason: HOSTILE } });
    expect(allText(rejected.blocks)).toContain('Rejected by <@U0RM2>');
    expectEscaped(allText(rejected.blocks));
    expect(messageProblems(rejected)).toEqual([]);
    const expired = announcement(d, { ...ctx, decision: { kind: 'expire', by: 'switchyard', at: T0 } });
    expect(allText(expired.blocks)).toContain('Expired');
  });

  it('shows each approval rule, who approved it and when, and what is missing; the buttons stay until all are met', () => {
    const d = deployment({
      approvalRules: [
        { name: 'deployment manager', from: ['S0DMS'], count: 1 },
        { name: 'tech lead', from: ['S0LEADS'], count: 2 },
      ],
    });
    const approvals = [
      { by: 'U0DM1', rule: 'deployment manager', at: T0 + 60_000 },
      { by: 'U0LEAD1', rule: 'tech lead', at: T0 + 120_000 },
    ];
    const open = announcement(d, { ...ctx, approvals });
    const text = allText(open.blocks);
    expect(text).toContain(`✅ *deployment manager* (1 of 1): <@U0DM1> <!date^${(T0 + 60_000) / 1000}^`);
    expect(text).toContain('⏳ *tech lead* (1 of 2): <@U0LEAD1>');
    expect(text).toContain('waiting for 1 more');
    // Who may approve is not mentioned: every edit would notify them.
    expect(text).not.toContain('S0LEADS');
    expect(open.blocks.some((b) => b.type === 'actions')).toBe(true);
    expect(messageProblems(open)).toEqual([]);

    const all = [...approvals, { by: 'U0LEAD2', rule: 'tech lead', at: T0 + 180_000 }];
    const approved = announcement(d, {
      ...ctx,
      approvals: all,
      decision: { kind: 'approve', by: 'U0LEAD2', at: T0 + 180_000 },
    });
    expect(approved.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(approved.blocks)).toContain('Approved by <@U0DM1>, <@U0LEAD1> and <@U0LEAD2>');
  });

  it('approval: none shows that no approval is needed, without buttons', () => {
    const message = announcement(deployment({ approvalRules: [] }), ctx);
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(allText(message.blocks)).toContain('No approval needed');
  });

  it('many rules with many approvers and hostile rule names stay within the message limits', () => {
    const approvalRules = Array.from({ length: 40 }, (_, i) => ({
      name: `${HOSTILE} rule ${i}`,
      from: ['S0GROUP'],
      count: 30,
    }));
    const approvals = approvalRules.flatMap((rule, i) =>
      Array.from({ length: 30 }, (_, j) => ({ by: `U0P${i}X${j}`, rule: rule.name, at: T0 + j })),
    );
    const message = announcement(deployment({ approvalRules }), { ...ctx, approvals });
    expect(messageProblems(message)).toEqual([]);
    const rules = message.blocks.map((b) => textOf((b as Json).text) ?? '').find((t) => t.startsWith('*Approval:*'));
    expect(rules?.length).toBeLessThanOrEqual(3000);
    // Rule names are cut to 75 characters, escaped: no mention or link survives.
    expect(rules).not.toContain('<!channel>');
    expect(rules).not.toContain('<https');
    // Cut at a line, never inside a mention.
    expect(rules).toMatch(/\n…$/);
    expect(
      rules
        ?.split('\n')
        .slice(1, -1)
        .every((line) => /^[✅⏳] \*.*\(\d+ of 30\): .*[>e]$/u.test(line)),
    ).toBe(true);
  });

  it('mentions a user on-call as a user', () => {
    expect(allText(announcement(deployment(), { ...ctx, onCall: 'U0ONCALL' }).blocks)).toContain(
      '*On-Call:* <@U0ONCALL>',
    );
  });

  it('escapes what the user typed: change summary, ticket, hotfix justification', () => {
    const d = deployment({
      hotfix: true,
      changeSummary: `- ${HOSTILE}\n* second line`,
      justification: HOSTILE,
      ticket: '<!channel>',
    });
    const message = announcement(d, ctx);
    const sections = message.blocks.filter((b) => b.type === 'section').map((b) => textOf((b as Json).text) ?? '');
    const changes = sections.find((s) => s.startsWith('*Changes:*')) ?? '';
    expectEscaped(changes);
    expect(changes).toContain('• second line');
    const justification = sections.find((s) => s.startsWith('*Hotfix justification:*')) ?? '';
    expectEscaped(justification);
    expect(sections.join('\n')).not.toContain('*Ticket:* <!channel>');
    expect(message.text).not.toContain('<!channel>');
    expect(messageProblems(message)).toEqual([]);
  });

  it('a huge change summary still fits a section (≤ 3,000 characters)', () => {
    const d = deployment({ hotfix: true, changeSummary: '<'.repeat(2900), justification: '&'.repeat(2900) });
    const message = announcement(d, ctx);
    for (const block of message.blocks) {
      if (block.type === 'section') expect((textOf((block as Json).text) ?? '').length).toBeLessThanOrEqual(3000);
    }
    expect(messageProblems(message)).toEqual([]);
  });

  it('the reject modal fits Block Kit', () => {
    const view = rejectModal(deployment());
    expect(modalProblems(view)).toEqual([]);
    expect(view.private_metadata).toBe('acme-api-1');
  });
});

describe('status line', () => {
  // Without hooks, so the indexes below stay those of the traffic steps.
  const steps = planSteps(
    { ...specCatalog().services['acme-api']!, hooks: { preDeploy: [], postDeploy: [] } },
    'blue-green',
  );
  // 0 preflight, 1 deployIdle, 2 health, 3 smoke, 4 setWeight 10, 5 bake, 6 setWeight 50, 7 bake, 8 setWeight 100, 9 monitor, 10 complete
  const doneUpTo = (index: number, startedAt = T0): StepRecord[] =>
    steps.map((_, i) =>
      i < index ? { startedAt: T0 - 1000, endedAt: T0 - 500, outcome: 'ok' } : i === index ? { startedAt } : {},
    );

  it('awaiting approval: an empty bar', () => {
    expect(statusLine(deployment({ phase: 'awaiting-approval', steps }), T0)).toBe('▱▱▱ · ⏸ awaiting approval');
  });

  it('baking at 50%: ▰▰▱, the weight, and the bake time left', () => {
    const d = deployment({ steps, stepIndex: 7, stepRecords: doneUpTo(7), weights: { blue: 50, green: 50 } });
    expect(statusLine(d, T0 + 108_000)).toBe('▰▰▱ 50% on green · baking 3m12s left');
    expect(statusLine(d, T0)).toBe('▰▰▱ 50% on green · baking 5m left');
    expect(statusLine(d, T0 + 10 * 60_000)).toBe('▰▰▱ 50% on green · baking 0s left');
  });

  it('adds the current step’s detail', () => {
    const records = doneUpTo(5);
    records[5] = { startedAt: T0, detail: 'p99 latency 0.41 ≤ 0.8' };
    const d = deployment({ steps, stepIndex: 5, stepRecords: records, weights: { blue: 90, green: 10 } });
    expect(statusLine(d, T0 + 60_000)).toBe('▰▱▱ 10% on green · baking 4m left · p99 latency 0.41 ≤ 0.8');
  });

  it('monitoring after 100%', () => {
    const d = deployment({ steps, stepIndex: 9, stepRecords: doneUpTo(9), weights: { blue: 0, green: 100 } });
    expect(statusLine(d, T0 + 60_000)).toBe('▰▰▰ 100% on green · monitoring 29m left');
  });

  it('a step that is not a wait reads as its description', () => {
    const d = deployment({ steps, stepIndex: 1, stepRecords: doneUpTo(1) });
    expect(statusLine(d, T0)).toBe('▱▱▱ · deploy new version…');
  });

  it('terminal phases', () => {
    const full = { steps, stepRecords: doneUpTo(11), stepIndex: 11, weights: { blue: 0, green: 100 } };
    expect(statusLine(deployment({ ...full, phase: 'succeeded' }), T0)).toBe('▰▰▰ 100% on green · ✅ complete');
    expect(statusLine(deployment({ steps, phase: 'rejected' }), T0)).toBe('▱▱▱ · 🚫 rejected');
    expect(statusLine(deployment({ steps, phase: 'expired' }), T0)).toBe('▱▱▱ · ⌛ expired without a decision');
    expect(statusLine(deployment({ steps, phase: 'rolled-back', weights: { blue: 100, green: 0 } }), T0)).toBe(
      '▱▱▱ 0% on green · ⚠️ rolled back',
    );
  });

  it('shows the latest gate readings while baking', () => {
    const d = deployment({
      steps,
      stepIndex: 7,
      stepRecords: doneUpTo(7),
      weights: { blue: 50, green: 50 },
      lastGateRun: {
        at: T0 + 30_000,
        outcome: 'pass',
        readings: [
          { name: 'p99 latency', query: 'q', threshold: '≤ 0.8', value: 0.412, outcome: 'pass' },
          { name: 'error rate', query: 'q', threshold: '≤ 0.01', outcome: 'inconclusive', error: 'no data' },
        ],
        firingMonitors: [],
      },
    });
    const line = statusLine(d, T0 + 60_000);
    expect(line).toMatch(/^▰▰▱ 50% on green · baking 4m left · p99 latency 0\.41\d* · error rate n\/a$/);
  });

  // A paused deployment (gates inconclusive) holds its weight and pages on-call; its status line
  // should say so, not keep counting the bake down as if it were progressing.
  it('a paused deployment says it is paused', () => {
    const baking = deployment({ steps, stepIndex: 7, stepRecords: doneUpTo(7), weights: { blue: 50, green: 50 } });
    const d = applyStepResult(baking, { kind: 'pause', reason: 'gates inconclusive 3 times in a row' }, T0 + 90_000);
    expect(d.phase).toBe('paused');
    const line = statusLine(d, T0 + 120_000);
    expect(line).toMatch(/paused/i);
    expect(line).not.toMatch(/baking .* left/);
  });

  it('rolling: no bar, no weight', () => {
    const rolling = planSteps(specCatalog().services['acme-worker']!, 'rolling');
    const d = deployment({
      strategy: 'rolling',
      steps: rolling,
      stepIndex: 1,
      stepRecords: [{ startedAt: T0, outcome: 'ok' }, { startedAt: T0 }],
      newColor: undefined,
      liveColor: undefined,
    });
    expect(statusLine(d, T0)).toBe('deploy new version…');
  });
});

describe('thread messages (seed 001 templates)', () => {
  it('success: Version, Status, Duration, health checks, metrics, next check', () => {
    const d = deployment({ phase: 'succeeded', approvedAt: T0, finishedAt: T0 + 42 * 60_000 });
    const text = successMessage(d, T0 + 99 * 60_000, ['p99 latency 0.41 ≤ 0.8']);
    expect(text).toContain('*Deployment Complete*: acme-api');
    expect(text).toContain('*Version:* `a1b2c3d`');
    expect(text).toContain('*Status:* Successful');
    expect(text).toContain('*Duration:* 42m');
    expect(text).toContain('*Health Checks:* All passing');
    expect(text).toContain('*Metrics:* p99 latency 0.41 ≤ 0.8');
    expect(text).toContain('*Next Check:*');
    expect(text).toContain('`9f8e7d6` on blue');
    expect(successMessage(d, T0)).toContain('*Metrics:* Within normal range');
  });

  it('rollback: Version a → b (rollback), Reason, Status, Action Items, on-call mentioned (group)', () => {
    const d = deployment({ phase: 'rolled-back', rollbackReason: 'p99 latency 1.2 > 0.8', rollbackBy: 'switchyard' });
    const text = rollbackMessage(d, 'S0ONCALL', ['p99 latency: `p99:trace…` = 1.2 (≤ 0.8)']);
    expect(text).toContain('*Deployment Rolled Back*: acme-api <!subteam^S0ONCALL>');
    expect(text).toContain('*Version:* `a1b2c3d` → `9f8e7d6` (rollback)');
    expect(text).toContain('*Reason:* p99 latency 1.2 &gt; 0.8');
    expect(text).not.toContain('(by <@');
    expect(text).toContain('p99 latency: `p99:trace…` = 1.2 (≤ 0.8)');
    expect(text).toContain('*Status:* System stable on `9f8e7d6`');
    expect(text).toContain('*Action Items:*');
    expect(text).toContain('Root cause analysis');
    expect(text).toContain('/deploy clear acme-api a1b2c3d');
  });

  it('rollback: on-call as a user, who asked, and an escaped reason', () => {
    const d = deployment({ phase: 'rolled-back', rollbackReason: HOSTILE, rollbackBy: 'U0DEV1' });
    const text = rollbackMessage(d, 'U0ONCALL');
    expect(text).toContain('<@U0ONCALL>');
    expect(text).toContain('(by <@U0DEV1>)');
    expectEscaped(text);
  });

  it('rollback without a known previous version', () => {
    const text = rollbackMessage(deployment({ previousVersion: undefined, rollbackReason: 'x' }), 'S0ONCALL');
    expect(text).toContain('→ `the previous version` (rollback)');
  });

  // Slack parses any raw <…> as a control sequence; the placeholder must be sent as &lt;RCA link&gt;.
  it('rollback: the `/deploy clear … <RCA link>` hint is escaped, not a raw <…> control sequence', () => {
    const text = rollbackMessage(deployment({ rollbackReason: 'x' }), 'S0ONCALL');
    expect(text).toContain('&lt;RCA link&gt;');
    expect(text).not.toContain('<RCA link>');
  });

  it('failure: escaped reason and on-call mentioned', () => {
    const text = failureMessage(deployment({ phase: 'failed', failureReason: HOSTILE }), 'S0ONCALL');
    expect(text).toContain('*Deployment Failed*');
    expect(text).toContain('<!subteam^S0ONCALL>');
    expectEscaped(text);
  });
});

describe('reports', () => {
  it('history: one line per deployment, reasons escaped', () => {
    const list: Deployment[] = [
      deployment({
        id: 'd1',
        phase: 'rolled-back',
        approver: 'U0RM1',
        approvedAt: T0,
        finishedAt: T0 + 90_000,
        rollbackReason: HOSTILE,
      }),
      deployment({
        id: 'd2',
        version: 'v1.2.3',
        phase: 'rejected',
        finishedAt: T0 + 5000,
        rejectReason: '<@U123> said no',
        announcementTs: undefined,
        announcementLink: undefined,
      }),
      deployment({ id: 'd3', phase: 'succeeded', approver: 'U0RM2', approvedAt: T0, finishedAt: T0 + 3_600_000 }),
    ];
    const text = historyReport('acme-api', list, T0 + 10_000_000);
    const lines = text.split('\n');
    expect(lines[0]).toBe('*Last 3 deployments of acme-api*');
    expect(lines[1]).toContain('`a1b2c3d` by <@U0DEV1>, approved by <@U0RM1>: ⚠️ rolled back in 1m30s');
    expectEscaped(lines[1] ?? '');
    expect(lines[1]).toContain('<https://acme.slack.com/archives/C0DEPLOYS/p1741100400000100|thread>');
    expect(lines[2]).toContain('🚫 rejected');
    expect(lines[2]).toContain('&lt;@U123&gt; said no');
    expect(lines[2]).not.toContain('<@U123>');
    expect(lines[3]).toContain('✅ succeeded in 1h');
    expect(historyReport('acme-api', [], T0)).toBe('No deployments of acme-api yet.');
  });

  it('status: one line per active deployment with its status line and thread', () => {
    expect(statusReport([], T0)).toBe('No active deployments.');
    const d = deployment({ phase: 'awaiting-approval', hotfix: true });
    const text = statusReport([d], T0);
    expect(text).toContain('*Active deployments* (1)');
    expect(text).toContain('*acme-api* `a1b2c3d` (blue-green, HOTFIX) by <@U0DEV1>: ');
    expect(text).toContain('⏸ awaiting approval');
    expect(text).toContain('<https://acme.slack.com/archives/C0DEPLOYS/p1741100400000100|thread>');
    // Without Slack's permalink (not fetched yet) the line has no link rather than a guessed one.
    expect(statusReport([{ ...d, announcementLink: undefined }], T0)).not.toContain('archives');
  });

  it('dry-run plan: steps, weights, bakes, gates with queries and thresholds, hooks, expected duration', () => {
    const catalog = specCatalog();
    const service = catalog.services['acme-api']!;
    const text = planReport(dryRun('acme-api', service, 'blue-green', 'v1.2.3', catalog));
    expect(text).toContain('*Dry run: acme-api `v1.2.3` (blue-green)*');
    expect(text).toContain('2. preDeploy hook migrate');
    expect(text).toContain('6. shift traffic to 10%');
    expect(text).toContain('7. bake at 10% for 5m');
    expect(text).toContain('`p99:trace.http.request.duration{service:acme-api,env:prod}` ≤ 0.8');
    expect(text).toContain('vs baseline ×1.1');
    expect(text).toContain('vs baseline +0.01');
    expect(text).toContain('monitors tagged service:acme-api with priority 1/2 must not alert');
    expect(text).toContain('*Hooks:* pre migrate, post e2e');
    expect(text).toContain(`~40m plus rollout time`);
    expect(expectedSeconds(planSteps(service, 'blue-green'))).toBe(2400);
    expect(text).toContain('<@U0RM1>, <@U0RM2>');
    const bare = planReport(dryRun('bare', bareService(), 'blue-green', 'a1b2c3d', catalog));
    expect(bare).toContain('• none configured');
    expect(bare).toContain('*Hooks:* none');
    const rolling = planReport(dryRun('acme-worker', catalog.services['acme-worker']!, 'rolling', 'a1b2c3d', catalog));
    expect(rolling).toContain('Workload: prod/acme-worker gets');
    expect(rolling).not.toContain('shift traffic');
  });
});

describe('alerts', () => {
  const evidence = ['• p99 latency: `p99:trace.http.request.duration{service:acme-api,color:green}` = 1.2 (≤ 0.8) ✗'];

  it('post-window alert: on-call mentioned, Roll back now and Acknowledge, within the message limits', () => {
    const d = deployment({ phase: 'running', weights: { blue: 0, green: 100 } });
    for (const onCall of ['S0ONCALL', 'U0ONCALL']) {
      const message = postWindowAlert(d, onCall, evidence);
      expect(messageProblems(message)).toEqual([]);
      expect(message.text).toContain(mention(onCall));
      expect(allText(message.blocks)).toContain(evidence[0]);
      const actions = message.blocks.find((b) => (b as Json).type === 'actions') as { elements: Json[] };
      expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
        [ROLLBACK_NOW_ACTION, d.id],
        [ACKNOWLEDGE_ACTION, d.id],
      ]);
    }
  });

  it('paused alert: weight, reason, Resume and Roll back now', () => {
    const d = deployment({
      phase: 'paused',
      weights: { blue: 50, green: 50 },
      pauseReason: 'gates inconclusive 3 times in a row',
    });
    const message = pausedAlert(d, 'S0ONCALL', evidence);
    expect(messageProblems(message)).toEqual([]);
    expect(message.text).toContain('<!subteam^S0ONCALL>');
    expect(message.text).toContain('paused at 50% on green: gates inconclusive 3 times in a row');
    const actions = message.blocks.find((b) => (b as Json).type === 'actions') as { elements: Json[] };
    expect(actions.elements.map((e) => e.action_id)).toEqual([RESUME_ACTION, ROLLBACK_NOW_ACTION]);
  });

  it('many evidence lines still fit a section', () => {
    const many = Array.from({ length: 200 }, (_, i) => `• gate ${i}: ${'q'.repeat(40)} = ${i}`);
    expect(messageProblems(postWindowAlert(deployment(), 'S0ONCALL', many))).toEqual([]);
    expect(messageProblems(pausedAlert(deployment(), 'S0ONCALL', many))).toEqual([]);
  });
});
