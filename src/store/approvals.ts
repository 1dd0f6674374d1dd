import type { Redis } from 'ioredis';
import type { ApprovalRecord, ApprovalRule } from '../domain/approval.js';
import type { Decision, DeploymentEvent } from '../domain/deployment.js';
import { keys, type Keys } from './keys.js';

/**
 * Counts one approval in one atomic step, so two presses at once are counted one after the
 * other and never twice. A decision already taken (approved, rejected, expired) ends counting;
 * a person counts once, toward the first still-open rule they belong to; the approval that
 * meets the last open rule also records the approve decision the worker acts on.
 * KEYS: intents, events. ARGV: the user, the approve decision's JSON, then per rule in order
 * its name, its count, the approval's JSON ('' when the user is not in the rule) and its
 * event's JSON. The approvals stay a JSON array in the intents' `approvals` field; it is
 * extended as text, so the timestamps written by the caller are kept as written.
 */
const APPROVE = `
local decision = redis.call('HGET', KEYS[1], 'decision')
if decision then return {'decided', decision} end
local raw = redis.call('HGET', KEYS[1], 'approvals')
local tally = {}
if raw then
  for _, approval in ipairs(cjson.decode(raw)) do
    if approval.by == ARGV[1] then return {'already-counted', raw} end
    tally[approval.rule] = (tally[approval.rule] or 0) + 1
  end
end
local chosen
local complete = true
for i = 3, #ARGV, 4 do
  local have = tally[ARGV[i]] or 0
  local count = tonumber(ARGV[i + 1])
  if not chosen and have < count and ARGV[i + 2] ~= '' then
    chosen = i
    have = have + 1
  end
  if have < count then complete = false end
end
if not chosen then return {'no-open-rule', raw or '[]'} end
if raw then raw = string.sub(raw, 1, -2) .. ',' .. ARGV[chosen + 2] .. ']' else raw = '[' .. ARGV[chosen + 2] .. ']' end
redis.call('HSET', KEYS[1], 'approvals', raw)
redis.call('RPUSH', KEYS[2], ARGV[chosen + 3])
if complete then redis.call('HSET', KEYS[1], 'decision', ARGV[2]) end
return {'counted', raw, ARGV[chosen], complete and '1' or '0'}
`;

/** What one press of Approve came to. */
export type ApprovalOutcome =
  /** Counted toward `rule`; `complete` when it met the last open rule (the approve decision is recorded). */
  | { kind: 'counted'; rule: string; approvals: ApprovalRecord[]; complete: boolean }
  /** This person's approval counts already: nothing changed. */
  | { kind: 'already-counted'; approvals: ApprovalRecord[] }
  /** None of the rules this person belongs to is still open: nothing changed. */
  | { kind: 'no-open-rule'; approvals: ApprovalRecord[] }
  /** The deployment was decided already (approved, rejected or expired): nothing changed. */
  | { kind: 'decided'; decision: Decision };

/** A deployment's approvals, in its intents, counted atomically in Redis. */
export class ApprovalCounter {
  private readonly k: Keys;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.k = keys(prefix);
  }

  /**
   * Counts `user`'s approval of deployment `id` under `rules`; `memberOf[i]` says whether they
   * belong to rule i (the caller resolved user groups and left out the requester).
   */
  async approve(
    id: string,
    user: string,
    rules: readonly ApprovalRule[],
    memberOf: readonly boolean[],
    at: number,
  ): Promise<ApprovalOutcome> {
    const decision: Decision = { kind: 'approve', by: user, at };
    const perRule = rules.flatMap((rule, i) => {
      const approval: ApprovalRecord = { by: user, rule: rule.name, at };
      const event: DeploymentEvent = {
        at,
        actor: user,
        type: 'approve-recorded',
        detail: rule.name,
        data: { rule: rule.name },
      };
      return [rule.name, String(rule.count), memberOf[i] ? JSON.stringify(approval) : '', JSON.stringify(event)];
    });
    const reply = (await this.redis.eval(
      APPROVE,
      2,
      this.k.intents(id),
      this.k.events(id),
      user,
      JSON.stringify(decision),
      ...perRule,
    )) as string[];
    const [kind, json = '[]', rule = '', complete] = reply;
    if (kind === 'decided') return { kind, decision: JSON.parse(json) as Decision };
    const approvals = JSON.parse(json) as ApprovalRecord[];
    if (kind === 'counted') return { kind, rule, approvals, complete: complete === '1' };
    return { kind: kind === 'already-counted' ? kind : 'no-open-rule', approvals };
  }
}
