import { ElasticLoadBalancingV2Client, ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AlbTraffic } from '../../../src/providers/traffic/alb.js';
import type { TrafficTarget } from '../../../src/providers/traffic/traffic.js';
import { startElbv2StandIn, type Elbv2StandIn } from '../../../sandbox/elbv2.js';
import { rejection } from '../../support/rejection.js';

const prefix = 'arn:aws:elasticloadbalancing:us-east-1:123456789012';
const LISTENER = `${prefix}:listener/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2`;
const RULE = `${prefix}:listener-rule/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`;
const BLUE = `${prefix}:targetgroup/acme-blue/73e2d6bc24d8a067`;
const GREEN = `${prefix}:targetgroup/acme-green/2453ed029918f21f`;

const onListener: TrafficTarget = { listenerArn: LISTENER, targetGroups: { blue: BLUE, green: GREEN } };
const onRule: TrafficTarget = { ...onListener, ruleArn: RULE };

let elb: Elbv2StandIn;
let sdk: ElasticLoadBalancingV2Client;
let alb: AlbTraffic;

const clientFor = (maxAttempts?: number): ElasticLoadBalancingV2Client =>
  new ElasticLoadBalancingV2Client({
    endpoint: elb.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'fake-secret' },
    maxAttempts,
  });

const sent = (action: string) => elb.requests.filter((r) => new URLSearchParams(r.body).get('Action') === action);

beforeEach(async () => {
  elb = await startElbv2StandIn();
  elb.addListener(
    LISTENER,
    [
      { arn: BLUE, weight: 1 },
      { arn: GREEN, weight: 3 },
    ],
    { stickiness: { enabled: true, durationSeconds: 300 } },
  );
  elb.addRule(LISTENER, RULE, [
    { arn: BLUE, weight: 100 },
    { arn: GREEN, weight: 0 },
  ]);
  sdk = clientFor();
  alb = new AlbTraffic(sdk);
});

afterEach(async () => {
  sdk.destroy();
  await elb.close();
});

