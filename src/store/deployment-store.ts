import type { Redis } from 'ioredis';
import type { ChangeList } from '../domain/changes.js';
import type {
  CancelIntent,
  Decision,
  Deployment,
  DeploymentEvent,
  HoldIntent,
  Intents,
  PersonIntent,
  RollbackIntent,
} from '../domain/deployment.js';
import type { QueueView } from '../domain/machine.js';
import { DEFAULT_ENVIRONMENT } from '../runbook/environments.js';
import { keys, type Keys } from './keys.js';

/** Why a version may not be deployed again until a release manager clears it (root cause first: Acme's runbook, step 5). */
export interface BlockedVersion {
  deploymentId: string;
  reason: string;
  at: number;
}

/**
 * Hands a free lock to the first deployment in the queue that may start: approved (in the
 * ready hash), due, within its grace, not cancelled and not of a blocked version. The lock, the
 * fencing token and the start intent are written together, so a worker killed right after
 * still leaves the next deployment with the lock and the token it writes under.
 * Uses: lock, queue, ready, blocked, fence keys; the intents key prefix; now (ms, as a string).
 */
const HAND_OVER = `
local function handOver(lock, queue, ready, blocked, fence, intentsPrefix, now)
  if redis.call('EXISTS', lock) == 1 then return '' end
  local nowMs = tonumber(now)
  for _, id in ipairs(redis.call('ZRANGE', queue, 0, -1)) do
    local raw = redis.call('HGET', ready, id)
    if raw then
      local entry = cjson.decode(raw)
      local due = (entry.startAt or 0) <= nowMs and (entry.graceUntil == nil or nowMs <= entry.graceUntil)
      if due and redis.call('HEXISTS', blocked, entry.version) == 0 and redis.call('HEXISTS', intentsPrefix .. id, 'cancel') == 0 then
        local token = redis.call('INCR', fence)
        redis.call('SET', lock, id .. ':' .. token)
        redis.call('ZREM', queue, id)
        redis.call('HDEL', ready, id)
        redis.call('HSET', intentsPrefix .. id, 'start', '{"fence":' .. token .. ',"at":' .. now .. '}')
        return id
      end
    end
  end
  return ''
end
`;

/**
 * The record (stored with the fence `PENDING`) under the fencing token the script takes: taken
 * in the same script as the lock, tokens grow in the order the lock changes hands. A queued
 * record likewise gets the place in line the script gave it.
 */
const WITH_FENCE = `
local function withField(record, name, value)
  return (string.gsub(record, '"' .. name .. '":%-1([,}])', '"' .. name .. '":' .. value .. '%1', 1))
end
local function withFence(record, token) return withField(record, 'fence', token) end
`;

/** The fence (or place in line) a record carries until the script that decides it writes the real one. */
const PENDING = -1;

/**
 * Creates the record and either takes the service's lock (`lock`: when it is free and nobody
 * due is queued) or joins the service's queue (busy, someone due waiting, or `queue`: a
 * scheduled start), in one step; a Slack view id
 * already submitted creates nothing.
 * KEYS: lock, record, history, all, events, queue, submitted view. ARGV: id, record holding
 * the lock, requested at, event, fence key, queued record, mode (only-lock: refuse when busy |
 * lock | queue), queue score, view guard TTL in ms ('' for no guard).
 */
const CREATE =
  WITH_FENCE +
  `
if ARGV[9] ~= '' then
  if not redis.call('SET', KEYS[7], ARGV[1], 'NX', 'PX', ARGV[9]) then return {3, redis.call('GET', KEYS[7]) or ''} end
end
local holder = redis.call('GET', KEYS[1])
if holder and ARGV[7] == 'only-lock' then return {0, holder} end
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[3], ARGV[1])
redis.call('RPUSH', KEYS[5], ARGV[4])
-- A free lock with deployments already waiting their turn (awaiting approval) is theirs first.
local waiting = ARGV[7] == 'lock' and redis.call('ZCOUNT', KEYS[6], '-inf', ARGV[3]) > 0
if ARGV[7] ~= 'queue' and not holder and not waiting then
  local token = redis.call('INCR', ARGV[5])
  redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token)
  redis.call('SET', KEYS[2], withFence(ARGV[2], token))
  return {1, token}
end
redis.call('ZADD', KEYS[6], ARGV[8], ARGV[1])
local position = redis.call('ZRANK', KEYS[6], ARGV[1]) + 1
redis.call('SET', KEYS[2], withField(ARGV[6], 'queuePosition', position))
return {2, position, holder or ''}
`;

/**
 * A tick's one write: the record, its events and (for a rollback) the blocked version, all or
 * nothing, and only while the lock holds this deployment's fencing token. Answers with the
 * intents as they are now, so the tick sees one recorded while it was acting. A terminal write
 * (release) also starts the retention clock on every key of the deployment, trims the
 * service's and the global index of deployments requested before the retention window, and
 * hands the lock to the first queued deployment that may start (answering with its id and the
 * ids still queued, to wake).
 * KEYS: lock, record, events, intents, blocked versions, posted, outbox order, outbox sending,
 * service history, all deployments, queue, ready, fence, run. ARGV: holder, record, release,
 * blocked version ('' for none), its JSON, retention in ms, oldest score kept, now, the
 * intents key prefix, the run's token ('' for none), then the events. An event with a `signature` equal to the last event's
 * replaces it, counting on (repeated gate readings).
 */
