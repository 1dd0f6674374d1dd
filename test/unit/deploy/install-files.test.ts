import { readFile } from 'node:fs/promises';
import { parse, parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config.js';

const root = new URL('../../../', import.meta.url);
const text = (path: string) => readFile(new URL(path, root), 'utf8');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;

const kubernetes = async (file: string): Promise<Doc[]> =>
  parseAllDocuments(await text(`deploy/kubernetes/${file}`)).map((d) => d.toJS() as Doc);

/** Compose's own interpolation of `${NAME}` / `${NAME:?message}` / `${NAME:-default}` from `env`. */
const interpolate = (text: string, env: Record<string, string>): string =>
  text.replace(/\$\{(\w+)(?::[?-][^}]*)?\}/g, (_, name: string) => env[name] ?? '');

describe('docker-compose.yml', () => {
  const REDIS_PASSWORD = 'a1b2c3d4e5f6a7b8c9d0';
  const compose = async () =>
    parse(interpolate(await text('docker-compose.yml'), { REDIS_PASSWORD }), { merge: true }) as Doc;

  it('runs Redis with its append-only file on a volume, the bot and the worker on that Redis', async () => {
    const { services, volumes } = await compose();
    const { redis, bot, worker } = services;
    expect(redis.command.join(' ')).toContain('--appendonly yes');
    expect(redis.command.join(' ')).toContain('--maxmemory-policy noeviction');
    expect(redis.volumes).toEqual(['redis-data:/data']);
    expect(Object.keys(volumes)).toEqual(['redis-data']);
    expect(bot.command).toEqual(['node', '--enable-source-maps', 'dist/main.js', 'bot']);
    expect(worker.command).toEqual(['node', '--enable-source-maps', 'dist/main.js', 'worker']);
    for (const service of [bot, worker]) {
      expect(service.build).toBe('.');
      expect(service.depends_on.redis.condition).toBe('service_healthy');
      expect(service.volumes).toContain(`./services.yaml:${service.environment.SERVICES_FILE}:ro`);
      // What the app itself accepts (a placeholder for the two required secrets).
      expect(() =>
        loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ...service.environment }),
      ).not.toThrow();
      expect(new URL(service.environment.REDIS_URL).hostname).toBe('redis');
    }
    expect(bot.ports).toEqual(['3000:3000']);
    expect(worker.volumes.some((v: string) => v.endsWith(`:${worker.environment.KUBECONFIG}:ro`))).toBe(true);
  });

  it('Redis requires the password, is published on loopback only, and the app connects with it', async () => {
    const raw = await text('docker-compose.yml');
    // Without REDIS_PASSWORD compose refuses to start (`${REDIS_PASSWORD:?…}`), never an open Redis.
    expect(raw).toMatch(/--requirepass\s*\n\s*- \$\{REDIS_PASSWORD:\?[^}]+\}/);
    const { redis, bot, worker } = (await compose()).services;
    const args: string[] = redis.command;
    expect(args[args.indexOf('--requirepass') + 1]).toBe(REDIS_PASSWORD);
    expect(redis.ports).toEqual(['127.0.0.1:6379:6379']);
    expect(redis.environment.REDISCLI_AUTH).toBe(REDIS_PASSWORD);
    for (const service of [bot, worker]) expect(new URL(service.environment.REDIS_URL).password).toBe(REDIS_PASSWORD);
  });

  it('pins image versions and gives the worker time to finish its step after SIGTERM', async () => {
    const { redis, worker } = (await compose()).services;
    expect(redis.image).toMatch(/^redis:\d+\.\d+\.\d+-alpine$/);
    const maxmemory: string = redis.command[redis.command.indexOf('--maxmemory') + 1];
    expect(maxmemory).toMatch(/^\d+mb$/);
    expect(Number.parseInt(worker.stop_grace_period, 10)).toBeGreaterThanOrEqual(90);
  });
});

