import { randomBytes } from 'node:crypto';
import { viewProblems } from './block-kit-limits.js';

export type Json = Record<string, unknown>;

export interface SlackView extends Json {
  id: string;
  type: string;
  callback_id: string;
  private_metadata: string;
  external_id: string;
  hash: string;
  root_view_id: string;
  previous_view_id: string | null;
  blocks: unknown[];
  /** The user who opened it (modal) or whose Home tab it is. */
  user_id?: string;
}

interface Trigger {
  user?: string;
  issuedAt: number;
  used: boolean;
}

export const fail = (error: string, extra: Json = {}): Json => ({ ok: false, error, ...extra });
export const invalidArguments = (messages: string[]): Json =>
  fail('invalid_arguments', { response_metadata: { messages } });
export const str = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;
export const arr = (value: unknown): unknown[] | undefined => (Array.isArray(value) ? value : undefined);

/** The views.* methods of the Slack stand-in: modals (with their push stack) and Home tabs. */
export class SlackViews {
  readonly byId = new Map<string, SlackView>();
  private readonly triggers = new Map<string, Trigger>();
  private readonly modalStacks = new Map<string, string[]>();
  private count = 0;

  constructor(
    private readonly identity: { teamId: string; appId: string; botId: string },
    private readonly options: { triggerTtlMs: number; now: () => number },
  ) {}

  issueTriggerId(options: { user?: string; issuedAt?: number } = {}): string {
    const id = `${Math.floor(this.options.now() / 1000)}.${this.triggers.size + 1}.${randomBytes(10).toString('hex')}`;
    this.triggers.set(id, { user: options.user, issuedAt: options.issuedAt ?? this.options.now(), used: false });
    return id;
  }

  /** Slack accepts a trigger once, within 3 seconds of the interaction that issued it. */
  private useTrigger(id: unknown): { error?: Json; user?: string } {
    if (typeof id !== 'string' || id === '') {
      return { error: invalidArguments(['[ERROR] missing required field: trigger_id [json-pointer:/trigger_id]']) };
    }
    const trigger = this.triggers.get(id);
    if (!trigger || this.options.now() - trigger.issuedAt > this.options.triggerTtlMs)
      return { error: fail('expired_trigger_id') };
    if (trigger.used) return { error: fail('exchanged_trigger_id') };
    trigger.used = true;
    return { user: trigger.user };
  }

  private makeView(view: Json, extra: Partial<SlackView>): SlackView {
    this.count += 1;
    const id = `V${String(this.count).padStart(10, '0')}`;
    return {
      team_id: this.identity.teamId,
      app_id: this.identity.appId,
      bot_id: this.identity.botId,
      state: { values: {} },
      clear_on_close: false,
      notify_on_close: false,
      ...view,
      id,
      type: String(view.type),
      callback_id: str(view.callback_id) ?? '',
      private_metadata: str(view.private_metadata) ?? '',
      external_id: str(view.external_id) ?? '',
      blocks: arr(view.blocks) ?? [],
      hash: `${Math.floor(this.options.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      root_view_id: id,
      previous_view_id: null,
      ...extra,
    };
  }

  open(method: 'views.open' | 'views.push', args: Json): Json {
    const problems = viewProblems(args.view);
    if (problems.length > 0) return invalidArguments(problems);
    const trigger = this.useTrigger(args.trigger_id);
    if (trigger.error) return trigger.error;
    const view = args.view as Json;
    const stackKey = trigger.user ?? '';
    let stack = method === 'views.push' ? this.modalStacks.get(stackKey) : undefined;
    if (method === 'views.push' && !stack?.length) return fail('not_found');
    if (stack && stack.length >= 3) return fail('push_limit_reached');
    stack = stack ?? [];
    const made = this.makeView(view, trigger.user ? { user_id: trigger.user } : {});
    if (stack.length > 0) Object.assign(made, { root_view_id: stack[0], previous_view_id: stack.at(-1) ?? null });
    this.modalStacks.set(stackKey, [...stack, made.id]);
    this.byId.set(made.id, made);
    return { ok: true, view: made };
  }

  private findView(args: Json): SlackView | undefined {
    const id = str(args.view_id);
    const external = str(args.external_id);
    return [...this.byId.values()].find((v) =>
      id ? v.id === id : external !== undefined && v.external_id === external,
    );
  }

  private replaceView(existing: SlackView, view: Json, hash: unknown): Json {
    if (str(hash) && hash !== existing.hash) return fail('hash_conflict');
    const { id, root_view_id, previous_view_id, user_id } = existing;
    const next = this.makeView(view, { id, root_view_id, previous_view_id, ...(user_id ? { user_id } : {}) });
    this.byId.set(id, next);
    return { ok: true, view: next };
  }

  update(args: Json): Json {
    const problems = viewProblems(args.view);
    if (problems.length > 0) return invalidArguments(problems);
    const existing = this.findView(args);
    if (!existing) return fail('not_found');
    return this.replaceView(existing, args.view as Json, args.hash);
  }

  publish(args: Json): Json {
    const user = str(args.user_id);
    if (!user) return invalidArguments(['[ERROR] missing required field: user_id [json-pointer:/user_id]']);
    const problems = viewProblems(args.view);
    if ((args.view as Json | undefined)?.type !== 'home')
      problems.push('[ERROR] must be home [json-pointer:/view/type]');
    if (problems.length > 0) return invalidArguments(problems);
    const existing = [...this.byId.values()].find((v) => v.type === 'home' && v.user_id === user);
    if (existing) return this.replaceView(existing, args.view as Json, args.hash);
    const made = this.makeView(args.view as Json, { user_id: user });
    this.byId.set(made.id, made);
    return { ok: true, view: made };
  }
}
