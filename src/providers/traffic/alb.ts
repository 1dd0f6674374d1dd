import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  ElasticLoadBalancingV2Client,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action,
  type ElasticLoadBalancingV2ClientConfig,
  type TargetGroupTuple,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { sameWeights, type Weights } from '../../domain/color.js';
import { ProviderFailed } from '../../errors.js';
import { backoffMs, sleep } from '../backoff.js';
import type { TrafficProvider, TrafficTarget } from './traffic.js';

/** Error names the SDK gives AWS's throttling answers; another try later will likely pass. */
const THROTTLING = new Set([
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'PriorRequestNotComplete',
  'PriorRequestNotCompleteException',
]);
/** Node and SDK errors for a request that never got an HTTP answer. */
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'TimeoutError',
]);

/** `blue 90 / green 10`, as the load balancer's weights read. */
const split = (weights: Weights): string => `blue ${weights.blue} / green ${weights.green}`;

const where = (target: TrafficTarget): string =>
  target.ruleArn ? `rule ${target.ruleArn} (listener ${target.listenerArn})` : `listener ${target.listenerArn}`;

interface SdkError {
  name?: string;
  code?: string;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

const isRetriable = (error: unknown): boolean => {
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkError;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined)
    return status >= 500 || status === 429 || THROTTLING.has(e.name ?? '') || e.$retryable !== undefined;
  return NETWORK.has(e.code ?? '') || NETWORK.has(e.name ?? '');
};

const failed = (doing: string, error: unknown, timeoutMs: number): ProviderFailed => {
  // Our own deadline: AWS may still apply a Modify it got, so the caller reads before it writes again.
  if (error instanceof Error && error.name === 'AbortError') {
    return new ProviderFailed(`ALB: ${doing} failed: no answer within ${timeoutMs} ms`, {
      cause: error,
      retriable: true,
    });
  }
  const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return new ProviderFailed(`ALB: ${doing} failed: ${detail}`, { cause: error, retriable: isRetriable(error) });
};

/** A configuration Switchyard cannot fix by trying again. */
const misconfigured = (message: string): ProviderFailed => new ProviderFailed(`ALB: ${message}`, { retriable: false });

/** AWS treats a target group without a weight like weight 1 (the single-target `TargetGroupArn` shape). */
const weightOf = (tuple: TargetGroupTuple): number => tuple.Weight ?? 1;

const tuplesOf = (forward: Action): TargetGroupTuple[] => {
  const tuples = forward.ForwardConfig?.TargetGroups ?? [];
  return tuples.length > 0 ? tuples : [{ TargetGroupArn: forward.TargetGroupArn, Weight: 1 }];
};

const weightsIn = (forward: Action, target: TrafficTarget): Weights => {
  const { blue, green } = target.targetGroups;
  const tuples = tuplesOf(forward);
  if (!tuples.some((t) => t.TargetGroupArn === blue || t.TargetGroupArn === green))
    throw misconfigured(
      `${where(target)} forwards to neither the blue target group ${blue} nor the green one ${green}`,
    );
  const foreign = tuples.filter((t) => t.TargetGroupArn !== blue && t.TargetGroupArn !== green && weightOf(t) > 0);
  // Reporting blue/green percentages while a third group takes traffic would mislead every gate.
  if (foreign.length > 0)
    throw misconfigured(
      `${where(target)} also sends traffic to ${foreign.map((t) => t.TargetGroupArn).join(', ')}, which is neither colour`,
    );
  const sum = (arn: string): number =>
    tuples.filter((t) => t.TargetGroupArn === arn).reduce((total, t) => total + weightOf(t), 0);
  const blueWeight = sum(blue);
  const total = blueWeight + sum(green);
  if (total === 0) throw misconfigured(`${where(target)} gives both colours weight 0`);
  const bluePercent = Math.round((blueWeight / total) * 100);
  return { blue: bluePercent, green: 100 - bluePercent };
};

const forwardWith = (forward: Action, target: TrafficTarget, weights: Weights): Action => {
  const { blue, green } = target.targetGroups;
  // Groups other than the two colours hold weight 0 here (weightsIn refused anything else); keep them as they were.
  const others = (forward.ForwardConfig?.TargetGroups ?? []).filter(
    (t) => t.TargetGroupArn !== blue && t.TargetGroupArn !== green,
  );
  return {
    Type: 'forward',
    Order: forward.Order,
    ForwardConfig: {
      TargetGroups: [
        { TargetGroupArn: blue, Weight: weights.blue },
        { TargetGroupArn: green, Weight: weights.green },
        ...others,
      ],
      TargetGroupStickinessConfig: forward.ForwardConfig?.TargetGroupStickinessConfig,
    },
  };
};

/** Describe never returns an OIDC client secret; without this flag, Modify would demand it again. */
const unchanged = (action: Action): Action =>
  action.AuthenticateOidcConfig && action.AuthenticateOidcConfig.ClientSecret === undefined
    ? { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } }
    : action;

const checkWeights = (weights: Weights): void => {
  const valid =
    [weights.blue, weights.green].every((w) => Number.isInteger(w) && w >= 0 && w <= 100) &&
    weights.blue + weights.green === 100;
  if (!valid) throw misconfigured(`weights must be whole percentages adding up to 100, got ${split(weights)}`);
};