const COMMIT =
  HAND_OVER +
  `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0} end
if ARGV[10] ~= '' and redis.call('GET', KEYS[14]) ~= ARGV[10] then return {0} end
redis.call('SET', KEYS[2], ARGV[2])
for i = 11, #ARGV do
  local merged = false
  if string.find(ARGV[i], '"signature":', 1, true) then
    local last = redis.call('LINDEX', KEYS[3], -1)
    if last and string.find(last, '"signature":', 1, true) then
      local before = cjson.decode(last)
      local now = cjson.decode(ARGV[i])
      if before.type == now.type and before.data.signature == now.data.signature then
        local count = string.format('%d', (before.data.count or 1) + 1)
        local first = string.format('%d', before.data.firstAt or before.at)
        local event = string.gsub(ARGV[i], '"count":1,"firstAt":%d+', '"count":' .. count .. ',"firstAt":' .. first, 1)
        redis.call('LSET', KEYS[3], -1, event)
        merged = true
      end
    end
  end
  if not merged then redis.call('RPUSH', KEYS[3], ARGV[i]) end
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[5], ARGV[4], ARGV[5]) end
local handed = ''
local waiting = {}
if ARGV[3] == '1' then
  redis.call('DEL', KEYS[1])
  for _, i in ipairs({2, 3, 4, 6, 7, 8, 14}) do redis.call('PEXPIRE', KEYS[i], ARGV[6]) end
  redis.call('ZREMRANGEBYSCORE', KEYS[9], '-inf', '(' .. ARGV[7])
  redis.call('ZREMRANGEBYSCORE', KEYS[10], '-inf', '(' .. ARGV[7])
  handed = handOver(KEYS[1], KEYS[11], KEYS[12], KEYS[5], KEYS[13], ARGV[9], ARGV[8])
  waiting = redis.call('ZRANGE', KEYS[11], 0, -1)
end
return {1, redis.call('HGETALL', KEYS[4]), handed, waiting}
`;

/**
 * The one write of a queued deployment's tick (it holds no lock): only while it is still in
 * the queue and the lock was not handed to it meanwhile. `ready` lists it as approved for the
 * hand-over; `leave` takes it out of the queue for good (a terminal phase) and starts the
 * retention clock; `claim` (and `ready`) then hands a free lock to the first deployment that
 * may start. Answers like COMMIT.
 * KEYS: record, events, intents, queue, ready, lock, fence, blocked, posted, outbox order,
 * outbox sending, run. ARGV: id, record, mode (keep | ready | leave), ready entry, retention
 * in ms, now, intents key prefix, claim, the run's token ('' for none), then the events.
 */
const COMMIT_QUEUED =
  HAND_OVER +
  `
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) or redis.call('HEXISTS', KEYS[3], 'start') == 1 then return {0} end
if ARGV[9] ~= '' and redis.call('GET', KEYS[12]) ~= ARGV[9] then return {0} end
redis.call('SET', KEYS[1], ARGV[2])
for i = 10, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end
local moved = false
if ARGV[3] == 'ready' then redis.call('HSET', KEYS[5], ARGV[1], ARGV[4]) end
if ARGV[3] == 'leave' then
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[5], ARGV[1])
  for _, key in ipairs({KEYS[1], KEYS[2], KEYS[3], KEYS[9], KEYS[10], KEYS[11], KEYS[12]}) do redis.call('PEXPIRE', key, ARGV[5]) end
  moved = true
end
local handed = ''
if ARGV[3] == 'ready' or ARGV[8] == '1' then
  handed = handOver(KEYS[6], KEYS[4], KEYS[5], KEYS[8], KEYS[7], ARGV[7], ARGV[6])
end
local waiting = {}
if moved or handed ~= '' then waiting = redis.call('ZRANGE', KEYS[4], 0, -1) end
return {1, redis.call('HGETALL', KEYS[3]), handed, waiting}
`;

/**
 * Drops a discarded deployment's lock (when it holds it) and hands it on; a discarded one never
 * queued behind itself, so it is taken out of the queue first. Answers the id handed the lock.
 * KEYS: lock, queue, ready, blocked, fence. ARGV: holder, intents key prefix, now, id.
 */
const DISCARD_LOCK =
  HAND_OVER +
  `
redis.call('ZREM', KEYS[2], ARGV[4])
redis.call('HDEL', KEYS[3], ARGV[4])
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return '' end
redis.call('DEL', KEYS[1])
return handOver(KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], ARGV[2], ARGV[3])
`;

/**
 * A cancel intent, recorded only while the deployment has not started: queued (and not handed
 * the lock), or holding the lock still undecided. Answers 'recorded', 'already' (a cancel is
 * recorded), 'started', 'decided', or the phase it is in. KEYS: record, intents. ARGV: intent.
 */
const REQUEST_CANCEL = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 'gone' end
local phase = cjson.decode(raw).phase
if phase == 'queued' then
  if redis.call('HEXISTS', KEYS[2], 'start') == 1 then return 'started' end