describe('AlbTraffic against the ELBv2 stand-in', () => {
  it('reads the weights of the listener default action as percentages', async () => {
    expect(await alb.readWeights(onListener)).toEqual({ blue: 25, green: 75 });
  });

  it('reads the weights of a listener rule', async () => {
    expect(await alb.readWeights(onRule)).toEqual({ blue: 100, green: 0 });
    expect(sent('DescribeRules')).toHaveLength(1);
  });

  it('reads a forward to one target group without ForwardConfig as 100 for it', async () => {
    elb.addListener(LISTENER, [{ arn: GREEN, weight: 1 }], { forwardConfig: false });
    expect(await alb.readWeights(onListener)).toEqual({ blue: 0, green: 100 });
  });

  it('sets 10/90 on the listener in one form-encoded ModifyListener, keeping stickiness', async () => {
    expect(await alb.setWeights(onListener, { blue: 10, green: 90 })).toEqual({ changed: true });

    expect(elb.weightsOf(LISTENER)).toEqual({ [BLUE]: 10, [GREEN]: 90 });
    expect(await alb.readWeights(onListener)).toEqual({ blue: 10, green: 90 });
    expect(elb.changes.map((c) => c.arn)).toEqual([LISTENER]);

    const [modify] = sent('ModifyListener');
    expect(modify?.method).toBe('POST');
    expect(modify?.headers['content-type']).toContain('application/x-www-form-urlencoded');
    const form = new URLSearchParams(modify?.body);
    expect(form.get('Version')).toBe('2015-12-01');
    expect(form.get('ListenerArn')).toBe(LISTENER);
    const forward = 'DefaultActions.member.1.ForwardConfig';
    expect(form.get('DefaultActions.member.1.Type')).toBe('forward');
    expect(form.get(`${forward}.TargetGroups.member.1.TargetGroupArn`)).toBe(BLUE);
    expect(form.get(`${forward}.TargetGroups.member.1.Weight`)).toBe('10');
    expect(form.get(`${forward}.TargetGroups.member.2.TargetGroupArn`)).toBe(GREEN);
    expect(form.get(`${forward}.TargetGroups.member.2.Weight`)).toBe('90');
    expect(form.get(`${forward}.TargetGroupStickinessConfig.Enabled`)).toBe('true');
    expect(form.get(`${forward}.TargetGroupStickinessConfig.DurationSeconds`)).toBe('300');
  });

  it('sets weights on a rule with ModifyRule and leaves the listener alone', async () => {
    expect(await alb.setWeights(onRule, { blue: 10, green: 90 })).toEqual({ changed: true });
    expect(elb.weightsOf(RULE)).toEqual({ [BLUE]: 10, [GREEN]: 90 });
    expect(elb.weightsOf(LISTENER)).toEqual({ [BLUE]: 1, [GREEN]: 3 });
    expect(
      new URLSearchParams(sent('ModifyRule')[0]?.body).get(
        'Actions.member.1.ForwardConfig.TargetGroups.member.2.Weight',
      ),
    ).toBe('90');
  });

  it('sends one Modify when the same weights are set twice', async () => {
    expect(await alb.setWeights(onListener, { blue: 50, green: 50 })).toEqual({ changed: true });
    expect(await alb.setWeights(onListener, { blue: 50, green: 50 })).toEqual({ changed: false });
    expect(elb.changes).toHaveLength(1);
    expect(sent('ModifyListener')).toHaveLength(1);
  });

  it('treats weights the load balancer already holds in other units as equal', async () => {
    expect(await alb.setWeights(onListener, { blue: 25, green: 75 })).toEqual({ changed: false });
    expect(elb.changes).toHaveLength(0);
  });

  it('gets through one Throttling answer by reading the weights and trying again', async () => {
    elb.throttle(1, 'ModifyListener');
    expect(await alb.setWeights(onListener, { blue: 10, green: 90 })).toEqual({ changed: true });
    expect(sent('ModifyListener')).toHaveLength(2);
    expect(sent('DescribeListeners')).toHaveLength(2);
    expect(elb.changes).toHaveLength(1);
  });

  it('does not send a weight change again when AWS applied it but the answer was lost', async () => {
    elb.faults.inject({ dropAnswer: true, match: 'ModifyListener' });
    expect(await alb.setWeights(onListener, { blue: 10, green: 90 })).toEqual({ changed: true });
    expect(sent('ModifyListener')).toHaveLength(1);
    expect(elb.changes.map((c) => c.weights[GREEN])).toEqual([90]);
  });

  it('gets through two 500s by the SDK retrying', async () => {
    elb.serverError(2, 'DescribeListeners');
    expect(await alb.readWeights(onListener)).toEqual({ blue: 25, green: 75 });
    expect(sent('DescribeListeners')).toHaveLength(3);
  });

  it('reports 500s past maxAttempts as a retriable ProviderFailed', async () => {
    const impatient = new AlbTraffic(clientFor(2));
    elb.serverError(2, 'DescribeListeners');
    const error = await rejection(impatient.readWeights(onListener));
    expect(error.retriable).toBe(true);
    expect(error.message).toContain(LISTENER);
    expect(sent('DescribeListeners')).toHaveLength(2);
  });

  it('reads through a dropped connection by the SDK retrying', async () => {
    elb.faults.inject({ reset: true, match: 'DescribeListeners' });
    expect(await alb.readWeights(onListener)).toEqual({ blue: 25, green: 75 });
    expect(sent('DescribeListeners')).toHaveLength(2);
  });

  it('tries a weight change that got no answer within its deadline again', async () => {
    const bounded = new AlbTraffic(sdk, { timeoutMs: 300, retryBaseMs: 10 });
    elb.faults.inject({ hang: true, match: 'ModifyListener' });
    expect(await bounded.setWeights(onListener, { blue: 10, green: 90 })).toEqual({ changed: true });
    expect(sent('ModifyListener')).toHaveLength(2);
    expect(elb.changes).toHaveLength(1);
  });

  it('gives up on an endpoint that stops answering within its deadline, as a retriable failure', async () => {
    const bounded = new AlbTraffic(sdk, { timeoutMs: 300, modifyAttempts: 1 });
    elb.faults.inject({ hang: true, match: 'ModifyListener', times: Infinity });
    const error = await rejection(bounded.setWeights(onListener, { blue: 10, green: 90 }));
    expect(error.retriable).toBe(true);
    expect(error.message).toBe(
      `ALB: setting weights blue 10 / green 90 on listener ${LISTENER} failed: no answer within 300 ms`,
    );
  });

  it('reports throttling past its tries as a retriable failure that says so', async () => {
    const impatient = new AlbTraffic(sdk, { modifyAttempts: 2, retryBaseMs: 10 });
    elb.throttle(2, 'ModifyListener');
    const error = await rejection(impatient.setWeights(onListener, { blue: 10, green: 90 }));
    expect(error.retriable).toBe(true);
    expect(error.message).toContain('Throttling');
    expect(sent('ModifyListener')).toHaveLength(2);
    expect(elb.changes).toHaveLength(0);
  });

  it('reports an unknown listener as a non-retriable ProviderFailed naming it', async () => {
    const missing = `${prefix}:listener/app/acme/50dc6c495c0c9188/0000000000000000`;
    const error = await rejection(alb.setWeights({ ...onListener, listenerArn: missing }, { blue: 0, green: 100 }));
    expect(error.code).toBe('provider_failed');
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(missing);
    expect((error.cause as Error).name).toBe('ListenerNotFoundException');
    expect(sent('DescribeListeners')).toHaveLength(1);
  });

  it('reports an unknown rule as a non-retriable ProviderFailed naming it', async () => {
    const missing = `${RULE.slice(0, -4)}0000`;
    const error = await rejection(alb.readWeights({ ...onRule, ruleArn: missing }));
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(missing);
    expect((error.cause as Error).name).toBe('RuleNotFoundException');
  });

  it('reports an unknown target group from ModifyListener as not retriable', async () => {
    const stranger = `${prefix}:targetgroup/acme-other/0000000000000000`;
    elb.addListener(LISTENER, [{ arn: BLUE, weight: 1 }]);
    const error = await rejection(
      alb.setWeights({ ...onListener, targetGroups: { blue: BLUE, green: stranger } }, { blue: 50, green: 50 }),
    );
    expect(error.retriable).toBe(false);
    expect((error.cause as Error).name).toBe('TargetGroupNotFoundException');
    expect(elb.changes).toHaveLength(0);
  });

  it('refuses to report colour weights while a third target group takes traffic', async () => {
    const third = `${prefix}:targetgroup/acme-debug/1111111111111111`;
    elb.addListener(LISTENER, [
      { arn: BLUE, weight: 9 },
      { arn: GREEN, weight: 0 },
      { arn: third, weight: 1 },
    ]);
    const error = await rejection(alb.setWeights(onListener, { blue: 0, green: 100 }));
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(third);
    expect(elb.changes).toHaveLength(0);
  });

  it('refuses a listener that forwards to neither colour', async () => {
    const other = { blue: `${prefix}:targetgroup/x-blue/1`, green: `${prefix}:targetgroup/x-green/2` };
    const error = await rejection(alb.readWeights({ ...onListener, targetGroups: other }));
    expect(error.retriable).toBe(false);
    expect(error.message).toContain(LISTENER);
  });

  it('rejects weights outside 0-999 like AWS does', async () => {
    const modify = new ModifyListenerCommand({
      ListenerArn: LISTENER,
      DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: BLUE, Weight: 1000 }] } }],
    });
    await expect(sdk.send(modify)).rejects.toMatchObject({
      name: 'ValidationError',
      $metadata: { httpStatusCode: 400 },
    });
    expect(elb.changes).toHaveLength(0);
  });
});
