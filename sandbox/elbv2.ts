import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { signedBy, type SignedBy } from './aws-signature.js';
import { FaultControls, startHttpStandIn, type RecordedRequest } from './http-server.js';

const NAMESPACE = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/';
/** AWS limits for a forward action. */
const MAX_WEIGHT = 999;
const MAX_TARGET_GROUPS = 5;

export interface TargetGroupWeight {
  arn: string;
  weight: number;
}

interface Stickiness {
  enabled: boolean;
  durationSeconds?: number;
}

interface ForwardAction {
  order?: number;
  targetGroups: TargetGroupWeight[];
  /** False for the old single-target shape (`TargetGroupArn` only, no `ForwardConfig`). */
  forwardConfig: boolean;
  stickiness?: Stickiness;
}

export interface ActionOptions {
  /** Store a single target group the old way, as `TargetGroupArn` without `ForwardConfig`. */
  forwardConfig?: boolean;
  stickiness?: Stickiness;
}

export interface WeightChange {
  at: number;
  arn: string;
  weights: Record<string, number>;
}

/** One request that reached the stand-in, with who signed it. */
export interface Elbv2Call {
  at: number;
  action: string;
  /** From the SigV4 `Authorization` header; undefined for an unsigned request. */
  signedBy?: SignedBy;
  /** The listener or rule the call names (`ListenerArn`, `ListenerArns.member.1`, `RuleArn`, `RuleArns.member.1`). */
  resource?: string;
}

export interface Elbv2StandIn {
  url: string;
  port: number;
  close(): Promise<void>;
  faults: FaultControls;
  requests: RecordedRequest[];
  /** Every request, in order, with the access key id (and region, session token) it was signed with. */
  calls: Elbv2Call[];
  /** Adds a listener whose default action forwards to these groups, or replaces its action. */
  addListener(arn: string, targetGroups: TargetGroupWeight[], options?: ActionOptions): void;
  addRule(listenerArn: string, ruleArn: string, targetGroups: TargetGroupWeight[], options?: ActionOptions): void;
  /** Target group ARN → weight of the forward action of a listener (default action) or rule. */
  weightsOf(listenerOrRuleArn: string): Record<string, number>;
  /** Every Modify call that was applied, in order, with the weights it left behind. */
  changes: WeightChange[];
  /** The next `times` calls (of `action`, if given) get AWS's `Throttling` error. */
  throttle(times?: number, action?: string): void;
  /** The next `times` calls (of `action`, if given) get an HTTP 500. */
  serverError(times?: number, action?: string): void;
}

/** An AWS error document, for tests that inject their own faults. */
export const elbv2ErrorXml = (code: string, message: string, requestId: string = randomUUID()): string =>
  `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>${code === 'InternalFailure' ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code>` +
  `<Message>${escapeXml(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;

class AwsError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** Query-protocol parameters as a tree; `member.N` segments become keys `N`. */
type Node = string | { [key: string]: Node };

const parseForm = (body: string): Node => {
  const root: Record<string, Node> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const path = key.split('.').filter((segment) => segment !== 'member');
    let node = root;
    path.forEach((segment, i) => {
      if (i === path.length - 1) node[segment] = value;
      else {
        const next = node[segment];
        node = typeof next === 'object' ? next : (node[segment] = {});
      }
    });
  }
  return root;
};

const child = (node: Node | undefined, key: string): Node | undefined =>
  typeof node === 'object' ? node[key] : undefined;
const text = (node: Node | undefined, key: string): string | undefined => {
  const value = child(node, key);
  return typeof value === 'string' ? value : undefined;
};
const list = (node: Node | undefined, key: string): Node[] => {
  const value = child(node, key);
  if (typeof value !== 'object') return [];
  return Object.keys(value)
    .sort((a, b) => Number(a) - Number(b))
    .map((k) => value[k] as Node);
};

function escapeXml(value: string): string {
  return value.replace(/[<>&'"]/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', "'": 'apos', '"': 'quot' }[c]};`);
}
const el = (name: string, content: string | number | boolean | undefined): string =>
  content === undefined ? '' : `<${name}>${typeof content === 'string' ? content : String(content)}</${name}>`;
const val = (name: string, value: string | undefined): string =>
  value === undefined ? '' : el(name, escapeXml(value));
const members = (items: string[]): string => items.map((item) => el('member', item)).join('');

const actionXml = (action: ForwardAction): string => {
  const single = action.targetGroups.length === 1 ? action.targetGroups[0]?.arn : undefined;
  const forwardConfig = action.forwardConfig
    ? el(
        'ForwardConfig',
        el(
          'TargetGroups',
          members(action.targetGroups.map((tg) => val('TargetGroupArn', tg.arn) + el('Weight', tg.weight))),
        ) +
          el(
            'TargetGroupStickinessConfig',
            el('Enabled', action.stickiness?.enabled ?? false) +
              el('DurationSeconds', action.stickiness?.durationSeconds),
          ),
      )
    : '';
  return el('Type', 'forward') + el('Order', action.order) + val('TargetGroupArn', single) + forwardConfig;
};

