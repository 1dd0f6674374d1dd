import { readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AlbClients } from '../../../src/providers/traffic/alb-clients.js';
import { startElbv2StandIn, type Elbv2StandIn } from '../../../sandbox/elbv2.js';
import { startStsStandIn, type StsStandIn } from '../../../sandbox/sts.js';

const root = new URL('../../../', import.meta.url);
const WORKER_ROLE = 'arn:aws:iam::123456789012:role/switchyard-worker';
const STAGING_ROLE = 'arn:aws:iam::111111111111:role/switchyard-deployer';

interface Statement {
  Effect: string;
  Principal?: { AWS: string };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string>>;
}
const policy = async (file: string): Promise<Statement[]> =>
  (JSON.parse(await readFile(new URL(`deploy/aws/${file}`, root), 'utf8')) as { Statement: Statement[] }).Statement;
/** IAM's `*` wildcard as a regular expression. */
const wildcard = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
const list = (value: string | string[] | undefined): string[] => [value ?? []].flat();

/** deploy/aws/trust-policy.json and assume-role-policy.json against the AssumeRole the worker sends. */
describe('the role an environment’s ELBv2 calls assume', () => {
  let sts: StsStandIn;
  let elb: Elbv2StandIn;
  beforeAll(async () => {
    [sts, elb] = await Promise.all([startStsStandIn(), startElbv2StandIn()]);
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await Promise.all([sts.close(), elb.close()]);
  });

  it('the worker’s policy allows the AssumeRole it makes, and the role’s trust policy admits it and its session name', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_STS', sts.url);
    vi.stubEnv('AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2', elb.url);
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIAWORKER');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    const listenerArn = 'arn:aws:elasticloadbalancing:us-west-2:111111111111:listener/app/acme-staging/1/2';
    const targetGroups = {
      blue: 'arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/blue/1',
      green: 'arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/green/2',
    };
    elb.addListener(listenerArn, [
      { arn: targetGroups.blue, weight: 100 },
      { arn: targetGroups.green, weight: 0 },
    ]);
    const clients = new AlbClients([{ name: 'staging', aws: { region: 'us-west-2', roleArn: STAGING_ROLE } }]);
    try {
      expect(await clients.trafficFor('staging').readWeights({ listenerArn, targetGroups })).toEqual({
        blue: 100,
        green: 0,
      });
    } finally {
      clients.destroy();
    }
    const [request] = sts.requests;
    const sent = new URLSearchParams(request?.body);
    expect(sent.get('Action')).toBe('AssumeRole');

    // The worker's own role may assume the environment's role…
    const caller = (await policy('assume-role-policy.json')).filter((s) => s.Effect === 'Allow');
    expect(caller.flatMap((s) => list(s.Action))).toEqual([`sts:${sent.get('Action')}`]);
    expect(caller.some((s) => list(s.Resource).some((r) => wildcard(r).test(sent.get('RoleArn') ?? '')))).toBe(true);

    // …and that role trusts the worker's role, for Switchyard's session names only.
    const [trust] = (await policy('trust-policy.json')).filter((s) => s.Effect === 'Allow');
    expect(trust?.Principal?.AWS).toBe(WORKER_ROLE);
    expect(list(trust?.Action)).toEqual(['sts:AssumeRole']);
    const sessionPattern = trust?.Condition?.StringLike?.['sts:RoleSessionName'] ?? '';
    expect(sent.get('RoleSessionName')).toBe('switchyard-staging');
    expect(wildcard(sessionPattern).test(sent.get('RoleSessionName') ?? '')).toBe(true);
    expect(wildcard(sessionPattern).test('someone-else')).toBe(false);
  });
});