describe('Kubernetes manifests', () => {
  it('the worker runs as the ServiceAccount the Role is bound to; the bot has no API token at all', async () => {
    const [account] = await kubernetes('serviceaccount.yaml');
    const binding = (await kubernetes('rbac.yaml')).find((d) => d.kind === 'RoleBinding') as Doc;
    expect(binding.subjects).toEqual([
      { kind: 'ServiceAccount', name: account?.metadata.name, namespace: account?.metadata.namespace },
    ]);
    const worker = (await kubernetes('worker.yaml')).find((d) => d.kind === 'Deployment') as Doc;
    const bot = (await kubernetes('bot.yaml')).find((d) => d.kind === 'Deployment') as Doc;
    expect(worker.spec.template.spec.serviceAccountName).toBe(account?.metadata.name);
    expect(bot.spec.template.spec.automountServiceAccountToken).toBe(false);
  });

  it('bot and worker: their role, the catalog where SERVICES_FILE says, probes on /healthz, a valid environment', async () => {
    for (const [file, role] of [
      ['bot.yaml', 'bot'],
      ['worker.yaml', 'worker'],
    ] as const) {
      const deployment = (await kubernetes(file)).find((d) => d.kind === 'Deployment') as Doc;
      const pod = deployment.spec.template.spec;
      const [container] = pod.containers;
      expect(container.command).toEqual(['node', '--enable-source-maps', 'dist/main.js', role]);
      const env = Object.fromEntries(container.env.map((e: Doc) => [e.name, e.value]));
      expect(() => loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_SIGNING_SECRET: 's', ...env })).not.toThrow();
      const catalogMount = container.volumeMounts.find((m: Doc) => m.name === 'catalog');
      expect(env.SERVICES_FILE.startsWith(`${catalogMount.mountPath}/`)).toBe(true);
      expect(pod.volumes.find((v: Doc) => v.name === 'catalog').configMap.name).toBe('switchyard-catalog');
      expect(container.readinessProbe.httpGet.path).toBe('/healthz');
      // Liveness never asks Redis: an outage makes pods unready, it does not restart them all.
      expect(container.livenessProbe.httpGet.path).toBe('/livez');
      expect(container.ports[0].containerPort).toBe(Number(env.PORT));
      expect(deployment.spec.template.metadata.annotations['prometheus.io/path']).toBe('/metrics');
    }
  });

  it('the kustomization lists every manifest and leaves namespaces as written', async () => {
    const kustomization = parse(await text('deploy/kubernetes/kustomization.yaml')) as Doc;
    expect(kustomization.namespace).toBeUndefined();
    expect([...kustomization.resources].sort()).toEqual([
      'bot.yaml',
      'namespace.yaml',
      'networkpolicy.yaml',
      'pdb.yaml',
      'rbac.yaml',
      'redis.yaml',
      'serviceaccount.yaml',
      'worker.yaml',
    ]);
    const redis = (await kubernetes('redis.yaml')).find((d) => d.kind === 'StatefulSet') as Doc;
    expect(redis.spec.template.spec.containers[0].args.join(' ')).toContain('--appendonly yes');
    expect(redis.spec.template.spec.containers[0].args.join(' ')).toContain('--maxmemory-policy noeviction');
  });
});