export async function startElbv2StandIn(options: { port?: number } = {}): Promise<Elbv2StandIn> {
  const listeners = new Map<string, ForwardAction>();
  const rules = new Map<string, { listenerArn: string; priority: number; action: ForwardAction }>();
  const knownTargetGroups = new Set<string>();
  const faults = new FaultControls();
  const requests: RecordedRequest[] = [];
  const changes: WeightChange[] = [];
  const calls: Elbv2Call[] = [];

  const store = (targetGroups: TargetGroupWeight[], opts: ActionOptions = {}): ForwardAction => {
    for (const tg of targetGroups) knownTargetGroups.add(tg.arn);
    return {
      order: 1,
      targetGroups: [...targetGroups],
      forwardConfig: opts.forwardConfig ?? true,
      stickiness: opts.stickiness,
    };
  };

  const actionOf = (arn: string): ForwardAction | undefined => listeners.get(arn) ?? rules.get(arn)?.action;

  const weightsOf = (arn: string): Record<string, number> => {
    const action = actionOf(arn);
    if (!action) throw new Error(`stand-in has no listener or rule ${arn}`);
    // The old single-target shape forwards everything to that group, as if weighted 1.
    return Object.fromEntries(action.targetGroups.map((tg) => [tg.arn, action.forwardConfig ? tg.weight : 1]));
  };

  const parseForward = (actions: Node[], field: string): ForwardAction => {
    if (actions.length !== 1)
      throw new AwsError('ValidationError', `The stand-in supports exactly one action in ${field}`);
    const action = actions[0];
    if (text(action, 'Type') !== 'forward')
      throw new AwsError('ValidationError', 'The stand-in supports forward actions only');
    const forwardConfig = child(action, 'ForwardConfig');
    const targetGroupArn = text(action, 'TargetGroupArn');
    const targetGroups = list(forwardConfig, 'TargetGroups').map((tg, i) => {
      const raw = text(tg, 'Weight');
      const weight = raw === undefined ? 1 : Number(raw);
      if (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT)
        throw new AwsError(
          'ValidationError',
          `1 validation error detected: Value '${raw}' at '${field}.1.member.forwardConfig.targetGroups.${i + 1}.member.weight' ` +
            `failed to satisfy constraint: Member must have value between 0 and ${MAX_WEIGHT}`,
        );
      return { arn: text(tg, 'TargetGroupArn') ?? '', weight };
    });
    if (targetGroups.length > MAX_TARGET_GROUPS)
      throw new AwsError('ValidationError', `A forward action can have at most ${MAX_TARGET_GROUPS} target groups`);
    if (targetGroups.length === 0 && targetGroupArn === undefined)
      throw new AwsError('ValidationError', 'A forward action needs a target group ARN or a forward config');
    if (
      targetGroupArn !== undefined &&
      targetGroups.length > 0 &&
      (targetGroups.length > 1 || targetGroups[0]?.arn !== targetGroupArn)
    )
      throw new AwsError('ValidationError', 'TargetGroupArn and ForwardConfig must name the same single target group');
    if (new Set(targetGroups.map((tg) => tg.arn)).size !== targetGroups.length)
      throw new AwsError('ValidationError', 'A target group can be specified only once in a forward action');
    const all = targetGroups.length > 0 ? targetGroups : [{ arn: targetGroupArn ?? '', weight: 1 }];
    if (all.some((tg) => !knownTargetGroups.has(tg.arn)))
      throw new AwsError('TargetGroupNotFound', 'One or more target groups not found');
    const stickiness = child(forwardConfig, 'TargetGroupStickinessConfig');
    const duration = text(stickiness, 'DurationSeconds');
    const order = text(action, 'Order');
    return {
      order: order === undefined ? undefined : Number(order),
      targetGroups: all,
      forwardConfig: forwardConfig !== undefined,
      stickiness: stickiness
        ? {
            enabled: text(stickiness, 'Enabled') === 'true',
            durationSeconds: duration === undefined ? undefined : Number(duration),
          }
        : undefined,
    };
  };

  const listenerXml = (arn: string, action: ForwardAction): string =>
    val('ListenerArn', arn) +
    // listener/app/name/lb-id/listener-id → loadbalancer/app/name/lb-id
    val('LoadBalancerArn', arn.replace(':listener/', ':loadbalancer/').replace(/\/[^/]+$/, '')) +
    el('Protocol', 'HTTP') +
    el('Port', 80) +
    el('DefaultActions', el('member', actionXml(action)));

  const ruleXml = (arn: string): string => {
    const rule = rules.get(arn);
    if (!rule) return '';
    return (
      val('RuleArn', arn) +
      el('Priority', rule.priority) +
      el('Conditions', '') +
      el('Actions', el('member', actionXml(rule.action))) +
      el('IsDefault', false)
    );
  };

  const listenerOrFail = (arn: string | undefined): ForwardAction => {
    const action = arn === undefined ? undefined : listeners.get(arn);
    if (!action) throw new AwsError('ListenerNotFound', `One or more listeners not found: '${arn ?? ''}'`);
    return action;
  };
  const ruleArnsOrFail = (arns: string[]): string[] => {
    const missing = arns.find((arn) => !rules.has(arn));
    if (missing !== undefined) throw new AwsError('RuleNotFound', `One or more rules not found: '${missing}'`);
    return arns;
  };

  const actions: Record<string, (params: Node) => string> = {
    DescribeListeners: (params) => {
      const arns = list(params, 'ListenerArns').map(String);
      if (arns.length === 0) throw new AwsError('ValidationError', 'The stand-in needs ListenerArns');
      return el('Listeners', members(arns.map((arn) => listenerXml(arn, listenerOrFail(arn)))));
    },
    DescribeRules: (params) => {
      const listenerArn = text(params, 'ListenerArn');
      if (listenerArn !== undefined) listenerOrFail(listenerArn);
      const arns =
        listenerArn !== undefined
          ? [...rules].filter(([, rule]) => rule.listenerArn === listenerArn).map(([arn]) => arn)
          : ruleArnsOrFail(list(params, 'RuleArns').map(String));
      return el('Rules', members(arns.map(ruleXml)));
    },
    ModifyListener: (params) => {
      const arn = text(params, 'ListenerArn') ?? '';
      listenerOrFail(arn);
      const action = parseForward(list(params, 'DefaultActions'), 'defaultActions');
      listeners.set(arn, action);
      changes.push({ at: Date.now(), arn, weights: weightsOf(arn) });
      return el('Listeners', el('member', listenerXml(arn, action)));
    },
    ModifyRule: (params) => {
      const arn = text(params, 'RuleArn') ?? '';
      const rule = rules.get(arn);
      if (!rule) throw new AwsError('RuleNotFound', `One or more rules not found: '${arn}'`);
      rule.action = parseForward(list(params, 'Actions'), 'actions');
      changes.push({ at: Date.now(), arn, weights: weightsOf(arn) });
      return el('Rules', el('member', ruleXml(arn)));
    },
  };

  const actionName = (req: RecordedRequest): string =>
    new URLSearchParams(req.body).get('Action') ?? req.query.get('Action') ?? '';
  const resourceOf = (req: RecordedRequest): string | undefined => {
    const form = new URLSearchParams(req.body);
    const named = ['ListenerArn', 'ListenerArns.member.1', 'RuleArn', 'RuleArns.member.1'].map((key) => form.get(key));
    return named.find((value) => value !== null) ?? undefined;
  };

  // The SDK takes $metadata.requestId from this header, as real AWS sends it.
  const reply = (res: ServerResponse, status: number, requestId: string, xml: string): void => {
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`);
  };

  const server = await startHttpStandIn(
    (req, res) => {
      const name = actionName(req);
      calls.push({ at: req.at, action: name, signedBy: signedBy(req.headers), resource: resourceOf(req) });
      const run = actions[name];
      const requestId = randomUUID();
      try {
        if (req.method !== 'POST' || !run)
          throw new AwsError('InvalidAction', `The action ${name || '(none)'} is not valid for this web service.`);
        const result = run(parseForm(req.body));
        reply(
          res,
          200,
          requestId,
          `<${name}Response xmlns="${NAMESPACE}">${el(`${name}Result`, result)}` +
            `${el('ResponseMetadata', el('RequestId', requestId))}</${name}Response>`,
        );
      } catch (error) {
        if (!(error instanceof AwsError)) throw error;
        reply(res, error.status, requestId, elbv2ErrorXml(error.code, error.message, requestId));
      }
    },
    { port: options.port, faults, faultKey: actionName, log: requests },
  );

  const xmlHeaders = { 'content-type': 'text/xml' };
  return {
    ...server,
    faults,
    requests,
    calls,
    changes,
    weightsOf,
    addListener: (arn, targetGroups, opts) => void listeners.set(arn, store(targetGroups, opts)),
    addRule: (listenerArn, ruleArn, targetGroups, opts) => {
      listenerOrFail(listenerArn);
      rules.set(ruleArn, { listenerArn, priority: rules.size + 1, action: store(targetGroups, opts) });
    },
    throttle: (times = 1, action) =>
      faults.inject({
        status: 400,
        times,
        match: action,
        headers: xmlHeaders,
        body: elbv2ErrorXml('Throttling', 'Rate exceeded'),
      }),
    serverError: (times = 1, action) =>
      faults.inject({
        status: 500,
        times,
        match: action,
        headers: xmlHeaders,
        body: elbv2ErrorXml('InternalFailure', 'An internal error has occurred'),
      }),
  };
}
