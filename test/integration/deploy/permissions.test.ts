import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlbTraffic } from '../../../src/providers/traffic/alb.js';
import { INITIAL_VERSION, SANDBOX_IMAGE } from '../../../sandbox/sandbox.js';
import type { RecordedRequest } from '../../../sandbox/http-server.js';
import { startElbv2StandIn, type Elbv2StandIn } from '../../../sandbox/elbv2.js';
import { startHarness, type Harness } from '../../support/harness.js';
import { finishedDeployment, requestAndDecide } from '../../support/operator.js';

const root = new URL('../../../', import.meta.url);

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** `verb group/resource`, as RBAC names a request: GET of one object is get, of a collection list. */
function rbacOf(req: Pick<RecordedRequest, 'method' | 'path'>): string {
  const m = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/namespaces\/[^/]+\/([^/]+)(?:\/([^/]+)(?:\/([^/]+))?)?$/.exec(
    req.path,
  );
  if (!m) throw new Error(`not a namespaced API path: ${req.method} ${req.path}`);
  const [, group = '', resource, name, sub] = m;
  const verbs: Record<string, string> = {
    GET: name ? 'get' : 'list',
    POST: 'create',
    PATCH: 'patch',
    PUT: 'update',
    DELETE: name ? 'delete' : 'deletecollection',
  };
  return `${verbs[req.method] ?? req.method} ${group}/${resource}${sub ? `/${sub}` : ''}`;
}

const granted = (rules: Rule[]): Set<string> =>
  new Set(
    rules.flatMap((r) =>
      r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${g}/${res}`))),
    ),
  );

const ROLLING = {
  strategy: 'rolling',
  deployers: ['U0DEV1'],
  workload: {
    provider: 'kubernetes',
    namespace: 'prod',
    deployments: { main: 'acme-worker' },
    container: 'api',
    image: SANDBOX_IMAGE,
    rolloutTimeoutSeconds: 20,
  },
  gates: { intervalSeconds: 1, failureLimit: 0, inconclusiveLimit: 3, metrics: [] },
  monitorSeconds: 0,
};

/**
 * The Role of deploy/kubernetes/rbac.yaml against the requests the worker really made: a
 * blue-green deployment with a preDeploy hook Job, and a rolling one rolled back after a crash
 * loop. Every request must be allowed, and every permission must have been needed.
 */
describe('the Kubernetes Role grants what the worker does, and no more', () => {
  let h: Harness;
  beforeAll(async () => {
    const hooks = {
      preDeploy: [{ name: 'migrate', image: `${SANDBOX_IMAGE}:{version}`, command: ['/app/migrate', 'up'] }],
    };
    h = await startHarness({ service: { hooks }, catalog: { services: { 'acme-worker': ROLLING } } });
    h.sandbox.kubernetes.addDeployment({
      namespace: 'prod',
      name: 'acme-worker',
      container: 'api',
      image: `${SANDBOX_IMAGE}:${INITIAL_VERSION}`,
      replicas: 2,
    });
    await requestAndDecide(h, 'acme-api v1.5.0');
    expect((await finishedDeployment(h, 'v1.5.0')).phase).toBe('succeeded');
    h.sandbox.kubernetes.failImage(':v1.6.0', 'CrashLoopBackOff');
    await requestAndDecide(h, 'acme-worker v1.6.0');
    expect((await finishedDeployment(h, 'v1.6.0')).phase).toBe('rolled-back');
  }, 90_000);
  afterAll(async () => h?.close());

  it('matches the requests seen by the API server', async () => {
    const docs = parseAllDocuments(await readFile(new URL('deploy/kubernetes/rbac.yaml', root), 'utf8')).map(
      (d) => d.toJS() as { kind: string; metadata: { namespace: string }; rules?: Rule[] },
    );
    const role = docs.find((d) => d.kind === 'Role');
    expect(role?.metadata.namespace).toBe('prod');
    const used = new Set(h.sandbox.kubernetes.requests.map(rbacOf));
    expect([...used].sort()).toEqual([...granted(role?.rules ?? [])].sort());
  });
});

/** deploy/aws/iam-policy.json against the actions the ALB adapter sends, for a listener and for a rule. */
describe('the IAM policy allows the ALB calls Switchyard makes, and no others', () => {
  let elbv2: Elbv2StandIn;
  beforeAll(async () => {
    elbv2 = await startElbv2StandIn();
  });
  afterAll(async () => elbv2?.close());

  it('covers reading and shifting weights on a listener and on a rule', async () => {
    const listenerArn =
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2';
    const ruleArn =
      'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/acme/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee';
    const targetGroups = {
      blue: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-api-blue/73e2d6bc24d8a067',
      green: 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/acme-api-green/2453ed029918f21f',
    };
    const start = [
      { arn: targetGroups.blue, weight: 100 },
      { arn: targetGroups.green, weight: 0 },
    ];
    elbv2.addListener(listenerArn, start);
    elbv2.addRule(listenerArn, ruleArn, start);
    const alb = new AlbTraffic(
      new ElasticLoadBalancingV2Client({
        endpoint: elbv2.url,
        region: 'us-east-1',
        credentials: { accessKeyId: 'AKIASANDBOX', secretAccessKey: 'sandbox' },
      }),
    );
    for (const target of [
      { listenerArn, targetGroups },
      { listenerArn, ruleArn, targetGroups },
    ]) {
      await alb.setWeights(target, { blue: 90, green: 10 });
      expect(await alb.readWeights(target)).toEqual({ blue: 90, green: 10 });
    }

    const used = new Set(
      elbv2.requests.map((r) => `elasticloadbalancing:${new URLSearchParams(r.body).get('Action')}`),
    );
    const policy = JSON.parse(await readFile(new URL('deploy/aws/iam-policy.json', root), 'utf8')) as {
      Statement: { Action: string[]; Resource: string | string[] }[];
    };
    const allowed = new Set(policy.Statement.flatMap((s) => s.Action));
    expect([...used].sort()).toEqual([...allowed].sort());
    // Modify calls are limited to the example's load balancer; its ARNs match the pattern.
    const modify = policy.Statement.find((s) => s.Action.includes('elasticloadbalancing:ModifyListener'));
    const patterns = [modify?.Resource ?? []]
      .flat()
      .map((p) => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`));
    expect([listenerArn, ruleArn].every((arn) => patterns.some((p) => p.test(arn)))).toBe(true);
  });
});
