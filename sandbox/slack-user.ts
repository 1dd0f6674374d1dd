import type { SlackMessage, SlackStandIn, SlackView } from './slack.js';
import {
  blockAction,
  eventCallback,
  inputValue,
  slashCommand,
  viewSubmission,
  type SlackRequestResult,
} from './slack-requests.js';

export interface ChecklistFill {
  /** Indexes of checklist items left unchecked. */
  unchecked?: number[];
  summary?: string;
  ticket?: string;
  strategy?: string;
  justification?: string;
}

/** The checklist modal's `state.values` as a user fills it: every item checked unless told. */
export function checklistValues(view: SlackView, fill: ChecklistFill = {}): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of view.blocks as { block_id?: string }[]) {
    const id = block.block_id ?? '';
    if (!id.startsWith('check_')) continue;
    const index = Number(id.slice('check_'.length));
    values[id] = { confirm: inputValue.checkboxes(fill.unchecked?.includes(index) ? [] : ['confirmed']) };
  }
  values.summary = {
    value: inputValue.plainText(fill.summary ?? 'Feature: new user dashboard\nFix: payment processing bug'),
  };
  values.ticket = { value: inputValue.plainText(fill.ticket ?? 'DEPLOY-123') };
  const metadata = JSON.parse(view.private_metadata) as { strategy: string; hotfix: boolean };
  values.strategy = { value: inputValue.staticSelect(fill.strategy ?? metadata.strategy) };
  if (metadata.hotfix) values.justification = { value: inputValue.plainText(fill.justification ?? '') };
  return values;
}

/**
 * A person in the sandbox workspace: types slash commands, fills the checklist modal and
 * presses buttons, each as one signed request to the bot, as Slack would send it.
 */
export class SlackUser {
  constructor(
    readonly id: string,
    private readonly appUrl: string,
    private readonly slack: SlackStandIn,
    private readonly secret: string,
    private readonly channel: string,
  ) {}

  command(command: string, text: string): Promise<SlackRequestResult> {
    return slashCommand(
      this.appUrl,
      this.secret,
      { command, text, user_id: this.id, channel_id: this.channel },
      { slack: this.slack },
    );
  }

  /** The newest modal opened for this user, once it is there. */
  async latestView(callbackId: string, after = 0, timeoutMs = 3000): Promise<SlackView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = [...this.slack.views]
        .reverse()
        .find((v, i, all) => v.callback_id === callbackId && v.user_id === this.id && all.length - i > after);
      if (view) return view;
      if (Date.now() > deadline) throw new Error(`no ${callbackId} view was opened for ${this.id}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** `/deploy …` and the checklist modal it opens. */
  async requestDeploy(text: string): Promise<{ ack: SlackRequestResult; view: SlackView }> {
    const before = this.slack.views.length;
    const ack = await this.command('/deploy', text);
    const view = await this.latestView('deploy_checklist', before);
    return { ack, view };
  }

  submitChecklist(view: SlackView, fill: ChecklistFill = {}): Promise<SlackRequestResult> {
    const values = checklistValues(view, fill);
    return viewSubmission(this.appUrl, this.secret, { user_id: this.id, view, values }, { slack: this.slack });
  }

  /** Presses a button (by action id) on a message. */
  press(message: SlackMessage, actionId: string): Promise<SlackRequestResult> {
    const blocks = message.blocks as
      { type: string; block_id?: string; elements?: { action_id?: string; value?: string }[] }[] | undefined;
    // Slack names the block the button is in, as the app wrote it (or an id of its own when it wrote none).
    const block = blocks?.find((b) => (b.elements ?? []).some((element) => element.action_id === actionId));
    const button = block?.elements?.find((element) => element.action_id === actionId);
    if (!block || !button) throw new Error(`message ${message.ts} has no ${actionId} button`);
    return blockAction(
      this.appUrl,
      this.secret,
      {
        user_id: this.id,
        channel_id: message.channel,
        message: { ts: message.ts },
        actions: [{ action_id: actionId, block_id: block.block_id ?? 'decision', value: button.value }],
      },
      { slack: this.slack },
    );
  }

  /** Opens the app's Home tab (`app_home_opened`) and waits for the view the bot publishes for it. */
  async openHome(timeoutMs = 3000): Promise<SlackView> {
    const publishes = () => this.slack.callsTo('views.publish').filter((c) => c.args.user_id === this.id);
    const before = publishes().length;
    const sent = await eventCallback(
      this.appUrl,
      this.secret,
      { type: 'app_home_opened', user: this.id, channel: `D${this.id.slice(1)}`, tab: 'home' },
      { slack: this.slack },
    );
    if (sent.status !== 200) throw new Error(`app_home_opened answered HTTP ${sent.status}: ${sent.body}`);
    return this.homeAfter(before, timeoutMs);
  }

  /** The Home tab view once the bot has published it more than `before` times for this user. */
  async homeAfter(before: number, timeoutMs = 3000): Promise<SlackView> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const call = this.slack.callsTo('views.publish').filter((c) => c.args.user_id === this.id)[before];
      if (call && !call.ok) throw new Error(`views.publish for ${this.id} failed: ${call.error}`);
      const view = call && this.slack.views.find((v) => v.type === 'home' && v.user_id === this.id);
      if (view) return view;
      if (Date.now() > deadline) throw new Error(`no Home tab was published for ${this.id} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Presses a button (by action id) on this user's Home tab. */
  pressOnHome(view: SlackView, actionId: string): Promise<SlackRequestResult> {
    return blockAction(
      this.appUrl,
      this.secret,
      { user_id: this.id, view, actions: [{ action_id: actionId, value: actionId }] },
      { slack: this.slack },
    );
  }

  submitView(view: SlackView, values: Record<string, Record<string, unknown>>): Promise<SlackRequestResult> {
    return viewSubmission(this.appUrl, this.secret, { user_id: this.id, view, values }, { slack: this.slack });
  }
}