elseif phase == 'awaiting-approval' then
  if redis.call('HEXISTS', KEYS[2], 'decision') == 1 then return 'decided' end
else
  return phase
end
if redis.call('HSETNX', KEYS[2], 'cancel', ARGV[1]) == 1 then return 'recorded' end
return 'already'
`;

/** KEYS: posted, events, record. ARGV: message key, ts, event JSON ('' for none). */
const MARK_POSTED = `
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then redis.call('RPUSH', KEYS[2], ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[3])
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return 1
`;

/** Where, beside the posted ts, the announcement's permalink is kept (not a message key). */
const ANNOUNCEMENT_LINK = 'link:announcement';

/**
 * A tick's one read: the record, its intents, the announcement's ts and permalink, and for a
 * queued deployment its place in the queue, the block on its version and the lock's holder
 * (its id and version, for the sentence that names what kept this one waiting). A run that
 * another run of the deployment's job superseded reads nothing but that. KEYS: record,
 * intents, posted, run. ARGV: the announcement's message key, the permalink's field, the key
 * prefix, the environment whose keys carry no suffix, the run's token ('' for none).
 */
const LOAD = `
if ARGV[5] ~= '' and redis.call('GET', KEYS[4]) ~= ARGV[5] then return {'superseded'} end
local record = redis.call('GET', KEYS[1])
if not record then return {} end
local queue = {}
if string.find(record, '"phase":"queued"', 1, true) then
  local d = cjson.decode(record)
  local environment = d.environment or ARGV[4]
  local scope = d.service
  if environment ~= ARGV[4] then scope = scope .. '@' .. environment end
  local rank = redis.call('ZRANK', ARGV[3] .. ':queue:' .. scope, d.id)
  local lock = redis.call('GET', ARGV[3] .. ':lock:' .. scope) or ''
  local holderVersion = ''
  if lock ~= '' then
    local held = redis.call('GET', ARGV[3] .. ':deploy:' .. string.match(lock, '^[^:]+'))
    if held then holderVersion = cjson.decode(held).version or '' end
  end
  queue = {
    rank and tostring(rank + 1) or '',
    redis.call('HGET', ARGV[3] .. ':blocked:' .. scope, d.version) or '',
    lock,
    holderVersion
  }
end
return {record, redis.call('HGETALL', KEYS[2]), redis.call('HGET', KEYS[3], ARGV[1]) or '', redis.call('HGET', KEYS[3], ARGV[2]) or '', queue}
`;

/** The outbox's key of a deployment's announcement; its posted ts is the thread every reply goes in. */
export const ANNOUNCEMENT_MESSAGE = 'announcement';

const parseIntents = (flat: string[]): Intents => {
  const intents: Record<string, unknown> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) intents[flat[i] as string] = JSON.parse(flat[i + 1] as string);
  return intents as Intents;
};

/**
 * The record as stored: without the announcement's ts, which only the outbox records (in its
 * posted keys) and every read joins back in.
 */
const stored = (d: Deployment): string =>
  JSON.stringify({ ...d, announcementTs: undefined, announcementLink: undefined });

/** A record stored before environments existed went to the one environment there was. */
const withAnnouncement = (raw: string, ts: string | null | undefined, link?: string | null | undefined): Deployment => {
  const d = { environment: DEFAULT_ENVIRONMENT, ...(JSON.parse(raw) as Omit<Deployment, 'environment'>) } as Deployment;
  return { ...d, ...(ts ? { announcementTs: ts } : {}), ...(link ? { announcementLink: link } : {}) };
};

/** What a superseded run's load reads: a newer run of the deployment's job owns its ticks. */
export const SUPERSEDED = 'superseded';

/** What one tick works from. */
export interface Loaded {
  deployment: Deployment;
  intents: Intents;
  /** For a queued deployment: its place in line, the block on its version, the lock's holder. */
  queue?: QueueView;
}

/**
 * What a tick's write came to: written (with the intents as they are now, the deployment the
 * lock was handed to and those still queued, to wake), or nothing, the lock being lost or (for
 * a queued one) the lock handed to it meanwhile.
 */
export type CommitResult =
  { written: true; intents: Intents; handedTo?: string; waiting: string[] } | { written: false };

type CommitReply = [0] | [1, string[], string, string[]];

const commitResult = (reply: CommitReply): CommitResult =>
  reply[0] === 1
    ? { written: true, intents: parseIntents(reply[1]), handedTo: reply[2] || undefined, waiting: reply[3] }
    : { written: false };

/** What a queued deployment's write does to its place in the queue. */
export type QueueMove =
  /** Stays in line as it was. */
  | 'keep'
  /** Approved: the hand-over may pick it. */
  | 'ready'
  /** Ended without starting: out of the line for good. */
  | 'leave';

export interface QueuedCommitOptions {
  move: QueueMove;
  /** Hand a free lock to the first deployment that may start. */
  claim?: boolean;
  /** The store's clock for the hand-over's due and grace checks (default: now). */
  now: number;
  /** For `ready`: the latest its scheduled start may happen. */
  graceUntil?: number;
  /** The worker run writing (`beginRun`): nothing is written once a newer run owns the ticks. */
  run?: string;
}

/** What a cancel request came to. */
export type CancelOutcome = 'recorded' | 'already' | 'started' | 'decided' | 'gone' | Deployment['phase'];

export interface CommitOptions {
  /** Drop the lock of the service in its environment in the same step (a terminal phase). */
  release?: boolean;
  /** Block the deployment's version from being deployed again (a rollback). */
  blockVersion?: BlockedVersion;
  /** The clock the retention window of a terminal write is measured on (default: now). */
  now?: number;
  /** The worker run writing (`beginRun`): nothing is written once a newer run owns the ticks. */
  run?: string;
}

/** How long a finished deployment's record, events, intents and message keys are kept. */
export const DEFAULT_RETENTION_DAYS = 90;
const DAY_MS = 86_400_000;

// A finished deployment takes its service's lock again, with a new fence, to be rolled back, if nobody holds it.
const REOPEN =
  WITH_FENCE +
  `