describe('Kubernetes manifests an SRE would accept', () => {
  const everything = async () =>
    (
      await Promise.all(
        ['namespace.yaml', 'bot.yaml', 'worker.yaml', 'redis.yaml', 'networkpolicy.yaml', 'pdb.yaml'].map(kubernetes),
      )
    ).flat();
  const workloads = async () => (await everything()).filter((d) => d.kind === 'Deployment' || d.kind === 'StatefulSet');
  const byName = async (name: string) => (await workloads()).find((d) => d.metadata.name === name) as Doc;
  const bytes = (quantity: string): number => {
    const match = /^(\d+)(Mi|Gi|mb|gb)$/i.exec(quantity);
    if (!match) throw new Error(`unexpected quantity ${quantity}`);
    const unit = match[2]!.toLowerCase();
    const factor = unit === 'mi' ? 2 ** 20 : unit === 'gi' ? 2 ** 30 : unit === 'mb' ? 2 ** 20 : 2 ** 30;
    return Number(match[1]) * factor;
  };

  it('every pod meets Pod Security "restricted", which the namespace enforces', async () => {
    const [namespace] = await kubernetes('namespace.yaml');
    expect(namespace?.metadata.labels['pod-security.kubernetes.io/enforce']).toBe('restricted');
    const all = await workloads();
    expect(all.map((d) => d.metadata.name).sort()).toEqual(['redis', 'switchyard-bot', 'switchyard-worker']);
    for (const workload of all) {
      const pod = workload.spec.template.spec;
      expect(pod.securityContext.runAsNonRoot, workload.metadata.name).toBe(true);
      expect(pod.securityContext.seccompProfile, workload.metadata.name).toEqual({ type: 'RuntimeDefault' });
      for (const container of pod.containers) {
        expect(container.securityContext.allowPrivilegeEscalation, container.name).toBe(false);
        expect(container.securityContext.capabilities.drop, container.name).toEqual(['ALL']);
        expect(container.livenessProbe, `${container.name} has a liveness probe`).toBeDefined();
      }
    }
  });

  it('REDIS_URL comes from the Secret alone, so a managed Redis set there is what the pods use', async () => {
    for (const name of ['switchyard-bot', 'switchyard-worker']) {
      const [container] = (await byName(name)).spec.template.spec.containers;
      expect(container.envFrom).toEqual([{ secretRef: { name: 'switchyard' } }]);
      expect(container.env.map((e: Doc) => e.name)).not.toContain('REDIS_URL');
    }
  });

  it('the bundled Redis requires the Secret’s password, stays below its memory limit and is reachable only from Switchyard', async () => {
    const redis = await byName('redis');
    const [container] = redis.spec.template.spec.containers;
    const args: string[] = container.args;
    expect(args[args.indexOf('--requirepass') + 1]).toBe('$(REDIS_PASSWORD)');
    const password = container.env.find((e: Doc) => e.name === 'REDIS_PASSWORD');
    expect(password.valueFrom.secretKeyRef).toEqual({ name: 'switchyard', key: 'REDIS_PASSWORD' });
    expect(container.env.find((e: Doc) => e.name === 'REDISCLI_AUTH').valueFrom.secretKeyRef.key).toBe(
      'REDIS_PASSWORD',
    );
    expect(bytes(args[args.indexOf('--maxmemory') + 1]!)).toBeLessThan(bytes(container.resources.limits.memory));
    expect(container.image).toMatch(/^redis:\d+\.\d+\.\d+-alpine$/);

    const policy = (await kubernetes('networkpolicy.yaml')).find((d) => d.kind === 'NetworkPolicy') as Doc;
    expect(policy.spec.podSelector.matchLabels).toEqual({
      'app.kubernetes.io/name': redis.spec.template.metadata.labels['app.kubernetes.io/name'],
    });
    expect(policy.spec.policyTypes).toEqual(['Ingress']);
    const allowed: string[] = policy.spec.ingress[0].from[0].podSelector.matchExpressions[0].values;
    const labelOf = async (name: string) =>
      (await byName(name)).spec.template.metadata.labels['app.kubernetes.io/name'];
    expect(allowed.sort()).toEqual([await labelOf('switchyard-bot'), await labelOf('switchyard-worker')].sort());
    expect(policy.spec.ingress).toHaveLength(1);
    expect(policy.spec.ingress[0].ports).toEqual([{ protocol: 'TCP', port: 6379 }]);
  });

  it('bot and worker survive drains (PodDisruptionBudgets, spread over nodes); the bot drains before it stops', async () => {
    const budgets = (await kubernetes('pdb.yaml')).filter((d) => d.kind === 'PodDisruptionBudget');
    for (const name of ['switchyard-bot', 'switchyard-worker']) {
      const workload = await byName(name);
      const labels = workload.spec.template.metadata.labels;
      const budget = budgets.find((b) =>
        Object.entries(b.spec.selector.matchLabels).every(([key, value]) => labels[key] === value),
      );
      expect(budget?.spec.minAvailable, `${name} has a PodDisruptionBudget`).toBe(1);
      expect(workload.spec.replicas).toBeGreaterThan(budget?.spec.minAvailable);
      const spread = workload.spec.template.spec.topologySpreadConstraints.map((c: Doc) => c.topologyKey);
      expect(spread).toContain('kubernetes.io/hostname');
    }
    const [bot] = (await byName('switchyard-bot')).spec.template.spec.containers;
    expect(bot.lifecycle.preStop.exec.command[0]).toBe('sleep');
    const worker = await byName('switchyard-worker');
    expect(worker.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(90);
  });
});