export interface AlbTrafficOptions {
  /**
   * Per call, the SDK's own retries included. The SDK sets no deadline of its own, so without
   * one a load balancer endpoint that stops answering would hold a deployment forever. Default 15 s.
   */
  timeoutMs?: number;
  /** Tries of one weight change (see setWeights). Default 3, like the SDK's. */
  modifyAttempts?: number;
  /** First backoff between them; it doubles, with jitter. Default 200 ms. */
  retryBaseMs?: number;
  random?: () => number;
}

/**
 * Replaces the client's retry middleware for one command with nothing: a Modify is tried once
 * per call, because setWeights looks at the load balancer before trying again.
 */
const withoutSdkRetries = <C extends ModifyListenerCommand | ModifyRuleCommand>(command: C): C => {
  (command as ModifyListenerCommand).middlewareStack.add((next) => (args) => next(args), {
    name: 'retryMiddleware',
    step: 'finalizeRequest',
    priority: 'high',
    tags: ['RETRY'],
    override: true,
  });
  return command;
};

/**
 * Blue/green weights on an Application Load Balancer: the forward action of a listener's
 * default actions, or of one listener rule. Reads go through the SDK's own retries (throttling,
 * 5xx and network errors, `maxAttempts` default 3, with backoff and jitter); weight changes
 * retry here, after reading the weights again (see setWeights).
 */
export class AlbTraffic implements TrafficProvider {
  private readonly client: ElasticLoadBalancingV2Client;
  private readonly timeoutMs: number;
  private readonly modifyAttempts: number;
  private readonly retryBaseMs: number;
  private readonly random: () => number;

  /** A client, or the config for one; by default region, credentials and endpoint come from the SDK's own chain. */
  constructor(
    client: ElasticLoadBalancingV2Client | ElasticLoadBalancingV2ClientConfig = {},
    options: AlbTrafficOptions = {},
  ) {
    this.client = client instanceof ElasticLoadBalancingV2Client ? client : new ElasticLoadBalancingV2Client(client);
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.modifyAttempts = options.modifyAttempts ?? 3;
    this.retryBaseMs = options.retryBaseMs ?? 200;
    this.random = options.random ?? Math.random;
  }

  async readWeights(target: TrafficTarget): Promise<Weights> {
    const { forward } = await this.load(target);
    return weightsIn(forward, target);
  }

  /**
   * A Modify whose answer is lost (a timeout, a dropped connection) may have been applied all
   * the same; sent again blindly, it would apply the stage twice. So each try starts by reading
   * the weights, and one already in place ends the call.
   */
  async setWeights(target: TrafficTarget, weights: Weights): Promise<{ changed: boolean }> {
    checkWeights(weights);
    const doing = `setting weights ${split(weights)} on ${where(target)}`;
    for (let attempt = 1; ; attempt += 1) {
      const { actions, forward } = await this.load(target);
      // After a failed try, weights in place mean that try went through.
      if (sameWeights(weightsIn(forward, target), weights)) return { changed: attempt > 1 };
      const next = actions.map((action) =>
        action === forward ? forwardWith(forward, target, weights) : unchanged(action),
      );
      try {
        if (target.ruleArn)
          await this.client.send(
            withoutSdkRetries(new ModifyRuleCommand({ RuleArn: target.ruleArn, Actions: next })),
            this.deadline(),
          );
        else
          await this.client.send(
            withoutSdkRetries(new ModifyListenerCommand({ ListenerArn: target.listenerArn, DefaultActions: next })),
            this.deadline(),
          );
        return { changed: true };
      } catch (error) {
        const failure = failed(doing, error, this.timeoutMs);
        if (!failure.retriable || attempt >= this.modifyAttempts) throw failure;
        await sleep(backoffMs(attempt - 1, this.retryBaseMs, this.random));
      }
    }
  }

  private deadline(): { abortSignal: AbortSignal } {
    return { abortSignal: AbortSignal.timeout(this.timeoutMs) };
  }

  /** The actions that hold the weights, and the forward action among them. */
  private async load(target: TrafficTarget): Promise<{ actions: Action[]; forward: Action }> {
    let actions: Action[] | undefined;
    try {
      if (target.ruleArn) {
        const out = await this.client.send(new DescribeRulesCommand({ RuleArns: [target.ruleArn] }), this.deadline());
        actions = out.Rules?.find((rule) => rule.RuleArn === target.ruleArn)?.Actions;
      } else {
        const out = await this.client.send(
          new DescribeListenersCommand({ ListenerArns: [target.listenerArn] }),
          this.deadline(),
        );
        actions = out.Listeners?.find((listener) => listener.ListenerArn === target.listenerArn)?.DefaultActions;
      }
    } catch (error) {
      throw failed(`reading weights of ${where(target)}`, error, this.timeoutMs);
    }
    if (!actions) throw misconfigured(`AWS did not return ${where(target)} when asked for it`);
    const forward = actions.find((action) => action.Type === 'forward');
    if (!forward) throw misconfigured(`${where(target)} has no forward action to hold the weights`);
    return { actions, forward };
  }
}