if redis.call('GET', KEYS[1]) then return 0 end
local current = redis.call('GET', KEYS[2])
if not current or cjson.decode(current)['phase'] ~= 'succeeded' then return 0 end
local token = redis.call('INCR', KEYS[6])
redis.call('SET', KEYS[1], ARGV[1] .. ':' .. token)
redis.call('SET', KEYS[2], withFence(ARGV[2], token))
-- Active again: kept until it ends again (KEYS 3-5: events, intents, posted).
for i = 3, 5 do redis.call('PERSIST', KEYS[i]) end
return token
`;

/** A release manager's block on new deployments of a service (or `all`), in one environment or every one. */
export interface Freeze {
  reason: string;
  by: string;
  at: number;
}

/** The freeze that stops a deployment: its scope (a service or `all`) and its environment (none: every one). */
export type FreezeInForce = Freeze & { scope: string; environment?: string };

/** How many of an environment's newest deployments are searched for a version's promotion facts. */
export const PROMOTION_LOOKBACK = 500;
const LOOKBACK_PAGE = 50;

// A rollback intent only counts while its deployment still holds the service (is not finished).
const REQUEST_ROLLBACK = `
local holder = redis.call('GET', KEYS[1])
if not holder or string.sub(holder, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. ':' then return -1 end
if redis.call('HSETNX', KEYS[2], 'rollback', ARGV[2]) == 1 then return 1 end
return 0
`;

const RECORD_CHANGES = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'changes', ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return 1
`;
/** A freeze's field: the scope alone for every environment, `<scope>@<environment>` for one. */
const freezeField = (scope: string, environment?: string): string =>
  environment === undefined ? scope : `${scope}@${environment}`;

/** Held its service's lock at some point (a queued deployment gets a fencing token only when it starts). */
const everStarted = (d: Deployment): boolean => d.fence > 0;

export type CreateResult = { created: true; deployment: Deployment } | { created: false; activeId: string };

/** What a request came to: holding the service's lock, queued (at `position`), or a view submitted before. */
export type RequestResult =
  | { kind: 'active'; deployment: Deployment }
  | { kind: 'queued'; deployment: Deployment; position: number; activeId?: string }
  | { kind: 'duplicate'; deploymentId: string };

export interface RequestOptions {
  /** The Slack view the request was submitted from: a second submission of it creates nothing. */
  viewId?: string;
}

/** How long a submitted view id is remembered (Slack retries within seconds; a day is plenty). */
const SUBMITTED_VIEW_TTL_MS = 86_400_000;

/**
 * Deployment records, their event logs and intents, and the lock of each service in each
 * environment, in Redis.
 */
export class DeploymentStore {
  private readonly k: Keys;

  /** How long a finished deployment is kept (its keys expire; the indexes drop it). */
  readonly retentionMs: number;

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    retentionDays: number = DEFAULT_RETENTION_DAYS,
  ) {
    this.retentionMs = retentionDays * DAY_MS;
    this.k = keys(prefix);
  }

  /**
   * Creates the record and takes the service's lock in one step: either both happen or, when
   * another deployment holds the service, neither does.
   */
  async create(draft: Deployment, event: DeploymentEvent): Promise<CreateResult> {
    const result = await this.createIn('only-lock', draft, event, {});
    if (result.kind === 'active') return { created: true, deployment: result.deployment };
    return { created: false, activeId: result.kind === 'busy' ? result.activeId : '' };
  }

  /**
   * Creates the record, taking the service's lock when it is free and nobody due is queued,
   * else queueing it behind the active deployment and those waiting (they keep their place while
   * their approval is open); a scheduled one (`draft.schedule`) always queues, by its start time.
   */
  async request(draft: Deployment, event: DeploymentEvent, options: RequestOptions = {}): Promise<RequestResult> {
    const result = await this.createIn(draft.schedule ? 'queue' : 'lock', draft, event, options);
    // Only `only-lock` refuses a busy service.
    if (result.kind === 'busy') throw new Error(`${draft.service} was refused as busy by a request that queues`);
    return result;
  }

  private async createIn(
    mode: 'only-lock' | 'lock' | 'queue',
    draft: Deployment,
    event: DeploymentEvent,
    options: RequestOptions,
  ): Promise<RequestResult | { kind: 'busy'; activeId: string }> {
    const d = { ...draft, fence: PENDING };
    const queued: Deployment = { ...draft, phase: 'queued', fence: 0, queuePosition: PENDING };
    const result = (await this.redis.eval(
      CREATE,
      7,
      this.k.lock(d.service, d.environment),
      this.k.deployment(d.id),
      this.k.history(d.service, d.environment),
      this.k.all(),
      this.k.events(d.id),
      this.k.queue(d.service, d.environment),
      this.k.submitted(options.viewId ?? ''),
      d.id,
      stored(d),
      String(d.requestedAt),
      JSON.stringify(event),
      this.k.fence(d.service, d.environment),
      stored(queued),
      mode,
      String(d.schedule?.startAt ?? d.requestedAt),
      options.viewId ? String(SUBMITTED_VIEW_TTL_MS) : '',
    )) as [number, string | number, string?];
    const holderId = (holder: string | undefined) => (holder ? (holder.split(':')[0] ?? holder) : undefined);
    switch (result[0]) {
      case 1:
        return { kind: 'active', deployment: { ...d, fence: Number(result[1]) } };
      case 2:
        return {
          kind: 'queued',
          deployment: { ...queued, queuePosition: Number(result[1]) },
          position: Number(result[1]),
          activeId: holderId(result[2]),
        };
      case 3:
        return { kind: 'duplicate', deploymentId: String(result[1]) };
      default:
        return { kind: 'busy', activeId: holderId(String(result[1])) ?? '' };
    }
  }

  /**
   * Removes a record whose announcement could not be posted, so nothing is left half-created.
   * The lock it took goes on to the first queued deployment that may start; answers with its
   * id, to wake.
   */
  async discard(d: Deployment, now: number): Promise<string | undefined> {
    const replies = await this.redis
      .multi()
      .eval(
        DISCARD_LOCK,
        5,
        this.k.lock(d.service, d.environment),
        this.k.queue(d.service, d.environment),
        this.k.queueReady(d.service, d.environment),
        this.k.blocked(d.service, d.environment),
        this.k.fence(d.service, d.environment),
        `${d.id}:${d.fence}`,
        this.k.intents(''),
        String(now),
        d.id,
      )
      .del(
        this.k.deployment(d.id),
        this.k.events(d.id),
        this.k.intents(d.id),
        this.k.posted(d.id),
        this.k.outboxOrder(d.id),
        this.k.outboxSending(d.id),
        this.k.edit(d.id, ANNOUNCEMENT_MESSAGE),
      )
      .zrem(this.k.history(d.service, d.environment), d.id)
      .zrem(this.k.all(), d.id)
      .zrem(this.k.queue(d.service, d.environment), d.id)
      .hdel(this.k.queueReady(d.service, d.environment), d.id)
      .exec();
    const handedTo = replies?.[0]?.[1];
    return typeof handedTo === 'string' && handedTo !== '' ? handedTo : undefined;
  }

  /**
   * Puts a succeeded deployment back under its service's lock in the rolling-back phase (a
   * rollback after completion). Undefined when another deployment holds the service.
   */
  async reopenForRollback(d: Deployment, intent: RollbackIntent): Promise<Deployment | undefined> {
    const next: Deployment = {
      ...d,
      phase: 'rolling-back',
      rollbackReason: intent.reason,
      rollbackBy: intent.by,
      fence: PENDING,
      finishedAt: undefined,
    };
    const fence = await this.redis.eval(
      REOPEN,
      6,
      this.k.lock(d.service, d.environment),
      this.k.deployment(d.id),
      this.k.events(d.id),
      this.k.intents(d.id),
      this.k.posted(d.id),
      this.k.fence(d.service, d.environment),
      d.id,
      stored(next),
    );
    if (typeof fence !== 'number' || fence === 0) return undefined;
    await this.redis.hset(this.k.intents(d.id), 'rollback', JSON.stringify(intent));
    return { ...next, fence };
  }

  async get(id: string): Promise<Deployment | undefined> {
    const replies = await this.redis
      .multi()
      .get(this.k.deployment(id))
      .hmget(this.k.posted(id), ANNOUNCEMENT_MESSAGE, ANNOUNCEMENT_LINK)
      .exec();
    const raw = replies?.[0]?.[1] as string | null | undefined;
    const [ts, link] = (replies?.[1]?.[1] ?? []) as (string | null)[];
    return raw ? withAnnouncement(raw, ts, link) : undefined;
  }

  /**
   * The record and its intents in one round trip: what one tick of the worker decides on.
   * Given the token of a worker run (`beginRun`), `SUPERSEDED` once a newer run owns the ticks.
   */
  load(id: string): Promise<Loaded | undefined>;
  load(id: string, run: string): Promise<Loaded | typeof SUPERSEDED | undefined>;
  async load(id: string, run?: string): Promise<Loaded | typeof SUPERSEDED | undefined> {
    const reply = (await this.redis.eval(
      LOAD,
      4,
      this.k.deployment(id),
      this.k.intents(id),
      this.k.posted(id),
      this.k.run(id),
      ANNOUNCEMENT_MESSAGE,
      ANNOUNCEMENT_LINK,
      this.prefix,
      DEFAULT_ENVIRONMENT,
      run ?? '',
    )) as [string, string[], string, string, string[]] | [typeof SUPERSEDED] | [];
    if (reply.length === 0) return undefined;
    if (reply.length === 1) return SUPERSEDED;
    const [raw, intents, ts, link, queue] = reply;
    const loaded: Loaded = { deployment: withAnnouncement(raw, ts, link), intents: parseIntents(intents) };
    if (queue.length === 4) {
      const [position, blocked, holder, holderVersion] = queue;
      loaded.queue = {
        position: position ? Number(position) : undefined,
        blocked: blocked ? (JSON.parse(blocked) as BlockedVersion).reason : undefined,
        holder: holder ? holder.split(':')[0] : undefined,
        holderVersion: holderVersion || undefined,
      };
    }
    return loaded;
  }

  /**
   * Writes the record and appends its events in one atomic step, if this deployment still holds
   * its service's lock (its fencing token); otherwise writes nothing.
   */
  async commit(d: Deployment, events: DeploymentEvent[], options: CommitOptions = {}): Promise<CommitResult> {
    const now = options.now ?? Date.now();
    const reply = (await this.redis.eval(
      COMMIT,
      14,
      this.k.lock(d.service, d.environment),
      this.k.deployment(d.id),
      this.k.events(d.id),
      this.k.intents(d.id),
      this.k.blocked(d.service, d.environment),
      this.k.posted(d.id),
      this.k.outboxOrder(d.id),
      this.k.outboxSending(d.id),
      this.k.history(d.service, d.environment),
      this.k.all(),
      this.k.queue(d.service, d.environment),
      this.k.queueReady(d.service, d.environment),
      this.k.fence(d.service, d.environment),
      this.k.run(d.id),
      `${d.id}:${d.fence}`,
      stored(d),
      options.release ? '1' : '0',
      options.blockVersion ? d.version : '',
      options.blockVersion ? JSON.stringify(options.blockVersion) : '',
      String(this.retentionMs),
      String(now - this.retentionMs),
      String(now),
      this.k.intents(''),
      options.run ?? '',
      ...events.map((event) => JSON.stringify(event)),
    )) as CommitReply;
    return commitResult(reply);
  }

  /**
   * The write of a queued deployment, which holds no lock: only while it is still queued and
   * was not handed the lock meanwhile (then the tick looks again and starts).
   */
  async commitQueued(d: Deployment, events: DeploymentEvent[], options: QueuedCommitOptions): Promise<CommitResult> {
    const ready = { version: d.version, startAt: d.schedule?.startAt, graceUntil: options.graceUntil };
    const reply = (await this.redis.eval(
      COMMIT_QUEUED,
      12,
      this.k.deployment(d.id),
      this.k.events(d.id),
      this.k.intents(d.id),
      this.k.queue(d.service, d.environment),
      this.k.queueReady(d.service, d.environment),
      this.k.lock(d.service, d.environment),
      this.k.fence(d.service, d.environment),
      this.k.blocked(d.service, d.environment),
      this.k.posted(d.id),
      this.k.outboxOrder(d.id),
      this.k.outboxSending(d.id),
      this.k.run(d.id),
      d.id,
      stored(d),
      options.move,
      JSON.stringify(ready),
      String(this.retentionMs),
      String(options.now),
      this.k.intents(''),
      options.claim ? '1' : '0',
      options.run ?? '',
      ...events.map((event) => JSON.stringify(event)),
    )) as CommitReply;
    return commitResult(reply);
  }

  /**
   * Makes a new run of the deployment's job the owner of its ticks: BullMQ may start another run
   * of a job whose worker it believes stalled (a busy event loop missing its lock renewal) while
   * the first still ticks. The older run's next load or write then finds itself superseded and
   * stops, so it cannot end the deployment while the newer one moves traffic again.
   */
  async beginRun(id: string): Promise<string> {
    const replies = await this.redis.multi().incr(this.k.run(id)).pexpire(this.k.run(id), this.retentionMs).exec();
    return String(replies?.[0]?.[1]);
  }

  /** The ids of the deployment holding the service's lock in `environment` (if any) and of those queued behind it. */
  async line(service: string, environment?: string): Promise<string[]> {
    const [holder, queued] = await Promise.all([
      this.activeId(service, environment),
      this.redis.zrange(this.k.queue(service, environment), '0', '-1'),
    ]);
    return holder ? [holder, ...queued] : queued;
  }

  /** The deployments waiting in line for the service in `environment`, first in line first. */
  async queued(service: string, environment?: string): Promise<Deployment[]> {
    return this.getMany(await this.redis.zrange(this.k.queue(service, environment), '0', '-1'));
  }

  /** Records `/deploy cancel` on a deployment that has not started; the outcome says why not otherwise. */
  async requestCancel(id: string, intent: CancelIntent): Promise<CancelOutcome> {
    return (await this.redis.eval(
      REQUEST_CANCEL,
      2,
      this.k.deployment(id),
      this.k.intents(id),
      JSON.stringify(intent),
    )) as CancelOutcome;
  }

  /**
   * Writes the record if this deployment still holds its service's lock; `release` drops the
   * lock in the same step (a terminal save). Returns false when the lock was lost.
   */
  async save(d: Deployment, options: Pick<CommitOptions, 'release' | 'now'> = {}): Promise<boolean> {
    return (await this.commit(d, [], options)).written;
  }

  /** The id of the deployment holding the service in `environment` (default production). */
  async activeId(service: string, environment?: string): Promise<string | undefined> {
    const holder = await this.redis.get(this.k.lock(service, environment));
    return holder ? holder.split(':')[0] : undefined;
  }

  async active(service: string, environment?: string): Promise<Deployment | undefined> {
    const id = await this.activeId(service, environment);
    return id ? this.get(id) : undefined;
  }

  /** The newest deployments of a service in `environment` (default production), newest first. */
  async history(service: string, limit: number, environment?: string): Promise<Deployment[]> {
    const ids = await this.redis.zrevrange(this.k.history(service, environment), 0, limit - 1);
    return this.getMany(ids);
  }

  /**
   * The newest deployment of a service in `environment` that ever held its lock: one that
   * waited in the queue and ended there (cancelled, rejected, expired) deployed nothing, so
   * rollbacks and buttons look past it.
   */
  async latestStarted(service: string, environment?: string): Promise<Deployment | undefined> {
    for (let start = 0; start < PROMOTION_LOOKBACK; start += LOOKBACK_PAGE) {
      const ids = await this.redis.zrevrange(this.k.history(service, environment), start, start + LOOKBACK_PAGE - 1);
      const found = (await this.getMany(ids)).find(everStarted);
      if (found || ids.length < LOOKBACK_PAGE) return found;
    }
    return undefined;
  }

  /** A service's deployments in `environment` requested at or after `from` (ms), newest first, at most `limit`. */
  async historySince(service: string, from: number, limit: number, environment?: string): Promise<Deployment[]> {
    return this.getMany(
      await this.redis.zrevrangebyscore(this.k.history(service, environment), '+inf', String(from), 'LIMIT', 0, limit),
    );
  }

  /**
   * What decides whether `version` may be promoted out of `environment`: its deployments there,
   * newest first, back to the newest one that settled (succeeded, or rolled back). Older ones
   * cannot change the answer: one service deploys one version at a time per environment, and a
   * rollback only ever reopens the newest deployment. At most PROMOTION_LOOKBACK deployments of
   * the environment are searched.
   */
  async versionHistory(service: string, environment: string, version: string): Promise<Deployment[]> {
    const found: Deployment[] = [];
    for (let start = 0; start < PROMOTION_LOOKBACK; start += LOOKBACK_PAGE) {
      const ids = await this.redis.zrevrange(this.k.history(service, environment), start, start + LOOKBACK_PAGE - 1);
      for (const d of await this.getMany(ids)) {
        if (d.version !== version || !everStarted(d)) continue;
        found.push(d);
        if (d.phase === 'succeeded' || d.phase === 'rolled-back') return found;
      }
      if (ids.length < LOOKBACK_PAGE) break;
    }
    return found;
  }

  async recent(limit: number): Promise<Deployment[]> {
    return this.getMany(await this.redis.zrevrange(this.k.all(), 0, limit - 1));
  }

  private async getMany(ids: string[]): Promise<Deployment[]> {
    if (ids.length === 0) return [];
    const pipeline = this.redis.multi().mget(ids.map((id) => this.k.deployment(id)));
    for (const id of ids) pipeline.hmget(this.k.posted(id), ANNOUNCEMENT_MESSAGE, ANNOUNCEMENT_LINK);
    const replies = (await pipeline.exec()) ?? [];
    const raws = (replies[0]?.[1] ?? []) as (string | null)[];
    return raws.flatMap((raw, i) => {
      const [ts, link] = (replies[i + 1]?.[1] ?? []) as (string | null)[];
      return raw ? [withAnnouncement(raw, ts, link)] : [];
    });
  }

  async appendEvent(id: string, event: DeploymentEvent): Promise<void> {
    await this.redis.rpush(this.k.events(id), JSON.stringify(event));
  }

  async events(id: string): Promise<DeploymentEvent[]> {
    const raws = await this.redis.lrange(this.k.events(id), 0, -1);
    return raws.map((raw) => JSON.parse(raw) as DeploymentEvent);
  }

  /** Records a decision unless one exists; returns the decision that stands. */
  async decide(id: string, decision: Decision): Promise<{ won: boolean; decision: Decision }> {
    return this.setIntentOnce(id, 'decision', decision);
  }

  /**
   * Records a rollback of an active deployment; the first request wins. `finished` when the
   * deployment ended meanwhile (the caller then rolls back the finished deployment instead).
   */
  async requestRollback(
    d: Deployment,
    intent: RollbackIntent,
  ): Promise<{ won: boolean; finished?: boolean; decision: RollbackIntent }> {
    const result = await this.redis.eval(
      REQUEST_ROLLBACK,
      2,
      this.k.lock(d.service, d.environment),
      this.k.intents(d.id),
      d.id,
      JSON.stringify(intent),
    );
    if (result === -1) return { won: false, finished: true, decision: intent };
    if (result === 1) return { won: true, decision: intent };
    const raw = await this.redis.hget(this.k.intents(d.id), 'rollback');
    return { won: false, decision: JSON.parse(raw ?? 'null') as RollbackIntent };
  }

  private async setIntentOnce<T>(id: string, field: keyof Intents, value: T): Promise<{ won: boolean; decision: T }> {
    const won = (await this.redis.hsetnx(this.k.intents(id), field, JSON.stringify(value))) === 1;
    if (won) return { won, decision: value };
    const raw = await this.redis.hget(this.k.intents(id), field);
    return { won, decision: JSON.parse(raw ?? 'null') as T };
  }

  /** Resume may be asked again after each pause; the newest request counts. */
  async requestResume(id: string, intent: PersonIntent): Promise<void> {
    await this.redis.hset(this.k.intents(id), 'resume', JSON.stringify(intent));
  }

  /** `/shift`: the newest weight asked for replaces the one before. */
  async requestHold(id: string, hold: HoldIntent): Promise<void> {
    await this.redis.hset(this.k.intents(id), 'hold', JSON.stringify(hold));
  }

  async clearHold(id: string): Promise<boolean> {
    return (await this.redis.hdel(this.k.intents(id), 'hold')) === 1;
  }

  /**
   * Keeps the commit list read after the announcement beside the intents, while the record
   * exists (not after a discard), with the record's own expiry once it has one. False when the
   * record is gone.
   */
  async recordChanges(id: string, changes: ChangeList): Promise<boolean> {
    const kept = await this.redis.eval(
      RECORD_CHANGES,
      2,
      this.k.deployment(id),
      this.k.intents(id),
      JSON.stringify(changes),
    );
    return kept === 1;
  }

  async intents(id: string): Promise<Intents> {
    const raw = await this.redis.hgetall(this.k.intents(id));
    return Object.fromEntries(Object.entries(raw).map(([field, json]) => [field, JSON.parse(json)])) as Intents;
  }

  /** The Slack ts of a thread message already posted for `key`, so retries do not post it twice. */
  async postedTs(id: string, key: string): Promise<string | undefined> {
    return (await this.redis.hget(this.k.posted(id), key)) ?? undefined;
  }

  /** Records a message's ts, and with it the event that says so (the announcement's), in one step. */
  async markPosted(id: string, key: string, ts: string, event?: DeploymentEvent): Promise<void> {
    // A message that goes out after the deployment ended keeps to the record's retention.
    await this.redis.eval(
      MARK_POSTED,
      3,
      this.k.posted(id),
      this.k.events(id),
      this.k.deployment(id),
      key,
      ts,
      event ? JSON.stringify(event) : '',
    );
  }

  /** Slack's permalink to the announcement, once the outbox has it. */
  async announcementLink(id: string): Promise<string | undefined> {
    return (await this.redis.hget(this.k.posted(id), ANNOUNCEMENT_LINK)) ?? undefined;
  }

  /** Keeps Slack's permalink to a posted announcement, for the thread links in replies and reports. */
  async markAnnouncementLink(id: string, link: string): Promise<void> {
    await this.redis.eval(
      MARK_POSTED,
      3,
      this.k.posted(id),
      this.k.events(id),
      this.k.deployment(id),
      ANNOUNCEMENT_LINK,
      link,
      '',
    );
  }

  /** Freezes `scope` (a service or `all`) in `environment`, or in every environment when none is given. */
  async freeze(scope: string, freeze: Freeze, environment?: string): Promise<void> {
    await this.redis.hset(this.k.freezes(), freezeField(scope, environment), JSON.stringify(freeze));
  }

  /** Lifts the freeze of `scope` in `environment` (none: the one on every environment); false when there was none. */
  async unfreeze(scope: string, environment?: string): Promise<boolean> {
    return (await this.redis.hdel(this.k.freezes(), freezeField(scope, environment))) === 1;
  }

  /**
   * The freeze that stops `service` in `environment` (default production): its own there, its
   * own everywhere, one on all services there, or one on all services everywhere.
   */
  async freezeOf(service: string, environment: string = DEFAULT_ENVIRONMENT): Promise<FreezeInForce | undefined> {
    const candidates = [
      { scope: service, environment },
      { scope: service, environment: undefined },
      { scope: 'all', environment },
      { scope: 'all', environment: undefined },
    ];
    const raws = await this.redis.hmget(
      this.k.freezes(),
      ...candidates.map((c) => freezeField(c.scope, c.environment)),
    );
    const at = raws.findIndex((raw) => raw !== null);
    const found = candidates[at];
    return found ? { ...(JSON.parse(raws[at] as string) as Freeze), ...found } : undefined;
  }

  async blockVersion(service: string, version: string, blocked: BlockedVersion, environment?: string): Promise<void> {
    await this.redis.hset(this.k.blocked(service, environment), version, JSON.stringify(blocked));
  }

  async blockedVersion(service: string, version: string, environment?: string): Promise<BlockedVersion | undefined> {
    const raw = await this.redis.hget(this.k.blocked(service, environment), version);
    return raw ? (JSON.parse(raw) as BlockedVersion) : undefined;
  }

  async clearBlockedVersion(service: string, version: string, environment?: string): Promise<boolean> {
    return (await this.redis.hdel(this.k.blocked(service, environment), version)) === 1;
  }
}
